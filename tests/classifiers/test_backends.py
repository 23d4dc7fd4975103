"""Both backends on a seeded separable data set (300 hq well-formed sentences vs 300 lq spam /
boilerplate): held-out ROC-AUC >= 0.95, save/load round trips, pickles refused."""
import json
import pickle

import numpy as np
import pytest

from classifiers.model_files import SIDECAR, load_model, save_model, train_model, training_data_sha256
from classifiers.normalize import NORMALIZATION_VERSION
from classifiers.metrics import classification_metrics
from classifiers.sklearn_backend import refuse_pickle
from classifiers.training import stratified_split
from pipeline.config import ConfigError
from tests.classifiers.data import multiclass_dataset, quality_dataset

FAST = {"fasttext": dict(epoch=20, lr=0.5, dim=16, bucket=50_000), "sklearn": {}}


@pytest.fixture(scope="module")
def quality():
    texts, labels = quality_dataset()
    train, test = stratified_split(labels, 0.2, seed=1)
    return ([texts[i] for i in train], [labels[i] for i in train],
            [texts[i] for i in test], [labels[i] for i in test])


@pytest.fixture(scope="module", params=["fasttext", "sklearn"])
def trained(request, quality):
    train_x, train_y, _, _ = quality
    return train_model(request.param, train_x, train_y, **FAST[request.param])


def test_held_out_roc_auc(trained, quality):
    _, _, test_x, test_y = quality
    proba = trained.predict_proba(test_x)
    assert proba.shape == (len(test_x), 2) and trained.labels == ("hq", "lq")
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    m = classification_metrics(test_y, proba, trained.labels)
    assert m["roc_auc"] >= 0.95, m
    assert m["positive_label"] == "hq" and m["accuracy"] >= 0.9


def test_save_load_identical_probabilities(trained, quality, tmp_path):
    train_x, train_y, test_x, _ = quality
    sha = training_data_sha256(train_x, train_y)
    save_model(trained, tmp_path / "m", training_data_sha256=sha, metrics={"roc_auc": 1.0})
    sidecar = json.loads((tmp_path / "m" / SIDECAR).read_text())
    assert sidecar["backend"] == trained.backend and sidecar["labels"] == ["hq", "lq"]
    assert sidecar["training_data_sha256"] == sha and sidecar["normalization"] == NORMALIZATION_VERSION
    assert sidecar["created_at"].endswith("+00:00") and sidecar["hyperparameters"] == trained.hyperparameters
    loaded = load_model(tmp_path / "m")
    assert loaded.labels == trained.labels
    np.testing.assert_array_equal(loaded.predict_proba(test_x), trained.predict_proba(test_x))


def test_training_is_deterministic(quality):
    train_x, train_y, test_x, _ = quality
    a = train_model("fasttext", train_x, train_y, **FAST["fasttext"]).predict_proba(test_x[:20])
    b = train_model("fasttext", train_x, train_y, **FAST["fasttext"]).predict_proba(test_x[:20])
    np.testing.assert_array_equal(a, b)


def test_training_data_sha256_depends_on_order_and_labels():
    base = training_data_sha256(["a", "b"], ["x", "y"])
    assert base == training_data_sha256(["a", "b"], ["x", "y"])
    assert base != training_data_sha256(["b", "a"], ["y", "x"])
    assert base != training_data_sha256(["a", "b"], ["x", "x"])


def test_multiclass_sklearn():
    texts, labels = multiclass_dataset(60)
    train, test = stratified_split(labels, 0.25, seed=3)
    model = train_model("sklearn", [texts[i] for i in train], [labels[i] for i in train])
    m = classification_metrics([labels[i] for i in test], model.predict_proba([texts[i] for i in test]), model.labels)
    assert model.labels == ("code", "general", "math_reasoning")
    assert m["average"] == "macro" and m["f1"] >= 0.95 and m["roc_auc"] >= 0.95


@pytest.mark.parametrize("name", ["model.pkl", "model.pickle", "model.joblib", "innocent.npz"])
def test_pickles_are_refused(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(pickle.dumps({"coef": [1.0]}, protocol=4))
    with pytest.raises(ConfigError, match="pickles execute code on load") as err:
        refuse_pickle(path)
    assert name in str(err.value)
    with pytest.raises(ConfigError, match="refusing to load a pickle"):
        load_model(path)


def test_pickle_inside_sklearn_model_dir_is_refused(quality, tmp_path):
    train_x, train_y, _, _ = quality
    model = train_model("sklearn", train_x[:100], train_y[:100])
    save_model(model, tmp_path / "m")
    (tmp_path / "m" / "logreg.npz").write_bytes(pickle.dumps([1, 2]))  # swapped for a pickle
    with pytest.raises(ConfigError, match=r"logreg\.npz: refusing to load a pickle"):
        load_model(tmp_path / "m")


def test_load_model_checks_sidecar(quality, tmp_path):
    train_x, train_y, _, _ = quality
    save_model(train_model("sklearn", train_x[:100], train_y[:100]), tmp_path / "m")
    path = tmp_path / "m" / SIDECAR
    sidecar = json.loads(path.read_text())
    with pytest.raises(ConfigError, match="model.json: missing"):
        load_model(tmp_path)
    path.write_text(json.dumps({**sidecar, "normalization": "classifier_norm_v0"}))
    with pytest.raises(ConfigError, match="retrain"):
        load_model(tmp_path / "m")
    path.write_text(json.dumps({**sidecar, "backend": "xgboost"}))
    with pytest.raises(ConfigError, match="known: fasttext, sklearn"):
        load_model(tmp_path / "m")


def test_unknown_hyperparameter_is_refused():
    with pytest.raises(ConfigError, match="unknown fasttext hyper-parameter"):
        train_model("fasttext", ["a", "b"], ["x", "y"], wordNgrams=2)


def test_fasttext_trains_on_a_tiny_repetitive_vocabulary():
    """This used to end in 'Encountered NaN' (fastText reading memory it never wrote)."""
    texts, labels = ["hello world"] * 100 + ["foo bar"] * 100, ["a"] * 100 + ["b"] * 100
    runs = [train_model("fasttext", texts, labels, word_ngrams=1).predict_proba(["hello", "foo"]) for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert runs[0][0, 0] > 0.9 and runs[0][1, 1] > 0.9
