"""The tokenize and classify stages on local[2] with their object-store parts on a real
S3-compatible server (moto on loopback): the shards and manifests written to s3://, the tokenizer
and the models read from s3:// by the executors. Spark's own Parquet I/O stays local (its s3a://
needs the hadoop-aws jar); what must be equal is equal: the shard bytes and the scores.
Also: `spark.shuffle_partitions: auto` resolves from the session's cores and the stage's input."""
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.stage_job import cluster_cores, input_bytes, size_shuffle
from pipeline import outputs, storage
from pipeline.config import auto_shuffle_partitions, load_config
from pipeline.stage_spark import execute

from .conftest import BUCKET, ROOT

pytestmark = pytest.mark.spark
TOKENIZER = ROOT / "conf" / "tokenizer" / "demo"
WORDS = "garden river stone light paper window music winter harbor forest signal engine code def return".split()


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    rng = random.Random(16)
    rows = [{"id": f"doc-{i}", "lang": rng.choice(["en", "de"]), "source": rng.choice(["web", "wiki"]),
             "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 80)))} for i in range(240)]
    directory = tmp_path_factory.mktemp("docs") / "classify"
    directory.mkdir()
    for k in range(3):
        pq.write_table(pa.Table.from_pylist(rows[k::3]), directory / f"part-{k}.parquet")
    return str(directory)


def test_tokenize_writes_shards_to_object_storage_as_a_local_run_does(spark, s3, documents, tmp_path, monkeypatch):
    tokenizer = s3.upload(TOKENIZER, "spark/tokenizer/demo")
    common = ["tokenize.shard_tokens=1500", "tokenize.valid_fraction=0.1", "tokenize.seed=3",
              f"spark.conf={json.dumps(s3.conf)}"]
    local = load_config(None, [f"output={tmp_path / 'local'}", f"tokenize.tokenizer={TOKENIZER}", *common])
    local_stats = execute(spark, local, "tokenize", [documents])

    remote_shards = f"s3a://{BUCKET}/spark/run/shards"
    real_shards = outputs.shards
    # Everything but the shards stays local (Spark's Parquet writer has no s3a here).
    monkeypatch.setattr(outputs, "shards", lambda run, split=None: remote_shards + (f"/{split}" if split else "")
                        if run == str(tmp_path / "remote") else real_shards(run, split))
    remote = load_config(None, [f"output={tmp_path / 'remote'}", f"tokenize.tokenizer={tokenizer}", *common])
    # a stale shard of an earlier, larger run must not survive, nor an earlier run's stats file
    storage.write_bytes(f"{remote_shards}/train/09999.ds", b"stale", s3.options)
    storage.write_bytes(outputs.stats_file(remote.output, "tokenize"), b'{"run_key": "old"}', s3.options)
    remote_stats = execute(spark, remote, "tokenize", [documents])

    assert remote_stats["outputs"]["train"] == f"{remote_shards}/train"
    assert remote_stats["splits"] == local_stats["splits"] and local_stats["splits"]["train"]["shards"] >= 3
    assert remote_stats["tokenizer"] == local_stats["tokenizer"]
    for split in ("train", "valid"):
        manifest = json.loads(s3.read(f"{remote_shards}/{split}/manifest.json"))
        expected = json.loads((tmp_path / "local" / "shards" / split / "manifest.json").read_text())
        assert [s["sha256"] for s in manifest["shards"]] == [s["sha256"] for s in expected["shards"]]
        assert manifest == expected
        names = {f"{s['name']}{suffix}" for s in manifest["shards"] for suffix in (".ds", ".ds.index")}
        listed = {path.rsplit("/", 1)[1] for path, _ in storage.list_files(f"{remote_shards}/{split}", s3.options)}
        assert listed == names | {"manifest.json"}
        for name in names:
            assert s3.read(f"{remote_shards}/{split}/{name}") == \
                (tmp_path / "local" / "shards" / split / name).read_bytes()
    # the stats file, with its run key, is the last word again (pipeline/stage_spark.execute)
    assert json.loads((tmp_path / "remote" / "stats" / "tokenize.json").read_text())["stage"] == "tokenize"


def test_classify_scores_with_models_from_object_storage(spark, s3, documents, tmp_path):
    from tests.jobs.demo_models import train_demo_models

    train_demo_models(tmp_path / "models")
    remote = {name: s3.upload(tmp_path / "models" / name, f"spark/models/{name}") for name in ("quality", "domain")}
    local = {name: str(tmp_path / "models" / name) for name in remote}
    results = {}
    saved = dict(storage._defaults)
    try:
        storage.configure(s3.options)        # the driver's, as build_session leaves them
        for kind, models in (("local", local), ("remote", remote)):
            config = load_config(None, [f"output={tmp_path / kind}", f"classify.models={json.dumps(models)}",
                                        "classify.thresholds={quality: {default: {min_score: 0.3}}}",
                                        f"spark.conf={json.dumps(s3.conf)}"])
            stats = execute(spark, config, "classify", [documents])
            rows = spark.read.parquet(stats["outputs"]["kept"]).orderBy("id").collect()
            results[kind] = (stats["kept"], stats["rejected"], [r.asDict() for r in rows])
    finally:
        storage.configure(saved)
    assert results["remote"] == results["local"]
    assert results["local"][0] and results["local"][2][0]["quality__score"] is not None


def test_auto_shuffle_partitions_follow_cores_and_input(spark, documents, tmp_path):
    previous = spark.conf.get("spark.sql.shuffle.partitions")
    try:
        config = load_config(None, ["spark.shuffle_partitions=auto"])
        cores = cluster_cores(spark)
        assert cores == spark.sparkContext.defaultParallelism == 2          # local[2]
        size = input_bytes(spark, [documents])
        assert size == sum(p.stat().st_size for p in Path(documents).glob("*.parquet"))
        size_shuffle(spark, config, "dedup", [documents])
        assert spark.conf.get("spark.sql.shuffle.partitions") == str(auto_shuffle_partitions(cores, size)) == "4"
        big = tmp_path / "big"
        big.mkdir()
        with open(big / "part-0.parquet", "wb") as fh:             # 1 GiB, sparse: 8 partitions by size
            fh.truncate(1 << 30)
        size_shuffle(spark, config, "dedup", [str(big)])
        assert spark.conf.get("spark.sql.shuffle.partitions") == "8"
        size_shuffle(spark, load_config(None, ["spark.shuffle_partitions=3"]), "dedup", [str(big)])
        assert spark.conf.get("spark.sql.shuffle.partitions") == "8"        # a number is left alone
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", previous)
