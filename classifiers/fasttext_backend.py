"""fastText supervised classifier (the `fasttext` package; here the fasttext-numpy2 fork).

Texts go through normalize_texts before training and before predicting. Labels are
stored in sorted order and given to fastText as `__label__0`, `__label__1`, ... (their index), so
a label may hold any characters, spaces included. With thread=1 and a fixed seed training is
deterministic; with more threads fastText's Hogwild updates are not.

Model size: the input matrix has (vocabulary + bucket) x dim float32 rows, so the default
bucket (2,000,000) and dim 64 make a ~0.5 GB .bin; lower `bucket` for small data sets.

Workaround (installed fasttext-numpy2 0.10.4 build): training reads heap memory it never wrote.
Without care, two trainings in one process with thread=1 and the same seed differ, and on
small vocabularies garbage values (~1e19) end training in "Encountered NaN" even at lr 0.01.
`_zeroed_allocations` sets glibc's M_PERTURB (mallopt) to 0xff while fastText runs, so every
allocation starts zeroed: training is then deterministic and stable. Where mallopt is
unavailable (not glibc) it does nothing, and `train` still retries up to TRAIN_ATTEMPTS times on
NaN (seed, seed+1, ...; the seed used is recorded) before failing with a ConfigError.
No pyspark here.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from classifiers.normalize import normalize_texts
from pipeline.config import ConfigError

BACKEND = "fasttext"
MODEL_FILE = "model.bin"
_PREFIX = "__label__"
TRAIN_ATTEMPTS = 3
_M_PERTURB = -6          # glibc mallopt: malloc fills new blocks with (byte ^ 0xff), free with byte
_PERTURB_LOCK = threading.Lock()


def _mallopt():
    try:
        return ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None


@contextlib.contextmanager
def _zeroed_allocations():
    """While inside, malloc returns zero-filled memory (glibc only; a no-op elsewhere)."""
    mallopt = _mallopt()
    with _PERTURB_LOCK:
        enabled = bool(mallopt and mallopt(_M_PERTURB, 0xFF) == 1)
        try:
            yield enabled
        finally:
            if enabled:
                mallopt(_M_PERTURB, 0)


@dataclass(frozen=True)
class FastTextParams:
    lr: float = 0.3                 # learning rate
    epoch: int = 10                 # passes over the training data
    word_ngrams: int = 2            # max length of word n-grams (fastText's wordNgrams)
    dim: int = 64                   # embedding size
    min_count: int = 1              # drop words seen fewer times (fastText's minCount)
    bucket: int = 2_000_000         # hash buckets for n-grams: model size ~ bucket * dim * 4 bytes
    loss: str = "softmax"           # softmax | ova | hs | ns
    thread: int = 1                 # 1 = deterministic
    seed: int = 1

    def check(self) -> None:
        for name in ("epoch", "word_ngrams", "dim", "min_count", "bucket", "thread"):
            if getattr(self, name) < 1:
                raise ConfigError(f"fastText {name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ConfigError(f"fastText lr must be > 0, got {self.lr}")
        if self.loss not in ("softmax", "ova", "hs", "ns"):
            raise ConfigError(f"fastText loss must be one of softmax, ova, hs, ns, got {self.loss!r}")


class FastTextClassifier:
    backend = BACKEND

    def __init__(self, model, labels: Sequence[str], params: FastTextParams):
        self.model = model
        self.labels = tuple(labels)
        self.params = params

    @property
    def hyperparameters(self) -> dict:
        return asdict(self.params)

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[str],
              params: FastTextParams = FastTextParams()) -> "FastTextClassifier":
        import fasttext

        params.check()
        classes = tuple(sorted(set(labels)))  # model_files.train_model checked the data
        index = {label: i for i, label in enumerate(classes)}
        with tempfile.TemporaryDirectory(prefix="curate-fasttext-") as tmp:
            path = os.path.join(tmp, "train.txt")
            with open(path, "w", encoding="utf-8") as fh:
                for text, label in zip(normalize_texts(texts), labels):
                    fh.write(f"{_PREFIX}{index[label]} {text}\n")
            for attempt in range(TRAIN_ATTEMPTS):
                seed = params.seed + attempt
                try:
                    with _zeroed_allocations():
                        model = fasttext.train_supervised(
                            input=path, lr=params.lr, epoch=params.epoch, wordNgrams=params.word_ngrams,
                            dim=params.dim, minCount=params.min_count, bucket=params.bucket, loss=params.loss,
                            thread=params.thread, seed=seed, verbose=0)
                    break
                except RuntimeError as err:
                    if "NaN" not in str(err):
                        raise
            else:
                raise ConfigError(f"fastText training diverged (NaN) {TRAIN_ATTEMPTS} times with lr {params.lr}; "
                                  "lower --lr or --epoch")
        params = FastTextParams(**{**asdict(params), "seed": seed})
        return cls(model, classes, params)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """float64 (n, len(labels)) probabilities, columns in `labels` order, rows summing to 1."""
        return self.predict_normalized(normalize_texts(texts) if len(texts) else [])

    def predict_normalized(self, normalized: Sequence[str]) -> np.ndarray:
        """predict_proba of texts already normalised (normalize_texts)."""
        n_labels = len(self.labels)
        out = np.zeros((len(normalized), n_labels), dtype=np.float64)
        if not len(normalized):
            return out
        with _zeroed_allocations():
            predicted, probs = self.model.predict(normalized, k=-1, threshold=0.0)
        # Every label per text, most probable first; none for a text without a known word or n-gram.
        per_text = np.fromiter(map(len, predicted), np.int64, len(predicted))
        if per_text.any():
            columns = np.fromiter((int(name[len(_PREFIX):]) for names in predicted for name in names),
                                  np.int64, int(per_text.sum()))
            out[np.repeat(np.arange(len(predicted)), per_text), columns] = np.concatenate(probs)
        sums = out.sum(axis=1, keepdims=True)
        return np.divide(out, sums, out=np.full_like(out, 1.0 / n_labels), where=sums > 0)

    def save(self, directory: str | os.PathLike) -> list[str]:
        self.model.save_model(str(Path(directory) / MODEL_FILE))
        return [MODEL_FILE]

    @classmethod
    def load(cls, directory: str | os.PathLike, labels: Sequence[str], hyperparameters: dict
             ) -> "FastTextClassifier":
        import fasttext

        path = Path(directory) / MODEL_FILE
        if not path.is_file():
            raise ConfigError(f"{path}: fastText model file missing")
        with _zeroed_allocations():
            model = fasttext.load_model(str(path))
        known = {f"{_PREFIX}{i}" for i in range(len(labels))}
        if set(model.get_labels()) != known:
            raise ConfigError(f"{path}: the model's labels {sorted(model.get_labels())} do not match "
                              f"the {len(labels)} labels in model.json")
        fields = FastTextParams.__dataclass_fields__
        params = FastTextParams(**{k: v for k, v in hyperparameters.items() if k in fields})
        return cls(model, labels, params)
