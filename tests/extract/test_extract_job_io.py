"""The extract stage under Spark and its I/O: it never reports success for input it could not read
(or that holds no record), its stats count input bytes and storage retries, and Spark's Python
workers open object-store inputs with the settings of config.spark.conf.

The unreadable input is a Unix socket named `broken.warc.gz`: the driver lists it like any file
(it exists, is not a directory, has a size), and every open(2) of it fails with ENXIO, for root
too (chmod 000 would not stop root; Spark's own listing of s3:// needs hadoop-aws, which is not
installed, so the object-store faults are tested on the executors' side in test_object_store.py).
"""
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.io import InputError
from pipeline.stage_spark import execute
from tests.warcs import article, response, write_warc

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.spark


def test_the_job_fails_and_names_a_file_it_cannot_read(tmp_path):
    good = write_warc(tmp_path / "good.warc.gz", [response("http://good.example/", article(
        "Good", "A page that can be read, with a sentence long enough to be kept by the extractor."))])
    broken = tmp_path / "broken.warc.gz"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(broken))               # the socket file stays after close: a path no one can open
    server.close()
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "jobs.extract", "--input", str(good), str(broken),
                             "--output", str(out), "--set", "spark.master=local[2]",
                             "--set", "spark.shuffle_partitions=2"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0, result.stdout[-2000:]
    assert f"cannot open {broken}" in result.stderr, result.stderr[-3000:]
    assert not (out / "stats" / "extract.json").exists()      # the stage is not marked complete


def test_inputs_without_a_single_record_are_an_error_not_an_empty_corpus(spark, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "empty.jsonl").write_bytes(b"")
    (inputs / "blank.jsonl").write_bytes(b"\n\n")
    config = load_config(None, [f"input=['{inputs}']", f"output={tmp_path / 'out'}"])
    with pytest.raises(InputError, match="gave no records"):
        execute(spark, config, "extract")
    assert not (tmp_path / "out" / "stats" / "extract.json").exists()


def test_a_readable_run_reports_its_input_bytes(spark, tmp_path):
    (tmp_path / "in").mkdir()
    good = write_warc(tmp_path / "in" / "good.warc.gz", [response("http://good.example/", article(
        "Good", "A page that can be read, with a sentence long enough to be kept by the extractor."))])
    config = load_config(None, [f"input=['{good}']", f"output={tmp_path / 'out'}"])
    stats = execute(spark, config, "extract")
    assert stats["records_in"] == 1 and stats["input_files"] == 1
    assert stats["input_bytes"] == good.stat().st_size and stats["io_retries"] == 0


def test_executors_read_the_object_store_with_the_configs_settings_and_count_retries(spark, tmp_path):
    """Spark's Python workers open s3:// inputs with the settings in config.spark.conf (no Hadoop
    involved: the listing is skipped, hadoop-aws is not installed) through a proxy failing every
    third request; the rows are complete and the accumulator brings the retries back to the driver."""
    import pyarrow as pa

    from pipeline.extract.stage import extract_batches
    from pipeline.schema import EXTRACT_SCHEMA
    from pipeline.spark import map_batches, paths_frame
    from tests.storage.s3server import FaultProxy, S3Server

    pages = [response(f"http://s3.example/{i}", article(f"Page {i}", f"Page number {i} tells of a lighthouse "
                                                         "keeper who writes letters to ships.")) for i in range(3)]
    with S3Server() as s3, FaultProxy(s3.endpoint) as proxy:
        s3.create_bucket("spark-in")
        uris = []
        for i in range(4):
            path = write_warc(tmp_path / f"{i}.warc.gz", pages)
            s3.upload("spark-in", path.name, path.read_bytes())
            uris.append(f"s3://spark-in/{path.name}")
        proxy.policy = lambda r: "slowdown" if r.number % 3 == 0 else "ok"
        config = load_config(None, [f"output={tmp_path / 'out'}"])
        config.spark.conf.update(proxy.options(retry_interval="5ms"))
        retries = spark.sparkContext.accumulator(0)
        rows = map_batches(paths_frame(spark, uris, [1] * len(uris)), extract_batches, EXTRACT_SCHEMA,
                           config=config, retries=retries).select("input_file", "drop_reason").collect()
    assert len(rows) == 12 and {r["drop_reason"] for r in rows} == {None}
    assert retries.value > 0 and proxy.faults
