"""One on-disk layout for every classifier backend: the backend's files plus `model.json`.

    DIR/model.json     format, format_version, backend, labels (column order of predict_proba),
                       training_data_sha256, hyperparameters, metrics, created_at (UTC ISO),
                       normalization (NORMALIZATION_VERSION), files
    DIR/<backend files>  fasttext: model.bin; sklearn: vectorizer.json + logreg.npz

`load_model` checks the sidecar (format, version, normalisation, backend, files present,
no pickles) before dispatching to the backend, and fails with a ConfigError naming the file.

A model directory may be an object-store URI (s3a://bucket/models/quality): `read_sidecar` reads
its model.json remotely, `load_model` loads from a local copy fetched once per machine
(pipeline.storage.local_copy, keyed by URI, sizes and modification times), so an executor
downloads a model once, not once per task. `check_models` is the classify stage's check before
Spark starts (pipeline/stages.py). No pyspark here.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Iterable, Protocol, Sequence

import numpy as np

from classifiers.fasttext_backend import FastTextClassifier, FastTextParams
from classifiers.normalize import NORMALIZATION_VERSION
from classifiers.sklearn_backend import SklearnClassifier, SklearnParams, refuse_pickle
from pipeline import storage
from pipeline.config import ConfigError
from pipeline.io import is_remote, join

SIDECAR = "model.json"
FORMAT = "curate-classifier"
FORMAT_VERSION = 1
BACKENDS = {"fasttext": FastTextClassifier, "sklearn": SklearnClassifier}
PARAMS = {"fasttext": FastTextParams, "sklearn": SklearnParams}


class Classifier(Protocol):
    backend: str
    labels: tuple[str, ...]

    @property
    def hyperparameters(self) -> dict: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    # The same on texts already through classifiers.normalize.normalize_texts: models that score
    # the same documents share one normalisation (classifiers/scoring.py).
    def predict_normalized(self, normalized: Sequence[str]) -> np.ndarray: ...

    def save(self, directory: str | os.PathLike) -> list[str]: ...


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ConfigError(f"unknown classifier backend {backend!r} (known: {', '.join(sorted(BACKENDS))})")


def check_hyperparameters(backend: str, params: dict) -> None:
    """ConfigError naming the unknown ones when `params` are not fields of the backend's *Params."""
    _check_backend(backend)
    known = PARAMS[backend].__dataclass_fields__
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ConfigError(f"unknown {backend} hyper-parameter(s) {unknown} "
                          f"(known: {', '.join(k for k in known if k != 'seed')})")


def train_model(backend: str, texts: Sequence[str], labels: Sequence[str], **params) -> Classifier:
    """Train `backend` on (texts, labels); `params` are the fields of its *Params dataclass."""
    check_hyperparameters(backend, params)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ConfigError(f"need at least 2 labels to train a classifier, got {classes}")
    return BACKENDS[backend].train(texts, labels, PARAMS[backend](**params))


def training_data_sha256(texts: Iterable[str], labels: Iterable[str]) -> str:
    """sha256 over the (text, label) pairs in order, one JSON array per line."""
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(json.dumps([text, label], ensure_ascii=False).encode("utf-8", "surrogatepass"))
        digest.update(b"\n")
    return digest.hexdigest()


