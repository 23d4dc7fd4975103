"""Stage outputs are committed whole: a failed write leaves the previous output as it was."""
import os

import pytest
from pyspark.sql import functions as F

from pipeline.io import staging_path
from pipeline.spark import replace_directory, write_parquet


@pytest.mark.spark
def test_failed_write_keeps_the_previous_output(spark, tmp_path):
    path = str(tmp_path / "out" / "filter")
    write_parquet(spark.range(10), path)

    @F.udf("long")
    def explode_on_seven(value):
        if value == 7:
            raise ValueError("killed mid-write")
        return value

    failing = spark.range(100, 120, numPartitions=4).withColumn("id", explode_on_seven(F.col("id") - 100))
    with pytest.raises(Exception, match="killed mid-write"):
        write_parquet(failing, path)
    assert sorted(r.id for r in spark.read.parquet(path).collect()) == list(range(10))
    assert os.path.exists(os.path.join(path, "_SUCCESS"))


@pytest.mark.spark
def test_a_new_write_replaces_the_old_one_and_leaves_no_staging(spark, tmp_path):
    path = str(tmp_path / "out" / "dedup")
    write_parquet(spark.range(50, numPartitions=5), path)
    write_parquet(spark.range(3, numPartitions=1), path)
    assert sorted(r.id for r in spark.read.parquet(path).collect()) == [0, 1, 2]
    assert sorted(os.listdir(tmp_path / "out")) == ["dedup"]


def test_staging_path_is_a_hidden_sibling():
    assert staging_path("s3a://bucket/run/rejected/extract") == "s3a://bucket/run/rejected/_staging.extract"
    assert staging_path("out/demo/shards/") == "out/demo/_staging.shards"


@pytest.mark.spark
def test_a_directory_commit_swaps_whole_directories(spark, tmp_path):
    final, staging = tmp_path / "shards", tmp_path / "_staging.shards"
    (final / "train").mkdir(parents=True)
    (final / "train" / "stale.ds").write_bytes(b"old")
    (staging / "train").mkdir(parents=True)
    (staging / "train" / "000000.ds").write_bytes(b"new")
    replace_directory(spark, f"file://{staging}", f"file://{final}")   # as tokenize commits its shards
    assert sorted(os.listdir(final / "train")) == ["000000.ds"]
    assert sorted(os.listdir(tmp_path)) == ["shards"]
