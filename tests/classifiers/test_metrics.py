import numpy as np
import pytest

from classifiers.metrics import classification_metrics, default_positive_label
from pipeline.config import ConfigError


@pytest.mark.parametrize("labels, positive", [
    (["hq", "lq"], "hq"), (["0", "1"], "1"), (["negative", "positive"], "positive"),
    (["cat", "dog"], "dog"), (["HQ", "other"], "HQ"),
])
def test_default_positive_label(labels, positive):
    assert default_positive_label(labels) == positive


def test_binary_metrics_with_positive_label():
    labels = ["hq", "lq"]
    y = ["hq", "hq", "lq", "lq"]
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7]])
    m = classification_metrics(y, proba, labels)
    assert m["positive_label"] == "hq"
    assert m["precision"] == 1.0 and m["recall"] == 0.5 and m["accuracy"] == 0.75
    assert m["roc_auc"] == 1.0
    assert m["confusion_matrix"] == {"labels": labels, "matrix": [[1, 1], [0, 2]]}
    other = classification_metrics(y, proba, labels, positive_label="lq")
    assert other["recall"] == 1.0 and other["precision"] == pytest.approx(2 / 3)
    with pytest.raises(ConfigError, match="not one of the labels"):
        classification_metrics(y, proba, labels, positive_label="nope")


def test_multiclass_macro_metrics():
    labels = ["a", "b", "c"]
    y = ["a", "b", "c", "c"]
    proba = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.6, 0.2, 0.2]])
    m = classification_metrics(y, proba, labels)
    assert m["average"] == "macro"
    assert m["recall"] == pytest.approx((1 + 1 + 0.5) / 3)
    assert m["precision"] == pytest.approx((0.5 + 1 + 1) / 3)
    assert m["confusion_matrix"]["matrix"] == [[1, 0, 0], [0, 1, 0], [1, 0, 1]]
    assert 0.5 < m["roc_auc"] <= 1.0


def test_single_class_held_out_has_no_auc():
    m = classification_metrics(["hq", "hq"], np.array([[0.7, 0.3], [0.2, 0.8]]), ["hq", "lq"])
    assert m["roc_auc"] is None and m["accuracy"] == 0.5
