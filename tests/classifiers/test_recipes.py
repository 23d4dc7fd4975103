"""The reference-vs-crawl and teacher -> student recipes, and config-driven hyper-parameters."""
import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from classifiers.training_data import from_reference, from_teacher
from jobs.train_classifier import main
from pipeline.config import ConfigError
from tests.classifiers.data import hq_text, lq_text

SMALL_FT = ["--dim", "16", "--bucket", "50000"]


def _crawl_dir(path, texts, parts=3):
    """A stage-output-like directory of Parquet parts."""
    path.mkdir()
    for k in range(parts):
        pq.write_table(pa.table({"id": [f"d{i}" for i in range(k, len(texts), parts)],
                                 "text": texts[k::parts]}), path / f"part-{k:05d}.parquet")
    return str(path)


def _reference(path, texts):
    pq.write_table(pa.table({"text": texts}), path)
    return str(path)


def test_reference_sample_is_balanced_seeded_and_independent_of_file_layout(tmp_path):
    rng = random.Random(3)
    positives = [hq_text(rng) for _ in range(50)]
    crawl = [lq_text(rng) for _ in range(400)] + positives[:5]    # the crawl also holds 5 reference texts
    ref = _reference(tmp_path / "ref.parquet", positives)
    three = from_reference([ref], [_crawl_dir(tmp_path / "a", crawl, 3)], "text", seed=11)
    one = from_reference([ref], [_crawl_dir(tmp_path / "b", crawl, 1)], "text", seed=11)
    other_seed = from_reference([ref], [_crawl_dir(tmp_path / "c", crawl, 2)], "text", seed=12)
    assert three.labels.count("hq") == 50 and three.labels.count("lq") == 50
    negatives = [t for t, l in zip(three.texts, three.labels) if l == "lq"]
    assert not set(negatives) & set(positives)                    # reference texts never become negatives
    assert set(negatives) <= set(crawl) and len(set(negatives)) == 50
    assert negatives == [t for t, l in zip(one.texts, one.labels) if l == "lq"]
    assert negatives != [t for t, l in zip(other_seed.texts, other_seed.labels) if l == "lq"]
    assert three.provenance["negatives_seen"] == len(crawl)
    double = from_reference([ref], [_crawl_dir(tmp_path / "d", crawl)], "text", seed=11, negatives_per_positive=2)
    assert double.labels.count("lq") == 100


def test_teacher_labels_by_threshold_and_top_percent(tmp_path):
    path = tmp_path / "judged.jsonl"
    path.write_text("".join(json.dumps({"text": f"doc {i}", "score": i % 5}) + "\n" for i in range(100))
                    + json.dumps({"text": "no score", "score": None}) + "\n")
    by_score = from_teacher([str(path)], "text", "score", min_score=3)
    assert by_score.labels.count("hq") == 40 and by_score.dropped == 1
    assert all((s >= 3) == (l == "hq") for s, l in zip(by_score.scores, by_score.labels))
    top = from_teacher([str(path)], "text", "score", top_percent=20)
    assert top.labels.count("hq") == 20 and top.provenance["teacher_min_score"] == 4
    with pytest.raises(ConfigError, match="exactly one"):
        from_teacher([str(path)], "text", "score")


def test_teacher_student_job_reports_agreement(tmp_path):
    rng = random.Random(5)
    rows = []
    for i in range(300):
        good = i % 2 == 0
        rows.append({"text": hq_text(rng) if good else lq_text(rng), "judge": rng.uniform(3, 5) if good
                     else rng.uniform(0, 2)})
    path = tmp_path / "judged.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    out = tmp_path / "student"
    assert main(["--teacher-scores", str(path), "--score-column", "judge", "--teacher-min-score", "2.5",
                 "--output", str(out), *SMALL_FT]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["recipe"] == "teacher_student" and metrics["roc_auc"] > 0.95
    assert metrics["teacher_spearman"] > 0.5
    assert "teacher score" in (out / "MODEL_CARD.md").read_text()
    assert json.loads((out / "model.json").read_text())["teacher_min_score"] == 2.5


def test_reference_recipe_job_and_config_hyperparameters(tmp_path):
    rng = random.Random(9)
    ref = _reference(tmp_path / "ref.parquet", [hq_text(rng) for _ in range(120)])
    crawl = _crawl_dir(tmp_path / "crawl", [lq_text(rng) for _ in range(500)])
    out = tmp_path / "dclm"
    rc = main(["--positives", ref, "--negatives", crawl, "--output", str(out),
               "--set", "train_classifier.fasttext={dim: 12, bucket: 40000, epoch: 4}", "--epoch", "6"])
    assert rc == 0
    sidecar = json.loads((out / "model.json").read_text())
    assert sidecar["hyperparameters"]["dim"] == 12 and sidecar["hyperparameters"]["bucket"] == 40000
    assert sidecar["hyperparameters"]["epoch"] == 6          # the flag wins over the config
    assert sidecar["recipe"] == "reference_vs_crawl" and sidecar["labels"] == ["hq", "lq"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["label_counts"]["hq"]["train"] + metrics["label_counts"]["hq"]["test"] == 120
    assert metrics["label_counts"]["lq"]["train"] + metrics["label_counts"]["lq"]["test"] == 120
    assert metrics["roc_auc"] > 0.95
    assert "DCLM" in (out / "MODEL_CARD.md").read_text()


@pytest.mark.parametrize("argv, message", [
    (["--output", "x"], "exactly one training set"),
    (["--positives", "a.parquet", "--output", "x"], "needs both"),
    (["--set", "train_classifier.fasttext={dimension: 3}", "--input", "{data}", "--output", "{out}"],
     "unknown fasttext hyper-parameter"),
    (["--backend", "fasttext", "--c", "2", "--input", "{data}", "--output", "{out}"], "--c only apply"),
])
def test_one_line_errors(tmp_path, capsys, argv, message):
    data = _reference(tmp_path / "d.parquet", ["a b c"] * 10)
    argv = [a.replace("{data}", data).replace("{out}", str(tmp_path / "o")) for a in argv]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
