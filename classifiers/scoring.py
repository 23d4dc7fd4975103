"""Batch scoring with trained classifiers: the function the classify job applies with mapInArrow.

Each model loads once per Python worker (a module-level cache keyed by its directory). A binary
model writes `<name>__score`, the probability of its positive label; a multi-class model (a
domain classifier) writes one `<name>__<label>` column per label and `<name>__label`, the most
probable label (what the mix groups tokens by).

Time limit: the models score in a sandbox child process (pipeline/sandbox.py), forked from the
worker once its models are loaded, a group of up to GROUP_DOCS documents per call, as one batch.
A group slower than min(classify.timeout_s, GROUP_TIMEOUT_S) is killed and scored again a
document at a time, each under classify.timeout_s, whether it hangs in Python or in C: a
document past it gets null scores and labels and `classify__timeout` = 1, which the stage
drops as `classify_timeout`. A document's probabilities are the same alone as in a batch.
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator

import numpy as np
import pyarrow as pa

from classifiers.metrics import default_positive_label
from classifiers.model_files import Classifier, load_model, read_sidecar
from classifiers.normalize import normalize_texts
from pipeline.config import ConfigError
from pipeline.sandbox import Failure, Sandbox

TIMEOUT_COLUMN = "classify__timeout"   # 1.0: the document passed classify.timeout_s (scores null)
TIMEOUT_REASON = "classify_timeout"
DEFAULT_TIMEOUT_S = 10.0
# Documents per call of the models in the sandbox child, their characters at most (each model
# reads at most the first 20,000 characters), and the limit of one such group before its
# documents are scored one at a time.
GROUP_DOCS = 64
GROUP_CHARS = 2_000_000
GROUP_TIMEOUT_S = 2.0

_MODELS: dict[str, Classifier] = {}
_SANDBOXES: dict[tuple, Sandbox] = {}


def _cached(directory: str) -> Classifier:
    if directory not in _MODELS:
        _MODELS[directory] = load_model(directory)
    return _MODELS[directory]


def score_columns(name: str, directory: str, positive_label: str | None = None) -> dict[str, str | None]:
    """{column: label} for one model: {'<name>__score': positive label} for a binary model,
    else {'<name>__<label>': label} per label. Reads only the sidecar (on the driver)."""
    labels = [str(label) for label in read_sidecar(directory)["labels"]]
    if len(labels) == 2:
        positive = positive_label or default_positive_label(labels)
        if positive not in labels:
            raise ConfigError(f"key 'classify.positive_labels.{name}': '{positive}' is not a label of "
                              f"{directory} ({', '.join(labels)})")
        return {f"{name}__score": positive}
    if positive_label:
        raise ConfigError(f"key 'classify.positive_labels.{name}': the model has {len(labels)} labels; "
                          "a positive label only applies to binary models")
    return {f"{name}__{re.sub(r'[^0-9A-Za-z_]+', '_', label)}": label for label in labels}


def label_column(name: str, columns: dict[str, str]) -> str | None:
    """The argmax-label column of a multi-class model; None for a binary one."""
    return f"{name}__label" if len(columns) > 1 else None


def score_batches(batches: Iterable[pa.RecordBatch], models: dict[str, str],
                  columns: dict[str, dict[str, str]], timeout_s: float = DEFAULT_TIMEOUT_S
                  ) -> Iterator[pa.RecordBatch]:
    """Every input row with the models' score columns (float32), label columns and
    `classify__timeout` (float32, 1 for a document past `timeout_s`: its scores are null)."""
    sandbox = _sandbox(models, timeout_s)
    for batch in batches:
        texts = [text or "" for text in batch.column("text").to_pylist()]
        results = sandbox.map(texts) if texts else []
        for i, result in enumerate(results):
            if isinstance(result, Failure) and result.kind != "timeout":
                raise RuntimeError(f"classifier scoring crashed on row {i} of a batch: {result.detail}")
        timed_out = np.array([isinstance(r, Failure) for r in results], dtype=bool)
        arrays, fields = list(batch.columns), list(batch.schema)
        for j, (name, directory) in enumerate(models.items()):
            model = _cached(directory)
            probabilities = np.zeros((len(texts), len(model.labels)))
            for i, result in enumerate(results):
                if not timed_out[i]:
                    probabilities[i] = result[j]
            labels = [str(label) for label in model.labels]
            for column, label in columns[name].items():
                arrays.append(pa.array(probabilities[:, labels.index(label)].astype(np.float32), pa.float32(),
                                       mask=timed_out))
                fields.append(pa.field(column, pa.float32()))
            top = label_column(name, columns[name])
            if top:
                arrays.append(pa.array([labels[i] for i in probabilities.argmax(axis=1)], pa.string(),
                                       mask=timed_out))
                fields.append(pa.field(top, pa.string()))
        arrays.append(pa.array(timed_out.astype(np.float32), pa.float32()))
        fields.append(pa.field(TIMEOUT_COLUMN, pa.float32()))
        yield pa.record_batch(arrays, schema=pa.schema(fields))


def _sandbox(models: dict[str, str], timeout_s: float) -> Sandbox:
    """One sandbox child per Python worker and set of models, forked once they are loaded here
    (the child shares them), reused by every later batch."""
    key = (tuple(models.items()), float(timeout_s))
    if key not in _SANDBOXES:
        for old in _SANDBOXES.values():
            old.close()
        _SANDBOXES.clear()
        loaded = [_cached(directory) for directory in models.values()]
        normalize_texts([""])        # builds the normalisation's tables here: every child forked shares them

        def score(texts: list[str]) -> list[tuple[list[float], ...]]:
            """Per text, each model's probabilities (float64, as lists: exact through pickling); the
            texts normalised once for all the models."""
            normalized = normalize_texts(texts)
            return list(zip(*(model.predict_normalized(normalized).tolist() for model in loaded)))

        _SANDBOXES[key] = Sandbox(score, timeout_s, batched=True, chunk_size=GROUP_DOCS, weigh=len,
                                  chunk_weight=GROUP_CHARS, group_timeout_s=min(timeout_s, GROUP_TIMEOUT_S))
    return _SANDBOXES[key]
