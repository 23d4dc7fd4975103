"""Tests of the bad-input generator itself: determinism, and that each file really
carries the damage its Case claims.  No pipeline code is exercised here."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from collections import Counter

import pytest
import zstandard
from warcio.archiveiterator import ArchiveIterator

from tests import badinput as bi

GZIP_MAGIC = b"\x1f\x8b\x08"


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return {c.name: c for c in bi.make_all(tmp_path_factory.mktemp("badinput"))}


# ---------------------------------------------------------------- raw helpers
# Deliberately independent of warcio where the damage is the point: warcio's
# own tolerance would hide whether the bytes are really broken.


def _gz_members(data: bytes) -> list[tuple[bytes | None, bytes]]:
    """(decompressed or None if broken, raw bytes) per member, resyncing on gzip magic."""
    members, offset = [], 0
    while offset < len(data):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out = inflater.decompress(data[offset:])
            ok = inflater.eof
        except zlib.error:
            ok = False
        if ok:
            end = len(data) - len(inflater.unused_data)
            members.append((out, data[offset:end]))
        else:
            nxt = data.find(GZIP_MAGIC, offset + 1)
            end = len(data) if nxt < 0 else nxt
            members.append((None, data[offset:end]))
        offset = end
    return members


def _split_record(record: bytes) -> tuple[dict[str, str], bytes]:
    head, _, rest = record.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "WARC/1.0"
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return headers, rest


def _warc_records(path):
    """(rec_type, url, http status or None, content-type or None, payload) via warcio."""
    with open(path, "rb") as f:
        return [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"),
                 r.http_headers.get_statuscode() if r.http_headers and r.rec_type == "response" else None,
                 r.http_headers.get_header("Content-Type") if r.http_headers else None,
                 r.content_stream().read())
                for r in ArchiveIterator(f)]


def _payload(case, url):
    return next(p for _, u, _, _, p in _warc_records(case.path) if u == url)


def _raw_records(case) -> list[tuple[dict[str, str], bytes] | None]:
    """(WARC headers, rest) per record in file order; None for one that cannot be decompressed."""
    data = case.path.read_bytes()
    if case.path.name.endswith(".gz"):
        return [None if out is None else _split_record(out) for out, _ in _gz_members(data)]
    starts = [m.start() for m in re.finditer(rb"(?m)^WARC/1\.0\r\n", data)]
    return [_split_record(data[a:b]) for a, b in zip(starts, starts[1:] + [len(data)])]


def _urls_in_order(case) -> list[str | None]:
    return [rec and rec[0]["WARC-Target-URI"] for rec in _raw_records(case)]


WARC_CASES = [n for n in bi.CASE_NAMES if "jsonl" not in n]
JSONL_CASES = [n for n in bi.CASE_NAMES if "jsonl" in n]


# ------------------------------------------------------------------ whole set


def test_make_all_is_byte_for_byte_deterministic(tmp_path):
    first = bi.make_all(tmp_path / "a")
    second = bi.make_all(tmp_path / "b")
    digest = lambda c: hashlib.sha256(c.path.read_bytes()).hexdigest()  # noqa: E731
    assert [c.path.name for c in first] == [c.path.name for c in second]
    assert [digest(c) for c in first] == [digest(c) for c in second]
    assert first[0].expected_rejections == second[0].expected_rejections


def test_one_file_per_case_and_small_on_disk(cases):
    assert list(cases) == list(bi.CASE_NAMES)
    assert len({c.path for c in cases.values()}) == len(cases)
    # The 50 MiB page and JSONL line are gzip-compressed, so the whole corpus stays small on disk.
    assert sum(c.path.stat().st_size for c in cases.values()) < 1_000_000


@pytest.mark.parametrize("name", bi.CASE_NAMES)
def test_case_metadata_is_consistent(cases, name):
    case = cases[name]
    assert set(case.expected_rejections) <= set(bi.REASONS)
    assert all(isinstance(v, int) and v > 0 for v in case.expected_rejections.values())
    assert len(set(case.good_urls)) == len(case.good_urls)
    assert all(u.startswith("http://good.example/") for u in case.good_urls)
    assert {bi.good_url(name, n) for n in range(bi.GOOD_PAGES)} <= set(case.good_urls)
    assert all(u in bi.EXPECTED_SUBSTRINGS for u in case.good_urls)
    for alt in bi.ALTERNATIVE_OUTCOMES.get(name, ()):
        assert set(alt.expected_rejections) <= set(bi.REASONS)
        assert not set(alt.also_delivered) & set(case.good_urls)


@pytest.mark.parametrize("name", [n for n in WARC_CASES if n != "truncated_file"])
def test_good_pages_surround_the_damage(cases, name):
    order = _urls_in_order(cases[name])
    good = [bi.good_url(name, n) for n in range(bi.GOOD_PAGES)]
    assert order[:2] == good[:2] and order[-2:] == good[2:]
    assert len(order) > 4  # something sits in between


@pytest.mark.parametrize("name", WARC_CASES)
def test_good_pages_are_real_distinct_articles(cases, name):
    wanted = {bi.good_url(name, n) for n in range(bi.GOOD_PAGES)}
    texts = []
    for rec in _raw_records(cases[name]):
        if rec is None or rec[0].get("WARC-Target-URI") not in wanted:
            continue
        headers, rest = rec
        http_head, _, payload = rest.partition(b"\r\n\r\n")
        assert headers["WARC-Type"] == "response"
        assert http_head.startswith(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n")
        article = re.search(rb"<article>(.*)</article>", payload).group(1).decode()
        text = re.sub(r"<[^>]+>", " ", article)
        assert len(text.split()) >= 60
        assert bi.EXPECTED_SUBSTRINGS[headers["WARC-Target-URI"]] in text
        texts.append(text)
    assert len(texts) == bi.GOOD_PAGES == len(set(texts))


# ----------------------------------------------------------------- WARC damage


def test_corrupt_gzip_member_fails_only_in_the_damaged_member(cases):
    members = _gz_members(cases["corrupt_gzip_member"].path.read_bytes())
    assert [out is None for out, _ in members] == [False, False, True, False, False]
    broken = members[2][1]
    assert broken.startswith(GZIP_MAGIC)  # header left intact
    with pytest.raises((OSError, EOFError, zlib.error)):
        gzip.decompress(broken)
    # Only one magic per member: a reader scanning for the next member can't be fooled.
    assert cases["corrupt_gzip_member"].path.read_bytes().count(GZIP_MAGIC) == len(members)


def test_truncated_file_ends_inside_the_last_member(cases):
    data = cases["truncated_file"].path.read_bytes()
    members = _gz_members(data)
    assert [out is None for out, _ in members] == [False] * bi.GOOD_PAGES + [True]
    with pytest.raises(EOFError):
        gzip.decompress(data)
    partial = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(members[-1][1])
    headers, block = _split_record(partial)
    assert headers["WARC-Target-URI"] == bi.bad_url("truncated_file", "cut")
    assert 0 < len(block) < int(headers["Content-Length"])


def test_lying_short_content_length_leaves_block_tail_before_next_header(cases):
    # _raw_records splits on WARC/1.0 lines, so `rest` runs up to the next real record.
    url = bi.bad_url("lying_content_length_short", "short")
    headers, rest = next(r for r in _raw_records(cases["lying_content_length_short"])
                         if r[0]["WARC-Target-URI"] == url)
    claimed = int(headers["Content-Length"])
    after_claim = rest[claimed:]
    assert len(after_claim) == bi.LYING_SHORT_BY + len(b"\r\n\r\n")
    assert after_claim.endswith(b"</html>\r\n\r\n")  # real end of the block
    assert b"WARC/" not in after_claim


def test_lying_long_content_length_exceeds_its_member(cases):
    members = _gz_members(cases["lying_content_length_long"].path.read_bytes())
    assert all(out is not None for out, _ in members)  # every member is valid gzip
    lying = [_split_record(out) for out, _ in members
             if bi.bad_url("lying_content_length_long", "long").encode() in out]
    assert len(lying) == 1
    headers, rest = lying[0]
    assert rest.endswith(b"\r\n\r\n")
    assert int(headers["Content-Length"]) - (len(rest) - 4) == bi.LYING_LONG_BY


def test_binary_payload_is_not_html(cases):
    case = cases["binary_payload"]
    html_lie = _payload(case, bi.bad_url("binary_payload", "binary-as-html"))
    assert len(html_lie) == 4096
    with pytest.raises(UnicodeDecodeError):
        html_lie.decode("utf-8")
    assert b"<html" not in html_lie.lower()
    records = {u: (ctype, p) for _, u, _, ctype, p in _warc_records(case.path)}
    ctype, png = records[bi.bad_url("binary_payload", "image")]
    assert ctype == "image/png" and png.startswith(b"\x89PNG\r\n\x1a\n")
    assert records[bi.bad_url("binary_payload", "binary-as-html")][0].startswith("text/html")


def test_huge_page_payload_is_over_50_mib(cases):
    payload = _payload(cases["huge_page"], bi.bad_url("huge_page", "huge"))
    assert len(payload) > bi.HUGE_PAGE_MIN_BYTES > 50_000_000 > bi.SIZE_CAP
    assert payload.startswith(b"<!DOCTYPE html>") and payload.endswith(b"</html>")


def test_deep_nesting_has_10000_divs_around_text(cases):
    payload = _payload(cases["deep_nesting"], bi.bad_url("deep_nesting", "deep"))
    assert payload.count(b"<div>") == payload.count(b"</div>") == bi.NESTING_DEPTH == 10_000
    innermost = payload.split(b"<div>")[-1].split(b"</div>")[0]
    assert len(re.sub(rb"<[^>]+>", b" ", innermost).split()) >= 60


def test_charset_pages_disagree_with_their_declarations(cases):
    pages = {u: (ctype, p) for _, u, _, ctype, p in _warc_records(cases["charsets"].path)}
    sub = bi.EXPECTED_SUBSTRINGS

    url = bi.good_url("charsets", "missing-charset")
    ctype, body = pages[url]
    assert "charset" not in ctype and b"charset" not in body
    assert sub[url] in body.decode("utf-8") and not body.isascii()

    url = bi.good_url("charsets", "wrong-header")
    ctype, body = pages[url]
    assert ctype.endswith("charset=iso-8859-1")
    assert sub[url] in body.decode("utf-8")
    assert sub[url] not in body.decode("iso-8859-1")  # trusting the header gives mojibake

    url = bi.good_url("charsets", "shift-jis")
    ctype, body = pages[url]
    assert "charset" not in ctype and b'<meta charset="shift_jis">' in body
    assert sub[url] in body.decode("shift_jis")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")

    url = bi.good_url("charsets", "utf8-is-cp1252")
    ctype, body = pages[url]
    assert ctype.endswith("charset=utf-8") and b'<meta charset="utf-8">' in body
    assert sub[url] in body.decode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


def test_empty_records_are_what_they_claim(cases):
    by_url = {u: (t, s, p) for t, u, s, _, p in _warc_records(cases["empty_records"].path)}
    bad = lambda what: by_url[bi.bad_url("empty_records", what)]  # noqa: E731
    assert bad("empty-block") == ("response", None, b"")
    assert bad("headers-only") == ("response", "200", b"")
    assert bad("server-error")[:2] == ("response", "500") and bad("server-error")[2]
    assert bad("request")[0] == "request"
    assert bad("metadata")[0] == "metadata"
    raw = gzip.decompress(cases["empty_records"].path.read_bytes())
    assert b"WARC-Target-URI: " + bi.bad_url("empty_records", "empty-block").encode() + b"\r\n" in raw
    empty_block = raw.split(bi.bad_url("empty_records", "empty-block").encode())[1].split(b"WARC/1.0")[0]
    assert b"Content-Length: 0\r\n" in empty_block and b"HTTP/1.1" not in empty_block


# ---------------------------------------------------------------- JSONL damage


def _classify_line(line: bytes) -> str | None:
    """Reference reading of one .jsonl line: 'good', a rejection reason, or None (skip)."""
    if not line.strip():
        return None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return "decode_error"
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return "malformed_record"
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return "malformed_record"
    return "good"


def _expect_lines(case, lines: list[bytes]) -> None:
    verdicts = [_classify_line(line) for line in lines]
    rejections = Counter(v for v in verdicts if v not in (None, "good"))
    assert dict(rejections) == case.expected_rejections
    good = [json.loads(line) for line, v in zip(lines, verdicts) if v == "good"]
    assert [g["url"] for g in good] == list(case.good_urls)
    for g in good:
        assert bi.EXPECTED_SUBSTRINGS[g["url"]] in g["text"]
        assert len(g["text"].split()) >= 60


def test_broken_jsonl_lines_match_expected_rejections(cases):
    case = cases["broken_jsonl"]
    lines = case.path.read_bytes().split(b"\n")
    assert lines[-1] == b""  # file ends with a newline, not a partial line
    assert b"" in lines[:-1]  # the blank line is really there
    _expect_lines(case, lines[:-1])
    assert b"[1, 2, 3]" in lines


def test_broken_jsonl_gz_is_cut_inside_the_last_line(cases):
    case = cases["broken_jsonl_gz"]
    data = case.path.read_bytes()
    with pytest.raises(EOFError):
        gzip.decompress(data)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    text = inflater.decompress(data)
    assert not inflater.eof
    *complete, partial = text.split(b"\n")
    assert partial and _classify_line(partial) == "malformed_record"
    _expect_lines(case, complete + [partial])


def test_jsonl_zst_is_valid(cases):
    case = cases["jsonl_zst"]
    data = zstandard.ZstdDecompressor().decompress(case.path.read_bytes())
    assert data.endswith(b"\n")
    _expect_lines(case, data.split(b"\n")[:-1])
    assert case.expected_rejections == {}
