"""The executors' side of extraction on an object store (moto's S3 on loopback, no Spark): the same rows
as from the local copies, also when a share of the requests fail; unreadable files fail loudly."""
import json
import os
import re
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import storage
from pipeline.config import load_config
from pipeline.extract.stage import extract_batches, extract_file
from pipeline.extract.textfiles import iter_jsonl, iter_parquet
from pipeline.extract.warc import iter_warc
from tests.badinput import make_all
from tests.storage.s3server import FaultProxy, S3Server
from tests.warcs import article, response, write_warc

BUCKET = "extract-test"
FAST = {"retry_interval": "5ms"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Every bad-input case (damaged WARCs, JSONL...) plus clean WARC, JSONL and Parquet files."""
    directory = tmp_path_factory.mktemp("corpus")
    make_all(directory)
    write_warc(directory / "clean.warc.gz", [response(f"http://clean.example/{i}", article(
        f"Page {i}", f"The harbour of town number {i} receives fishing boats every morning at dawn."))
        for i in range(5)])
    (directory / "clean.jsonl").write_text("".join(json.dumps({"text": f"Document {i} has a sentence.",
                                                               "url": f"https://jsonl.example/{i}"}) + "\n"
                                                   for i in range(5)))
    pq.write_table(pa.table({"text": ["Un document propre, en français.", "Another clean document."],
                             "url": ["https://parquet.example/fr", "https://parquet.example/en"]}),
                   directory / "clean.parquet")
    return sorted(p for p in directory.iterdir() if p.is_file())


@pytest.fixture(scope="module")
def s3(corpus):
    with S3Server() as server:
        server.create_bucket(BUCKET)
        for path in corpus:
            server.upload(BUCKET, f"in/{path.name}", path.read_bytes())
        yield server


@pytest.fixture
def proxy(s3):
    with FaultProxy(s3.endpoint, stall_s=20) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def config():
    return load_config(None, ["extract.timeout_s=10"])


def with_storage(config, options):
    copy = load_config(None, ["extract.timeout_s=10"])
    copy.spark.conf.update(options)
    return copy


def normalized(rows):
    """Rows with the file's location replaced by its name (a local path and a URI differ only there)."""
    out = []
    for row in rows:
        where, name = row["input_file"], row["input_file"].rsplit("/", 1)[-1]
        fixed = {k: (v.replace(where, name) if isinstance(v, str) else v) for k, v in row.items()}
        if where in (row["record_id"] or ""):
            fixed.pop("id")             # a hash of the record id, which holds the location
        out.append(fixed)
    return sorted(out, key=lambda r: (r["input_file"], r["record_id"], r["url"] or ""))


def extract_all(paths, config, counter=None):
    batch = pa.record_batch({"paths": [list(paths)]})
    return pa.Table.from_batches(list(extract_batches([batch], config, retries=counter))).to_pylist()


class Counter1:
    def __init__(self):
        self.total = 0

    def add(self, n):
        self.total += n


@pytest.fixture(scope="module")
def local_rows(corpus, config):
    return normalized(extract_all([str(p) for p in corpus], config))


def test_s3_gives_the_same_rows_as_the_local_copies(corpus, s3, config, local_rows):
    remote = with_storage(config, s3.options())
    rows = normalized(extract_all([f"s3a://{BUCKET}/in/{p.name}" for p in corpus], remote))
    assert rows == local_rows
    assert {r["input_file"] for r in rows} == {p.name for p in corpus}
    assert Counter(r["drop_reason"] for r in rows)["malformed_record"] > 0     # the damaged files still count


def test_failing_requests_change_nothing_but_the_retry_count(corpus, s3, proxy, config, local_rows):
    # Every fourth request fails (503 SlowDown, 500, connection reset in turn); one GET stalls.
    faults = ("slowdown", "500", "reset")
    proxy.policy = lambda r: "stall" if r.number == 9 and r.method == "GET" else \
        faults[(r.number // 4) % 3] if r.number % 4 == 0 else "ok"
    counter = Counter1()
    before = storage.retry_count()
    remote = with_storage(config, proxy.options(**FAST))
    rows = normalized(extract_all([f"s3://{BUCKET}/in/{p.name}" for p in corpus], remote, counter))
    assert rows == local_rows
    assert {kind for kind, _ in proxy.faults} >= {"slowdown", "500", "reset"}
    assert storage.retry_count() > before and counter.total == storage.retry_count() - before


def test_a_file_that_cannot_be_opened_fails_with_its_name(s3, proxy, config):
    proxy.policy = lambda r: "slowdown" if "clean.warc.gz" in r.path else "ok"
    remote = with_storage(config, proxy.options(retry_limit="2", **FAST))
    uri = f"s3://{BUCKET}/in/clean.warc.gz"
    with pytest.raises(OSError, match=re.escape(uri)):
        list(extract_file(uri, remote))
    with pytest.raises(OSError, match=re.escape(uri)):       # the executor's function, too
        extract_all([f"s3://{BUCKET}/in/clean.jsonl", uri], remote)


def _range_start(request) -> int:
    match = re.match(r"bytes=(\d+)-", request.headers.get("range", "") or "")
    return int(match.group(1)) if match else 0


@pytest.mark.parametrize("name", ["big.warc.gz", "big.jsonl.gz", "big.parquet"])
def test_a_read_failing_mid_file_is_an_error_not_damage(tmp_path, s3, proxy, name):
    """Opened, the first 16 KiB read, then every read fails: no record may come out as malformed."""
    path = tmp_path / name
    pages = [os.urandom(6000).hex() for _ in range(20)]          # incompressible: the file spans many buffers
    if name.endswith(".warc.gz"):
        write_warc(path, [response(f"http://big.example/{i}", article(f"P{i}", text)) for i, text in enumerate(pages)])
        reader = iter_warc
    elif name.endswith(".jsonl.gz"):
        import gzip
        path.write_bytes(gzip.compress("".join(json.dumps({"text": t}) + "\n" for t in pages).encode()))
        reader = iter_jsonl
    else:
        pq.write_table(pa.table({"text": pages}), path, row_group_size=5)
        reader = iter_parquet
    s3.upload(BUCKET, f"mid/{name}", path.read_bytes())
    proxy.policy = lambda r: "500" if "mid/" in r.path and r.method == "GET" and _range_start(r) > 0 else "ok"
    uri = f"s3://{BUCKET}/mid/{name}"
    fh = storage.open_input(uri, proxy.options(retry_limit="1", **FAST), buffer_size=16 << 10)
    seen = []
    with pytest.raises(storage.ReadError, match=re.escape(uri)):
        for record in reader(fh, uri, 5_000_000):
            seen.append(record)
    assert all(record.reason is None for record in seen)
