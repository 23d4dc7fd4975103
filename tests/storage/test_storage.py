"""pipeline/storage.py against a real S3-compatible server on loopback (moto), directly and through a
proxy that fails requests: settings from a Spark conf, buffered reads, retries, errors that name the file."""
import io
import os

import pyarrow.fs as pafs
import pytest

from pipeline import storage
from pipeline.io import read_text, write_text
from tests.storage.s3server import FaultProxy, S3Server

BUCKET = "curate-test"
FAST = {"retry_interval": "5ms"}          # tests need not wait for production back-offs


@pytest.fixture(scope="module")
def s3():
    with S3Server() as server:
        server.create_bucket(BUCKET)
        yield server


@pytest.fixture
def proxy(s3):
    with FaultProxy(s3.endpoint, stall_s=20) as proxy:
        yield proxy


def test_storage_options_pick_the_s3a_settings_out_of_a_spark_conf():
    conf = {"spark.hadoop.fs.s3a.endpoint": "http://minio:9000", "spark.hadoop.fs.s3a.access.key": "AK",
            "spark.hadoop.fs.s3a.secret.key": "SK", "spark.hadoop.fs.s3a.session.token": "T",
            "spark.hadoop.fs.s3a.path.style.access": "true", "spark.hadoop.fs.s3a.endpoint.region": "eu-west-1",
            "fs.s3a.connection.ssl.enabled": "false", "spark.executor.memory": "4g",
            "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem"}
    options = storage.storage_options(conf)
    assert options == {"fs.s3a.endpoint": "http://minio:9000", "fs.s3a.access.key": "AK", "fs.s3a.secret.key": "SK",
                       "fs.s3a.session.token": "T", "fs.s3a.path.style.access": "true",
                       "fs.s3a.endpoint.region": "eu-west-1", "fs.s3a.connection.ssl.enabled": "false"}
    assert storage.storage_options(options) == options                 # idempotent
    assert storage.redacted(options)["fs.s3a.secret.key"] == "***"


def test_filesystems_by_scheme_and_cached_per_settings(tmp_path):
    local, path = storage.filesystem(str(tmp_path / "a.txt"))
    assert isinstance(local, pafs.LocalFileSystem) and path == str(tmp_path / "a.txt")
    assert storage.filesystem(f"file://{tmp_path}/a.txt")[1] == str(tmp_path / "a.txt")
    options = {"spark.hadoop.fs.s3a.endpoint": "http://127.0.0.1:9", "spark.hadoop.fs.s3a.path.style.access": "true"}
    s3a, key = storage.filesystem("s3a://bucket/dir/x.warc.gz", options)
    assert isinstance(s3a, pafs.S3FileSystem) and key == "bucket/dir/x.warc.gz"
    assert storage.filesystem("s3://bucket/y", options)[0] is s3a       # one client per settings
    assert storage.filesystem("s3n://bucket/y", {**options, "fs.s3a.endpoint.region": "x"})[0] is not s3a


def test_durations_and_globs():
    assert storage._seconds("500ms") == 0.5 and storage._seconds("2s") == 2 and storage._seconds("1500") == 1.5
    regex = storage._glob_regex("b/seg/*/warc/*.warc.{gz,wet}")
    import re
    assert re.fullmatch(regex, "b/seg/1/warc/x.warc.gz") and re.fullmatch(regex, "b/seg/1/warc/x.warc.wet")
    assert not re.fullmatch(regex, "b/seg/1/2/warc/x.warc.gz")            # * stays within a segment


def test_local_reads_are_seekable_and_missing_files_named(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(256)) * 100)
    with storage.open_input(str(path)) as fh:
        assert fh.read(3) == b"\x00\x01\x02"
        fh.seek(256 * 50 + 7)
        assert fh.read(2) == b"\x07\x08"
        assert fh.seekable()
    with pytest.raises(FileNotFoundError, match="nope.warc.gz"):
        storage.open_input(str(tmp_path / "nope.warc.gz"))