def save_model(model: Classifier, directory: str | os.PathLike, *, training_data_sha256: str | None = None,
               metrics: dict | None = None, extra: dict | None = None) -> dict:
    """Write the backend's files and model.json into `directory` (created); returns the sidecar."""
    _check_backend(model.backend)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = model.save(directory)
    sidecar = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "backend": model.backend,
        "labels": list(model.labels),
        "training_data_sha256": training_data_sha256,
        "hyperparameters": model.hyperparameters,
        "metrics": metrics or {},
        "created_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "normalization": NORMALIZATION_VERSION,
        "files": files,
        **(extra or {}),
    }
    (directory / SIDECAR).write_text(json.dumps(sidecar, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return sidecar


def models_identity(config) -> dict:
    """The classify stage's models as its run key sees them: each model.json (it names the
    training data's sha256 and the files), so a retrained model reruns the stage."""
    from pipeline.io import read_text

    options = storage.storage_options(config.spark.conf)
    return {name: read_text(join(directory, SIDECAR), options) for name, directory in config.classify.models.items()}


def check_models(config) -> None:
    """The classify stage's check, before Spark starts: at least one model; each model.json reads
    and each model loads, fetched as executors will fetch it (a local copy of a URI); each
    positive label is a label of its model. ConfigError naming the key and the file."""
    from classifiers.scoring import score_columns   # scoring imports this module

    models = config.classify.models
    if not models:
        raise ConfigError("key 'classify.models': name at least one model directory, e.g. "
                          "--set 'classify.models={quality: models/quality}'")
    options = storage.storage_options(config.spark.conf)
    for name, directory in models.items():
        try:
            load_model(directory, options)
        except ConfigError as err:
            raise ConfigError(f"key 'classify.models.{name}': {err}") from None
        except Exception as err:   # a backend's own failure on a corrupt file (fastText: ValueError)
            detail = " ".join(str(err).split())[:200]
            raise ConfigError(f"key 'classify.models.{name}': {directory}: the model does not load "
                              f"({type(err).__name__}: {detail})") from None
        local = storage.local_copy(str(directory), options)    # a URI's copy, fetched by load_model above
        try:
            score_columns(name, local, config.classify.positive_labels.get(name))
        except ConfigError as err:
            raise ConfigError(str(err).replace(local, str(directory).rstrip("/"))) from None


def with_storage_settings(batches, *, apply, options: dict, **kwargs):
    """mapInArrow body: `apply(batches, **kwargs)` in a Python worker whose default storage
    settings are `options` (so load_model, called by classifiers/scoring.py with a directory
    only, fetches a remote model with the run's endpoint and credentials)."""
    storage.configure(options)
    yield from apply(batches, **kwargs)


def read_sidecar(directory: str | os.PathLike, options: dict | None = None) -> dict:
    if is_remote(str(directory)):
        path = join(str(directory), SIDECAR)
        try:
            text = storage.read_bytes(path, options).decode("utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{path}: missing; a model directory is written by "
                              "classifiers.model_files.save_model") from None
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"{path}: cannot read ({' '.join(str(err).split())[:200]})") from None
    else:
        directory = Path(directory)
        refuse_pickle(directory)
        if not directory.is_dir():
            raise ConfigError(f"{directory}: not a model directory (expected a folder holding {SIDECAR})")
        path = directory / SIDECAR
        if not path.is_file():
            raise ConfigError(f"{path}: missing; a model directory is written by classifiers.model_files.save_model")
        text = path.read_text(encoding="utf-8")
    try:
        sidecar = json.loads(text)
    except ValueError as err:
        raise ConfigError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(sidecar, dict) or sidecar.get("format") != FORMAT:
        raise ConfigError(f"{path}: not a {FORMAT} sidecar")
    if sidecar.get("format_version") != FORMAT_VERSION:
        raise ConfigError(f"{path}: format_version {sidecar.get('format_version')!r}, this code reads {FORMAT_VERSION}")
    if sidecar.get("normalization") != NORMALIZATION_VERSION:
        raise ConfigError(f"{path}: trained under text normalisation {sidecar.get('normalization')!r} but this "
                          f"code applies {NORMALIZATION_VERSION!r}; retrain the model")
    labels = sidecar.get("labels")
    if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) for x in labels):
        raise ConfigError(f"{path}: 'labels' must be a list of at least 2 strings")
    return sidecar


def load_model(directory: str | os.PathLike, options: dict | None = None) -> Classifier:
    """The classifier saved in `directory` (a local path, or a URI loaded from its local copy:
    pipeline.storage.local_copy with `options`, else the process's storage settings); ConfigError
    naming the file for anything wrong."""
    if is_remote(str(directory)):
        read_sidecar(directory, options)     # a missing or foreign model.json fails before any download
        try:
            local = storage.local_copy(str(directory), options)
        except OSError as err:
            raise ConfigError(f"{directory}: cannot fetch the model ({' '.join(str(err).split())[:200]})") from None
        try:
            return load_model(local)
        except ConfigError as err:           # name the URI the user gave, not the cache
            raise ConfigError(str(err).replace(local, str(directory).rstrip("/"))) from None
    sidecar = read_sidecar(directory)
    backend = sidecar.get("backend")
    try:
        _check_backend(backend)
    except ConfigError as err:
        raise ConfigError(f"{Path(directory) / SIDECAR}: {err}") from None
    for name in sidecar.get("files", []):
        refuse_pickle(Path(directory) / name)
        if not (Path(directory) / name).is_file():
            raise ConfigError(f"{Path(directory) / name}: listed in {SIDECAR} but missing")
    return BACKENDS[backend].load(directory, sidecar["labels"], sidecar.get("hyperparameters") or {})
