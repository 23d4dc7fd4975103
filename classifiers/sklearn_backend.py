"""Hashed word 1-2 grams + logistic regression (scikit-learn), saved without pickle.

HashingVectorizer has no fitted state, so a model is its parameters (JSON) plus the regression's
arrays. `save` writes `vectorizer.json` and `logreg.npz` (the non-zero coefficient columns, their
indices, the intercepts and the classes as a unicode array); `load` reads them with
allow_pickle=False and rebuilds the estimator, so loading a model never runs code.

Pickles (`.pkl`, `.pickle`, `.joblib`, or any file that starts with the pickle protocol bytes)
are refused by `refuse_pickle`: unpickling executes arbitrary code from the file.
No pyspark here.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from classifiers.normalize import normalize_texts
from pipeline.config import ConfigError

BACKEND = "sklearn"
VECTORIZER_FILE = "vectorizer.json"
ARRAYS_FILE = "logreg.npz"
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
_VECTORIZER_VERSION = 1


@dataclass(frozen=True)
class SklearnParams:
    n_features: int = 1 << 20       # hash space of the vectorizer
    ngram_max: int = 2              # word n-grams 1..ngram_max
    c: float = 4.0                  # inverse L2 regularisation strength of the regression
    max_iter: int = 1000
    seed: int = 1

    def check(self) -> None:
        if self.n_features < 2 or self.ngram_max < 1 or self.max_iter < 1:
            raise ConfigError(f"bad sklearn parameters {asdict(self)}: n_features >= 2, ngram_max >= 1, "
                              "max_iter >= 1")
        if not self.c > 0:
            raise ConfigError(f"sklearn c must be > 0, got {self.c}")


def refuse_pickle(path: str | os.PathLike) -> None:
    """Raise ConfigError when `path` is (or looks like) a pickle; do nothing for other files."""
    path = Path(path)
    looks = path.name.lower().endswith(PICKLE_SUFFIXES)
    if not looks and path.is_file():
        with open(path, "rb") as fh:
            head = fh.read(2)
        looks = len(head) == 2 and head[0] == 0x80 and 1 <= head[1] <= 5  # PROTO opcode + version
    if looks:
        raise ConfigError(f"{path}: refusing to load a pickle: pickles execute code on load. "
                          "Re-save the model with classifiers.model_files.save_model (arrays + JSON)")


def _vectorizer(params: SklearnParams):
    from sklearn.feature_extraction.text import HashingVectorizer

    # The text is already normalised (lowercase, punctuation split): split on spaces only.
    return HashingVectorizer(n_features=params.n_features, ngram_range=(1, params.ngram_max),
                             alternate_sign=False, norm="l2", lowercase=False,
                             token_pattern=r"\S+", dtype=np.float64)


def _estimator(coef: np.ndarray, intercept: np.ndarray, classes, params: SklearnParams):
    """A fitted LogisticRegression made from its arrays (how both train and load build one)."""
    from sklearn.linear_model import LogisticRegression

    estimator = LogisticRegression(C=params.c, max_iter=params.max_iter, random_state=params.seed)
    estimator.coef_ = np.asarray(coef, dtype=np.float64)
    estimator.intercept_ = np.asarray(intercept, dtype=np.float64)
    estimator.classes_ = np.array([str(c) for c in classes])
    estimator.n_features_in_ = estimator.coef_.shape[1]
    estimator.n_iter_ = np.zeros(1, dtype=np.int32)
    return estimator


class SklearnClassifier:
    backend = BACKEND

    def __init__(self, estimator, labels: Sequence[str], params: SklearnParams):
        self.estimator = estimator
        self.labels = tuple(labels)
        self.params = params
        self.vectorizer = _vectorizer(params)
        if tuple(str(c) for c in estimator.classes_) != self.labels:
            raise ValueError(f"estimator classes {list(estimator.classes_)} != labels {list(self.labels)}")

    @property
    def hyperparameters(self) -> dict:
        return asdict(self.params)

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[str],
              params: SklearnParams = SklearnParams()) -> "SklearnClassifier":
        from sklearn.linear_model import LogisticRegression

        params.check()
        classes = sorted(set(labels))  # model_files.train_model checked the data
        features = _vectorizer(params).transform(normalize_texts(texts)).tocsc()
        # Fit on the hashed columns the data uses, then place the coefficients back in the full hash
        # space: the same optimum (an unused column's L2-penalised weight is 0), many times faster.
        columns = np.flatnonzero(np.diff(features.indptr))
        fitted = LogisticRegression(C=params.c, max_iter=params.max_iter, solver="lbfgs",
                                    random_state=params.seed)
        fitted.fit(features[:, columns].tocsr(), np.array(labels, dtype=str))
        coef = np.zeros((fitted.coef_.shape[0], params.n_features), dtype=np.float64)
        coef[:, columns] = fitted.coef_
        estimator = _estimator(coef, fitted.intercept_, fitted.classes_, params)
        return cls(estimator, classes, params)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """float64 (n, len(labels)) probabilities, columns in `labels` order (sorted)."""
        return self.predict_normalized(normalize_texts(texts) if len(texts) else [])

    def predict_normalized(self, normalized: Sequence[str]) -> np.ndarray:
        """predict_proba of texts already normalised (normalize_texts)."""
        if not len(normalized):
            return np.zeros((0, len(self.labels)), dtype=np.float64)
        return self.estimator.predict_proba(self.vectorizer.transform(normalized))

    def save(self, directory: str | os.PathLike) -> list[str]:
        directory = Path(directory)
        coef = np.asarray(self.estimator.coef_, dtype=np.float64)
        columns = np.flatnonzero(np.any(coef != 0, axis=0)).astype(np.int64)
        np.savez_compressed(directory / ARRAYS_FILE, columns=columns, coef=coef[:, columns],
                            n_features=np.int64(coef.shape[1]),
                            intercept=np.asarray(self.estimator.intercept_, dtype=np.float64),
                            classes=np.array(self.labels, dtype=np.str_))
        spec = {"version": _VECTORIZER_VERSION, "type": "HashingVectorizer",
                **self.vectorizer.get_params(deep=False)}
        spec["ngram_range"] = list(spec["ngram_range"])
        spec["dtype"] = np.dtype(spec["dtype"]).name
        (directory / VECTORIZER_FILE).write_text(json.dumps(spec, indent=2, sort_keys=True, default=str) + "\n")
        return [VECTORIZER_FILE, ARRAYS_FILE]

    @classmethod
    def load(cls, directory: str | os.PathLike, labels: Sequence[str], hyperparameters: dict
             ) -> "SklearnClassifier":
        directory = Path(directory)
        for name in os.listdir(directory):
            refuse_pickle(directory / name)
        arrays_path, spec_path = directory / ARRAYS_FILE, directory / VECTORIZER_FILE
        for path in (arrays_path, spec_path):
            if not path.is_file():
                raise ConfigError(f"{path}: sklearn model file missing")
        fields = SklearnParams.__dataclass_fields__
        params = SklearnParams(**{k: v for k, v in hyperparameters.items() if k in fields})
        spec = json.loads(spec_path.read_text())
        if spec.get("version") != _VECTORIZER_VERSION or spec.get("n_features") != params.n_features \
                or spec.get("ngram_range") != [1, params.ngram_max]:
            raise ConfigError(f"{spec_path}: vectorizer spec does not match model.json's hyper-parameters")
        try:
            with np.load(arrays_path, allow_pickle=False) as data:
                columns, values = data["columns"], data["coef"]
                n_features, intercept, classes = int(data["n_features"]), data["intercept"], data["classes"]
        except (ValueError, KeyError, OSError) as err:
            raise ConfigError(f"{arrays_path}: not a valid model array file ({err})") from err
        if tuple(str(c) for c in classes) != tuple(labels):
            raise ConfigError(f"{arrays_path}: classes {list(classes)} do not match model.json labels {list(labels)}")
        coef = np.zeros((values.shape[0], n_features), dtype=np.float64)
        coef[:, columns] = values
        return cls(_estimator(coef, intercept, classes, params), labels, params)
