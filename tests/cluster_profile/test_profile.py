"""conf/cluster.yaml, the production profile: it refines conf/default.yaml, replaces every demo
value, and stops with one line naming each key only the user can give (`???`)."""
import pytest

from jobs import run as run_job
from pipeline.config import (AUTO_MAX_PARTITIONS, ConfigError, auto_shuffle_partitions, load_config)

from .conftest import ROOT

CLUSTER = ROOT / "conf" / "cluster.yaml"
DEFAULT = ROOT / "conf" / "default.yaml"
GIVEN = ["input=[s3a://crawl/a.warc.gz]", "output=s3a://bucket/run1",
         "classify.models={quality: s3a://bucket/models/quality}", "tokenize.tokenizer=s3a://bucket/tokenizer.model"]


def test_the_profile_replaces_every_demo_value():
    cluster = load_config(CLUSTER, GIVEN)
    demo = load_config(DEFAULT, stage_files=False)
    assert cluster.spark.shuffle_partitions == "auto"
    assert cluster.spark.conf["spark.sql.adaptive.enabled"] == "true"
    assert cluster.spark.conf["spark.sql.adaptive.coalescePartitions.enabled"] == "true"
    assert 0.001 <= cluster.tokenize.valid_fraction <= 0.005
    assert cluster.classify.models == {"quality": "s3a://bucket/models/quality"}
    assert cluster.classify.thresholds == {}               # the demo's cut for its toy model is gone
    assert cluster.tokenize.tokenizer == "s3a://bucket/tokenizer.model"
    assert cluster.train_classifier.fasttext == {}         # the backend's defaults, not the demo's tiny model
    assert cluster.input == ["s3a://crawl/a.warc.gz"] and cluster.output == "s3a://bucket/run1"
    # The rules are the demo's, key for key: what is tuned on the demo is what the cluster runs.
    assert cluster.filter == demo.filter and cluster.dedup == demo.dedup and cluster.langid == demo.langid
    assert cluster.stages == demo.stages


def test_each_missing_required_key_is_named_on_one_line():
    with pytest.raises(ConfigError) as err:
        load_config(CLUSTER)
    message = str(err.value)
    assert "\n" not in message
    for key in ("'input'", "'output'", "'classify.models'", "'tokenize.tokenizer'"):
        assert key in message
    with pytest.raises(ConfigError, match=r"key 'tokenize.tokenizer' is required .*--set tokenize.tokenizer="):
        load_config(CLUSTER, [g for g in GIVEN if not g.startswith("tokenize")])


def test_a_required_key_of_a_stage_that_does_not_run_is_not_needed():
    config = load_config(CLUSTER, ["stages=[extract, filter, dedup, tokenize]",
                                   *[g for g in GIVEN if not g.startswith("classify")]])
    assert config.classify.models == {}
    # a stage's own command needs only its keys (and the run's): tokenize reads <output>/classify
    config = load_config(CLUSTER, ["output=/tmp/x", "tokenize.tokenizer=s3a://b/t.model"], stage_files=False,
                         running=["tokenize"])
    assert config.tokenize.tokenizer == "s3a://b/t.model"
    # tools (train_classifier, report...) need none of them
    load_config(CLUSTER, stage_files=False)


def test_a_dotted_override_fills_a_required_mapping():
    config = load_config(CLUSTER, [g for g in GIVEN if not g.startswith("classify")]
                         + ["classify.models.quality=s3a://bucket/q", "classify.models.domain=s3a://bucket/d"])
    assert config.classify.models == {"quality": "s3a://bucket/q", "domain": "s3a://bucket/d"}


def test_the_runner_exits_2_before_spark(capsys, monkeypatch):
    monkeypatch.setattr(run_job, "build_session", lambda *a, **k: pytest.fail("a session was started"))
    assert run_job.main(["--conf", str(CLUSTER), "--output", "/tmp/never"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "'input'" in err and "'classify.models'" in err and "'output'" not in err


def test_base_files_merge_sections_and_replace_values(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "output: /base\nextract:\n  timeout_s: 3\n  batch_size: 64\n"
        "classify:\n  thresholds: {a: {default: {min_score: 0.5}}}\n  models: {a: /m/a}\n"
        "spark:\n  conf: {spark.x: '1', spark.y: '2'}\n")
    (tmp_path / "top.yaml").write_text(
        "base: base.yaml\nextract:\n  timeout_s: 5\nclassify:\n  models: {b: /m/b}\n  thresholds: {}\n"
        "spark:\n  conf: {spark.z: '3'}\n")
    config = load_config(tmp_path / "top.yaml", stage_files=False)
    assert config.output == "/base"
    assert (config.extract.timeout_s, config.extract.batch_size) == (5, 64)     # a section merges
    assert config.classify.models == {"b": "/m/b"} and config.classify.thresholds == {}   # a mapping replaces
    assert config.spark.conf == {"spark.z": "3"}


@pytest.mark.parametrize("text, message", [
    ("base: nowhere.yaml\n", "key 'base': config file not found"),
    ("base: top.yaml\n", "a cycle"),
    ("base: [a]\n", "key 'base' must name a config file"),
    ("spark:\n  shuffle_partitions: many\n", "key 'spark.shuffle_partitions' must be a positive integer or auto"),
    ("spark:\n  shuffle_partitions: 0\n", "key 'spark.shuffle_partitions' must be a positive integer or auto"),
])
def test_profile_errors_name_the_key(tmp_path, text, message):
    (tmp_path / "top.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path / "top.yaml", stage_files=False)


def test_auto_shuffle_partitions_formula():
    gib = 1 << 30
    assert auto_shuffle_partitions(2) == 4                           # a laptop: two per core
    assert auto_shuffle_partitions(1600, 0) == 3200                  # the cluster's cores...
    assert auto_shuffle_partitions(1600, 100 * gib) == 3200          # ...win over a small input
    assert auto_shuffle_partitions(1600, 2048 * gib) == 16384        # 2 TiB / 128 MiB
    assert auto_shuffle_partitions(16, 128 * 1024 * 1024 + 1) == 32
    assert auto_shuffle_partitions(16, 1 << 60) == AUTO_MAX_PARTITIONS   # the size term is capped...
    assert auto_shuffle_partitions(80_000, 1 << 60) == 160_000           # ...the cores term is not
    assert auto_shuffle_partitions(0, -1) == 2


def test_auto_resolves_from_the_config(tmp_path):
    assert load_config(None, ["spark.shuffle_partitions=auto"]).spark.shuffle_partitions == "auto"
    assert load_config(None, ["spark.shuffle_partitions=12"]).spark.shuffle_partitions == 12