def test_small_files_round_trip_and_list_with_sizes(s3):
    options = s3.options()
    write_text(f"s3a://{BUCKET}/run/stats/extract.json", '{"kept": 1}', options)
    assert read_text(f"s3a://{BUCKET}/run/stats/extract.json", options) == '{"kept": 1}'
    assert read_text(f"s3a://{BUCKET}/run/stats/missing.json", options) is None
    s3.upload(BUCKET, "run/in/a.warc.gz", b"x" * 10)
    s3.upload(BUCKET, "run/in/sub/b.jsonl", b"y" * 20)
    s3.upload(BUCKET, "run/in/_SUCCESS", b"")
    assert storage.list_files(f"s3a://{BUCKET}/run/in", options) == [
        (f"s3a://{BUCKET}/run/in/a.warc.gz", 10), (f"s3a://{BUCKET}/run/in/sub/b.jsonl", 20)]
    assert storage.list_files(f"s3://{BUCKET}/run/*/*.warc.gz", options) == [(f"s3://{BUCKET}/run/in/a.warc.gz", 10)]
    assert storage.list_files(f"s3://{BUCKET}/run/in/a.warc.gz", options) == [(f"s3://{BUCKET}/run/in/a.warc.gz", 10)]
    assert storage.exists(f"s3://{BUCKET}/run/in/a.warc.gz", options)
    storage.rename(f"s3://{BUCKET}/run/in/a.warc.gz", f"s3://{BUCKET}/run/moved.warc.gz", options)
    assert not storage.exists(f"s3://{BUCKET}/run/in/a.warc.gz", options)
    with storage.open_output(f"s3://{BUCKET}/run/out/shard.ds", options) as stream:
        stream.write(b"\x01\x02")
    assert storage.read_bytes(f"s3://{BUCKET}/run/out/shard.ds", options) == b"\x01\x02"
    storage.delete(f"s3://{BUCKET}/run/out", options)
    assert not storage.exists(f"s3://{BUCKET}/run/out/shard.ds", options)


def test_small_reads_do_not_each_become_a_request(s3, proxy):
    data = os.urandom(20 << 20)
    s3.upload(BUCKET, "big/one.bin", data)
    chunks = []
    with storage.open_input(f"s3://{BUCKET}/big/one.bin", proxy.options(), buffer_size=8 << 20) as fh:
        while chunk := fh.read(16 << 10):                       # warcio's read size
            chunks.append(chunk)
        fh.seek(5)
        chunks.append(fh.read(3))
    assert b"".join(chunks) == data + data[5:8]
    # 1280 reads of 16 KiB: three 8 MB GETs, one more after the seek back, and the HEAD of the open.
    assert proxy.gets("one.bin") <= 4 and proxy.count("one.bin") <= 5


@pytest.mark.parametrize("fault", ["reset", "slowdown", "500", "stall"])
def test_transient_errors_are_retried_and_counted(s3, proxy, fault):
    data = os.urandom(3 << 20)
    s3.upload(BUCKET, f"flaky/{fault}.bin", data)
    # Fail the open (HEAD) and every other GET once: each must be retried, none may lose bytes.
    proxy.policy = lambda request: fault if request.number in (1, 2, 4) and fault != "stall" or \
        (fault == "stall" and request.number == 2) else "ok"
    before = storage.retry_count()
    with storage.open_input(f"s3://{BUCKET}/flaky/{fault}.bin", proxy.options(**FAST), buffer_size=1 << 20) as fh:
        assert fh.read() == data
    assert proxy.faults, "the proxy failed nothing"
    if fault != "reset":           # curl itself retries a reset on a reused connection, uncounted
        assert storage.retry_count() > before


def test_a_file_that_stays_unreadable_raises_an_oserror_naming_it(s3, proxy):
    s3.upload(BUCKET, "dead/x.warc.gz", b"x" * 1000)
    proxy.policy = lambda request: "slowdown" if "dead/" in request.path else "ok"
    with pytest.raises(OSError, match=f"s3://{BUCKET}/dead/x.warc.gz.*after 3 tries"):
        storage.open_input(f"s3://{BUCKET}/dead/x.warc.gz", proxy.options(**FAST), attempts=3)
    # Opened, then every read fails: the same, as a ReadError (not damage).
    proxy.policy = lambda request: "500" if "dead/" in request.path and request.method == "GET" else "ok"
    with storage.open_input(f"s3://{BUCKET}/dead/x.warc.gz", proxy.options(retry_limit="2", **FAST)) as fh:
        with pytest.raises(storage.ReadError, match=f"cannot read s3://{BUCKET}/dead/x.warc.gz after 3 tries"):
            fh.read(10)


def test_permanent_errors_are_not_retried(s3, proxy):
    before = storage.retry_count()
    with pytest.raises(FileNotFoundError, match="no/such.warc.gz"):
        storage.open_input(f"s3://{BUCKET}/no/such.warc.gz", proxy.options(**FAST))
    assert storage.retry_count() == before and proxy.count("no/such") == 1


def test_the_buffer_is_a_real_io_object(tmp_path):
    # gzip, warcio and pyarrow.parquet read through it: it must behave like an opened file.
    path = tmp_path / "f.txt"
    path.write_bytes(b"line one\nline two\n")
    with storage.open_input(str(path)) as fh:
        assert isinstance(fh, io.BufferedReader) and fh.readline() == b"line one\n"
        assert fh.tell() == 9 and fh.name == str(path)
