"""The classify job on local[2]: scores from a model trained in the test, absolute and
per-language percentile thresholds, multi-class columns, counts that add up."""
import json
import random

import pytest

from classifiers.model_files import save_model, train_model
from pipeline.stage_spark import execute
from pipeline.config import ConfigError, load_config
from tests.classifiers.data import hq_text, lq_text, multiclass_dataset, quality_dataset
from tests.dedup.corpus import DAY, T0, doc, write

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    texts, labels = quality_dataset(150)
    save_model(train_model("sklearn", texts, labels), root / "quality")
    texts, labels = multiclass_dataset(60)
    save_model(train_model("sklearn", texts, labels), root / "domain")
    return root


def corpus(tmp_path):
    rng = random.Random(3)
    rows = [doc(f"en-hq-{i}", hq_text(rng)) for i in range(6)] + [doc(f"en-lq-{i}", lq_text(rng)) for i in range(4)]
    rows += [doc(f"de-hq-{i}", hq_text(rng), lang="de") for i in range(5)]
    return write(tmp_path / "in", rows), rows


def test_absolute_threshold_drops_low_quality(spark, tmp_path, models):
    path, rows = corpus(tmp_path)
    config = load_config(None, [f"output={tmp_path}", f"classify.models={{quality: {models / 'quality'}, "
                                f"domain: {models / 'domain'}}}",
                                "classify.thresholds={quality: {default: {min_score: 0.5}}}"])
    stats = execute(spark, config, "classify", [path])
    rejected = {r["id"]: r["drop_reason"] for r in spark.read.parquet(str(tmp_path / "rejected" / "classify")).collect()}
    assert rejected == {f"en-lq-{i}": "quality_min_score" for i in range(4)}
    kept = spark.read.parquet(str(tmp_path / "classify"))
    assert {"quality__score", "domain__code", "domain__general", "domain__math_reasoning"} <= set(kept.columns)
    row = kept.where("id = 'en-hq-0'").first()
    assert row["quality__score"] > 0.5
    assert abs(row["domain__code"] + row["domain__general"] + row["domain__math_reasoning"] - 1) < 1e-4
    for row in kept.collect():                      # the label column names the most probable domain
        probabilities = {d: row[f"domain__{d}"] for d in ("code", "general", "math_reasoning")}
        assert row["domain__label"] == max(probabilities, key=probabilities.get)
    assert stats["records_in"] == len(rows) == stats["kept"] + stats["rejected"]


def test_keep_top_percent_is_per_language(spark, tmp_path, models):
    path, rows = corpus(tmp_path)
    config = load_config(None, [f"output={tmp_path}", f"classify.models={{quality: {models / 'quality'}}}",
                                "classify.thresholds={quality: {default: {keep_top_percent: 50}, de: {min_score: 0.0}}}"])
    stats = execute(spark, config, "classify", [path])
    kept = {r["id"] for r in spark.read.parquet(str(tmp_path / "classify")).collect()}
    assert {f"de-hq-{i}" for i in range(5)} <= kept                      # de has its own rule: keep all
    english = sorted(i for i in kept if i.startswith("en-"))
    assert 4 <= len(english) <= 6 and all(i.startswith("en-hq") for i in english)   # the top half of 10
    assert set(stats["min_score_by_lang"]["quality"]) == {"en", "de"}


def test_thresholds_on_a_multiclass_model_are_refused(spark, tmp_path, models):
    path, _ = corpus(tmp_path)
    config = load_config(None, [f"output={tmp_path}", f"classify.models={{domain: {models / 'domain'}}}",
                                "classify.thresholds={domain: {default: {min_score: 0.5}}}"])
    with pytest.raises(ConfigError, match="binary models only"):
        execute(spark, config, "classify", [path])


@pytest.mark.parametrize("override, message", [
    ("classify.models={quality: /no/such/model}", "no model.json in '/no/such/model'"),
    ("classify.thresholds={other: {default: {min_score: 0.5}}}", "'other' is not one of classify.models"),
])
def test_bad_classify_config_names_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, ["stages=[extract, classify]", override])


def test_model_directories_are_only_required_when_classify_runs():
    """conf/default.yaml names models that `make run` trains: earlier stages must load without them."""
    config = load_config(None, ["stages=[extract]", "classify.models={quality: /no/such/model}"])
    assert config.classify.models == {"quality": "/no/such/model"}


def test_dedup_keeps_the_higher_quality_copy_because_classify_scored_it_first(spark, tmp_path, models):
    """A near-duplicate pair whose more recent copy carries spam: the run scores before it
    deduplicates, so the keep policy ranks by quality__score, not by recency."""
    from jobs import run as run_job
    rng = random.Random(5)
    article = " ".join(hq_text(rng) for _ in range(40))
    spam = lq_text(rng)
    rows = [doc("older-clean", article), doc("newer-spammy", article + "\n" + spam, fetched_at=T0 + DAY)]
    write(tmp_path / "out" / "filter", rows)          # as if the filter stage had kept both
    (tmp_path / "out" / "filter" / "_SUCCESS").write_text("")
    code = run_job.main(["--output", str(tmp_path / "out"),
                         "--set", "stages=[classify, dedup]", "--set", "classify.thresholds={}",
                         "--set", f"classify.models={{quality: {models / 'quality'}}}",
                         "--set", "dedup.steps=[minhash]"])
    assert code == 0
    scores = {r["id"]: r["quality__score"]
              for r in spark.read.parquet(str(tmp_path / "out" / "classify")).collect()}
    assert scores["newer-spammy"] < scores["older-clean"]      # the case the test is about
    kept = [r["id"] for r in spark.read.parquet(str(tmp_path / "out" / "dedup")).collect()]
    dropped = {r["id"]: (r["drop_reason"], r["duplicate_of"])
               for r in spark.read.parquet(str(tmp_path / "out" / "rejected" / "dedup")).collect()}
    assert kept == ["older-clean"]
    assert dropped == {"newer-spammy": ("minhash_duplicate", "older-clean")}
    stats = json.loads((tmp_path / "out" / "stats" / "dedup.json").read_text())
    assert stats["keep_policy"][0].startswith("quality__score DESC")
