import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.extract.stage import read_records
from pipeline.io import InputError, expand_local, input_format, source_label
from pipeline.extract.textfiles import iter_jsonl
from tests.warcs import article, request, response, write_warc

CAP = 5_000_000


def test_warc_records_come_out_with_their_kind(tmp_path):
    path = write_warc(tmp_path / "a.warc.gz", [
        request("http://a.example/1"),
        response("http://a.example/1", article("One", "First page text.")),
        response("http://a.example/img.png", b"\x89PNG....", content_type="image/png"),
        response("http://a.example/old", b"<html>moved</html>", status="301 Moved Permanently"),
        {"type": "metadata", "url": "http://a.example/1", "payload": b"fetchTimeMs: 12", "date": "2024-03-01T10:00:00Z"},
    ])
    records = list(read_records(str(path), CAP))
    assert [r.reason for r in records] == ["not_response", None, "not_html", "http_status", "not_response"]
    page = records[1]
    assert page.url == "http://a.example/1"
    assert page.fetched_at.isoformat() == "2024-03-01T10:00:00+00:00"
    assert b"First page text." in page.html
    assert page.charset_hint == "utf-8"
    assert records[3].detail == "301"


def test_uncompressed_warc_and_wet(tmp_path):
    plain = write_warc(tmp_path / "b.warc", [response("http://b.example/", article("B", "Plain WARC page."))], gzip=False)
    wet = write_warc(tmp_path / "c.warc.wet.gz", [
        {"type": "warcinfo", "url": "", "payload": b"software: test", "date": "2024-03-01T10:00:00Z"},
        {"type": "conversion", "url": "http://c.example/", "payload": "Texte déjà extrait.".encode(),
         "date": "2024-03-01T10:00:00Z"},
    ])
    assert b"Plain WARC page." in next(iter(read_records(str(plain), CAP))).html
    info, converted = read_records(str(wet), CAP)
    assert info.reason == "not_response"
    assert converted.text == "Texte déjà extrait." and converted.html is None


def test_jsonl_fields_and_compression(tmp_path):
    lines = [{"text": "Hello there, world.", "url": "http://j.example/1", "id": "doc-1",
              "date": "2023-05-01T00:00:00Z", "source": "wiki"},
             {"text": "Second document."}]
    path = tmp_path / "d.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(json.dumps(line) for line in lines) + "\n\n")
    first, second = read_records(str(path), CAP)
    assert (first.record_id, first.url, first.source, first.text) == ("doc-1", "http://j.example/1", "wiki",
                                                                       "Hello there, world.")
    assert first.fetched_at.year == 2023
    assert second.record_id.endswith("d.jsonl.gz:2") and second.url is None


def test_parquet_with_and_without_text(tmp_path):
    good = tmp_path / "e.parquet"
    pq.write_table(pa.table({"text": ["one", None], "url": ["http://p.example/1", None]}), good)
    bad = tmp_path / "f.parquet"
    pq.write_table(pa.table({"body": ["x"]}), bad)
    first, second = read_records(str(good), CAP)
    assert first.text == "one" and second.reason == "malformed_record"
    (only,) = read_records(str(bad), CAP)
    assert only.reason == "malformed_record" and "no 'text' column" in only.detail


@pytest.mark.parametrize("name, fmt", [
    ("x.warc.gz", "warc"), ("x.warc", "warc"), ("CC-MAIN-x.warc.wet.gz", "warc"), ("x.arc.gz", "warc"),
    ("x.jsonl", "jsonl"), ("x.jsonl.zst", "jsonl"), ("x.json.gz", "jsonl"), ("x.parquet", "parquet"),
    ("x.txt", None), ("x.html", None),
])
def test_input_format(name, fmt):
    assert input_format(name) == fmt


@pytest.mark.parametrize("path, configured, label", [
    ("s3a://cc/crawl-data/CC-MAIN-2024-22/segments/x.warc.gz", "auto", "cc/CC-MAIN-2024-22"),
    ("/data/mine.warc.gz", "auto", "web"),
    ("/data/wiki.jsonl", "auto", "text"),
    ("/data/wiki.jsonl", "wiki", "wiki"),
])
def test_source_label(path, configured, label):
    assert source_label(path, configured) == label


def test_expand_local_walks_directories_and_globs(tmp_path):
    (tmp_path / "d").mkdir()
    for name in ("d/a.warc.gz", "d/b.jsonl", "d/_SUCCESS", "c.parquet"):
        (tmp_path / name).write_bytes(b"")
    found = expand_local([str(tmp_path / "d"), str(tmp_path / "*.parquet")])
    assert [p.rsplit("/", 1)[1] for p in found] == ["c.parquet", "a.warc.gz", "b.jsonl"]  # sorted by full path
    with pytest.raises(InputError, match="matches no file"):
        expand_local([str(tmp_path / "*.warc")])



def test_jsonl_lines_over_the_cap_are_too_large_and_the_rest_is_read():
    def line(text):
        return json.dumps({"text": text}).encode() + b"\n"

    at_cap = line("a" * 80)
    cap = len(at_cap) - 1             # the newline is not counted
    data = at_cap + line("b" * 81) + line("c" * 5000) + line("d")
    records = list(iter_jsonl(io.BytesIO(data), "x.jsonl", cap))
    assert [r.reason for r in records] == [None, "too_large", "too_large", None]
    assert records[0].text == "a" * 80 and records[3].text == "d"
    assert records[1].record_id == "x.jsonl:2" and records[2].record_id == "x.jsonl:3"
