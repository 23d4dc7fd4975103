"""Held-out evaluation of a classifier from true labels and predicted probabilities.

Binary: precision, recall and f1 of the positive class; ROC-AUC of its probability. The positive
class is the one asked for, else the first label named like a "good" class (hq, high_quality,
positive, pos, good, 1, true, yes, ...), else the second label in sorted order.
Multi-class: macro-averaged precision, recall and f1, and one-vs-rest macro ROC-AUC; per-class
figures are reported too. Always: accuracy and the confusion matrix (rows = true label,
columns = predicted label, both in `labels` order). ROC-AUC is None when the held-out labels
hold a single class (it is undefined). No pyspark here.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from pipeline.config import ConfigError

POSITIVE_NAMES = ("hq", "high_quality", "high", "positive", "pos", "good", "keep", "1", "true", "yes")


def default_positive_label(labels: Sequence[str]) -> str:
    by_lower = {str(label).lower(): label for label in labels}
    for name in POSITIVE_NAMES:
        if name in by_lower:
            return by_lower[name]
    return sorted(labels)[1]


def classification_metrics(y_true: Sequence[str], proba: np.ndarray, labels: Sequence[str],
                           positive_label: str | None = None) -> dict:
    """Metrics as a JSON-ready dict; `proba` columns are in `labels` order."""
    from sklearn.metrics import (accuracy_score, confusion_matrix, precision_recall_fscore_support,
                                 roc_auc_score)

    labels = list(labels)
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape != (len(y_true), len(labels)):
        raise ValueError(f"proba has shape {proba.shape}, expected ({len(y_true)}, {len(labels)})")
    unknown = sorted(set(y_true) - set(labels))
    if unknown:
        raise ValueError(f"true labels {unknown} are not among the model's labels {labels}")
    y_true = np.array(y_true, dtype=object)
    y_pred = np.array(labels, dtype=object)[proba.argmax(axis=1)] if len(labels) else y_true
    true_index = np.array([labels.index(y) for y in y_true], dtype=np.int64)
    present = len(set(true_index.tolist())) > 1
    out: dict = {
        "labels": labels,
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "confusion_matrix": {"labels": labels,
                             "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()},
    }
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                                     zero_division=0)
    out["per_class"] = {label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                        for label, p, r, f, s in zip(labels, precision, recall, f1, support)}
    if len(labels) == 2:
        positive = default_positive_label(labels) if positive_label is None else positive_label
        if positive not in labels:
            raise ConfigError(f"positive label {positive!r} is not one of the labels {labels}")
        k = labels.index(positive)
        out.update(average="binary", positive_label=positive, precision=float(precision[k]),
                   recall=float(recall[k]), f1=float(f1[k]),
                   roc_auc=float(roc_auc_score(true_index == k, proba[:, k])) if present else None)
    else:
        if positive_label is not None:
            raise ConfigError(f"a positive label only applies to 2 labels; this model has {len(labels)}")
        out.update(average="macro", precision=float(np.mean(precision)), recall=float(np.mean(recall)),
                   f1=float(np.mean(f1)), roc_auc=None)
        if present:
            rows = proba / proba.sum(axis=1, keepdims=True)
            try:
                out["roc_auc"] = float(roc_auc_score(true_index, rows, multi_class="ovr", average="macro",
                                                     labels=list(range(len(labels)))))
            except ValueError:  # a label absent from the held-out set: one-vs-rest AUC undefined for it
                out["roc_auc"] = None
    return out
