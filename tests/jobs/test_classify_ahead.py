"""Scoring ahead: in a run of [filter, classify] the models score the filter's kept documents as
the filter writes them, and classify only decides; the outcome is the one classify's own pass
gives, reruns skip or redo the right stages, and stale scores are never taken for current ones."""
import json
import random

import pytest

from classifiers.model_files import save_model, train_model
from jobs import run as run_job
from tests.classifiers.data import hq_text, lq_text, quality_dataset
from tests.dedup.corpus import doc, write

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    texts, labels = quality_dataset(150)
    save_model(train_model("sklearn", texts, labels), root / "quality")
    save_model(train_model("sklearn", texts, labels, c=0.05), root / "quality-other")   # other scores
    return root


def extracted(out) -> set[str]:
    """Documents as if the extract stage had written them: long clean prose (the filter keeps it),
    prose with spam lines (kept by the filter, low quality) and bare spam (the filter drops it)."""
    rng = random.Random(11)
    rows = [doc(f"clean-{i}", " ".join(hq_text(rng) for _ in range(6))) for i in range(6)]
    rows += [doc(f"mixed-{i}", " ".join(hq_text(rng) for _ in range(3)) + "\n" + lq_text(rng)) for i in range(4)]
    rows += [doc(f"spam-{i}", lq_text(rng)) for i in range(3)]
    write(out / "extract", rows)
    (out / "extract" / "_SUCCESS").write_text("")
    return {row["id"] for row in rows}


def run(out, model, *extra: str) -> int:
    return run_job.main(["--output", str(out), "--set", "stages=[filter, classify]",
                         "--set", "filter.filters=[c4_v1]", "--set", f"classify.models={{quality: {model}}}",
                         "--set", "classify.thresholds={quality: {default: {min_score: 0.5}}}", *extra])


def rows(spark, path) -> dict[str, dict]:
    return {r["id"]: r.asDict() for r in spark.read.parquet(str(path)).collect()}


def stats(out, stage: str) -> dict:
    return json.loads((out / "stats" / f"{stage}.json").read_text())


def test_the_filter_writes_the_scores_and_classify_decides_as_its_own_pass_would(spark, tmp_path, models):
    ahead, own = tmp_path / "ahead", tmp_path / "own"
    ids = extracted(ahead)
    extracted(own)
    assert run(ahead, models / "quality") == 0
    assert run(own, models / "quality", "--set", "classify.score_ahead=false") == 0

    filter_kept, filter_rejected = rows(spark, ahead / "filter"), rows(spark, ahead / "rejected" / "filter")
    assert filter_rejected and set(filter_kept) | set(filter_rejected) == ids
    assert all(r["quality__score"] is not None for r in filter_kept.values())   # scored as written
    assert "quality__score" not in next(iter(filter_rejected.values()))          # rejects never scored
    schema = spark.read.parquet(str(ahead / "filter")).schema      # the record travels with the data
    record = json.loads(schema["quality__score"].metadata["curate_scores_for_classify"])
    assert record["written_by"] == "filter" and record["identity"]["scores"]["models"] == {"quality": str(models / "quality")}
    assert not [p.name for p in (ahead / "filter").iterdir() if not p.name.endswith(".parquet") and p.name != "_SUCCESS"]
    assert stats(ahead, "filter")["scored_ahead"] == ["classify"]
    assert stats(ahead, "classify")["scored_in"] == "filter"
    assert stats(own, "classify")["scored_in"] == "classify"
    assert "quality__score" not in spark.read.parquet(str(own / "filter")).columns

    for kept_or_rejected in ("classify", "rejected/classify"):
        mine, theirs = rows(spark, ahead / kept_or_rejected), rows(spark, own / kept_or_rejected)
        assert set(mine) == set(theirs)
        assert {i: r["quality__score"] for i, r in mine.items()} == {i: r["quality__score"] for i, r in theirs.items()}
    dropped = set(rows(spark, ahead / "rejected" / "classify"))
    assert dropped and dropped <= set(filter_kept)             # the filter kept them, the model did not
    assert stats(ahead, "classify")["rejected_by_reason"] == stats(own, "classify")["rejected_by_reason"]


def test_a_new_threshold_reruns_classify_only_and_a_new_model_reruns_the_filter(spark, tmp_path, models, capsys):
    out = tmp_path / "out"
    extracted(out)
    assert run(out, models / "quality") == 0
    first = rows(spark, out / "filter")
    capsys.readouterr()

    assert run(out, models / "quality", "--set", "classify.thresholds={quality: {default: {min_score: 0.9}}}") == 0
    printed = capsys.readouterr().out
    assert "[filter] complete with the same config and inputs: skipped" in printed
    assert "deciding only" in printed and stats(out, "classify")["scored_in"] == "filter"

    assert run(out, models / "quality-other") == 0
    printed = capsys.readouterr().out
    assert "[filter] complete" not in printed and stats(out, "classify")["scored_in"] == "filter"
    rescored = rows(spark, out / "filter")
    assert set(rescored) == set(first)
    assert any(rescored[i]["quality__score"] != first[i]["quality__score"] for i in first)


def test_classify_alone_rescores_an_input_scored_ahead_with_another_model(spark, tmp_path, models, capsys):
    from jobs import classify as classify_job

    out = tmp_path / "out"
    extracted(out)
    assert run(out, models / "quality") == 0
    ahead = rows(spark, out / "filter")
    capsys.readouterr()
    code = classify_job.main(["--output", str(tmp_path / "alone"), "--input", str(out / "filter"),
                              "--set", f"classify.models={{quality: {models / 'quality-other'}}}",
                              "--set", "classify.thresholds={}"])
    assert code == 0
    assert "scoring again" in capsys.readouterr().out
    alone = rows(spark, tmp_path / "alone" / "classify")
    assert set(alone) == set(ahead)
    assert any(alone[i]["quality__score"] != ahead[i]["quality__score"] for i in ahead)
    assert json.loads((tmp_path / "alone" / "stats" / "classify.json").read_text())["scored_in"] == "classify"
