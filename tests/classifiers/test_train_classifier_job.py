"""jobs/train_classifier.py in-process (no Spark): outputs, metrics keys, one-line errors with exit 2."""
import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from classifiers.model_files import load_model
from classifiers.training import min_examples_per_label, stratified_split
from jobs.train_classifier import main
from tests.classifiers.data import multiclass_dataset, quality_dataset

SMALL_FT = ["--dim", "16", "--bucket", "50000"]
KEYS = {"roc_auc", "precision", "recall", "f1", "accuracy", "confusion_matrix", "labels", "train_size", "test_size"}


def _parquet(path, texts, labels, text_column="text", label_column="label"):
    pq.write_table(pa.table({text_column: texts, label_column: labels}), path)
    return str(path)


def _jsonl_gz(path, rows):
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    return str(path)


@pytest.mark.parametrize("backend", ["fasttext", "sklearn"])
def test_binary_parquet(tmp_path, backend, capsys):
    texts, labels = quality_dataset()
    data = _parquet(tmp_path / "q.parquet", texts, labels)
    out = tmp_path / "model"
    extra = SMALL_FT if backend == "fasttext" else []
    assert main(["--input", data, "--backend", backend, "--output", str(out), *extra]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert KEYS <= set(metrics)
    assert metrics["roc_auc"] >= 0.95 and metrics["positive_label"] == "hq"
    assert metrics["train_size"] == 480 and metrics["test_size"] == 120 and metrics["labels"] == ["hq", "lq"]
    assert sum(map(sum, metrics["confusion_matrix"]["matrix"])) == 120
    card = (out / "MODEL_CARD.md").read_text()
    assert "## Intended use" in card and "## Limits" in card and backend in card
    sidecar = json.loads((out / "model.json").read_text())
    assert sidecar["metrics"]["roc_auc"] == metrics["roc_auc"] and len(sidecar["training_data_sha256"]) == 64
    model = load_model(out)
    assert model.predict_proba(texts[:3]).shape == (3, 2)
    printed = capsys.readouterr().out
    assert "[train_classifier] split: 480 train, 120 test" in printed and "roc_auc=" in printed


def test_multiclass_jsonl_gz_with_other_columns(tmp_path):
    texts, labels = multiclass_dataset(60)
    rows = [{"body": t, "domain": l, "id": i} for i, (t, l) in enumerate(zip(texts, labels))]
    rows.append({"body": None, "domain": "code"})  # dropped: null text
    data = _jsonl_gz(tmp_path / "d.jsonl.gz", rows)
    out = tmp_path / "m"
    rc = main(["--input", data, "--text-column", "body", "--label-column", "domain", "--backend", "fasttext",
               "--output", str(out), "--test-fraction", "0.25", *SMALL_FT])
    assert rc == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["average"] == "macro" and m["labels"] == ["code", "general", "math_reasoning"]
    assert m["f1"] >= 0.9 and m["roc_auc"] >= 0.95 and m["test_size"] == 45
    assert set(m["per_class"]) == {"code", "general", "math_reasoning"}


def test_numeric_labels_and_positive_label(tmp_path):
    texts, labels = quality_dataset(60)
    data = _parquet(tmp_path / "n.parquet", texts, [1 if l == "hq" else 0 for l in labels])
    assert main(["--input", data, "--backend", "sklearn", "--output", str(tmp_path / "a")]) == 0
    assert json.loads((tmp_path / "a" / "metrics.json").read_text())["positive_label"] == "1"
    assert main(["--input", data, "--backend", "sklearn", "--output", str(tmp_path / "b"),
                 "--positive-label", "0"]) == 0
    assert json.loads((tmp_path / "b" / "metrics.json").read_text())["positive_label"] == "0"


def _bad(tmp_path, capsys, args, match):
    assert main([*args, "--output", str(tmp_path / "out"), "--backend", "sklearn"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and match in err, err
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_missing_file(tmp_path, capsys):
    _bad(tmp_path, capsys, ["--input", str(tmp_path / "nope.parquet")], "nope.parquet: no such file")


def test_missing_column(tmp_path, capsys):
    data = _parquet(tmp_path / "x.parquet", ["a"] * 10, ["x"] * 10, text_column="content")
    _bad(tmp_path, capsys, ["--input", data], "no column 'text' (columns: content, label)")


def test_single_label(tmp_path, capsys):
    data = _parquet(tmp_path / "x.parquet", [f"t {i}" for i in range(20)], ["hq"] * 20)
    _bad(tmp_path, capsys, ["--input", data], "need at least 2 distinct labels")


def test_label_too_small_to_split(tmp_path, capsys):
    data = _parquet(tmp_path / "x.parquet", [f"t {i}" for i in range(23)], ["hq"] * 20 + ["lq"] * 3)
    _bad(tmp_path, capsys, ["--input", data], "too few examples to split with --test-fraction 0.2: {'lq': 3} "
                                              "(each label needs at least 5)")


def test_unknown_format_and_bad_positive_label(tmp_path, capsys):
    (tmp_path / "x.csv").write_text("text,label\n")
    _bad(tmp_path, capsys, ["--input", str(tmp_path / "x.csv")], "unknown format")
    texts, labels = quality_dataset(20)
    data = _parquet(tmp_path / "q.parquet", texts, labels)
    _bad(tmp_path, capsys, ["--input", data, "--positive-label", "good"], "--positive-label 'good' is not one of")
    _bad(tmp_path, capsys, ["--input", data, "--test-fraction", "1.5"], "between 0 and 1")


def test_stratified_split_is_seeded_and_per_label():
    labels = ["a"] * 50 + ["b"] * 10
    train, test = stratified_split(labels, 0.2, seed=5)
    assert sorted([*train, *test]) == list(range(60))
    assert [labels[i] for i in test].count("a") == 10 and [labels[i] for i in test].count("b") == 2
    assert (test == stratified_split(labels, 0.2, seed=5)[1]).all()
    assert not (test == stratified_split(labels, 0.2, seed=6)[1]).all()
    assert min_examples_per_label(0.2) == 5 and min_examples_per_label(0.9) == 10
