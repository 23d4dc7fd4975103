"""Batch scoring with trained classifiers: the function the classify job applies with mapInArrow.

Each model loads once per Python worker (a module-level cache keyed by its directory). A binary
model writes `<name>__score`, the probability of its positive label; a multi-class model (a
domain classifier) writes one `<name>__<label>` column per label and `<name>__label`, the most
probable label (what the mix groups tokens by).
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator

import numpy as np
import pyarrow as pa

from classifiers.metrics import default_positive_label
from classifiers.model_files import Classifier, load_model, read_sidecar
from pipeline.config import ConfigError

_MODELS: dict[str, Classifier] = {}


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
                  columns: dict[str, dict[str, str]]) -> Iterator[pa.RecordBatch]:
    """Every input row with the models' score columns (float32) and label columns appended."""
    for batch in batches:
        texts = [text or "" for text in batch.column("text").to_pylist()]
        arrays, fields = list(batch.columns), list(batch.schema)
        for name, directory in models.items():
            model = _cached(directory)
            probabilities = model.predict_proba(texts) if texts else np.zeros((0, len(model.labels)))
            labels = [str(label) for label in model.labels]
            for column, label in columns[name].items():
                arrays.append(pa.array(probabilities[:, labels.index(label)].astype(np.float32), pa.float32()))
                fields.append(pa.field(column, pa.float32()))
            top = label_column(name, columns[name])
            if top:
                arrays.append(pa.array([labels[i] for i in probabilities.argmax(axis=1)], pa.string()))
                fields.append(pa.field(top, pa.string()))
        yield pa.record_batch(arrays, schema=pa.schema(fields))
