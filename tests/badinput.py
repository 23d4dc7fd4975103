"""Deterministic generator of damaged input files for reader / fault-injection tests.

Each ``make_<case>(directory)`` writes one file and returns a :class:`Case` saying
which good URLs a resilient reader must still deliver intact and which rejections
(reason -> count) it should report for the damaged part.  Every byte is a pure
function of the case name: record ids, dates, random junk and text are all seeded,
so two runs produce identical files (tests compare sha256).

Layout shared by every case: four good pages ``http://good.example/<case>/<n>``
(n = 0..3, ~95 words of distinct English inside ``<article><p>``), two before the
damage and two after it (``truncated_file`` is the exception: nothing can follow a
cut).  Damaged records live under ``http://bad.example/<case>/...`` and are never in
``good_urls``.  ``EXPECTED_SUBSTRINGS`` maps every good URL to a sentence its
extracted text must contain, so "delivered intact" and "decoded correctly" can be
checked, not only "delivered".

Where a reader may legitimately take another path, the docstring says so and
``ALTERNATIVE_OUTCOMES`` lists it in machine-readable form.
"""

from __future__ import annotations

import gzip
import io
import json
import pathlib
import random
import struct
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import zstandard
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

SIZE_CAP = 5_000_000  # the pipeline's default payload cap; huge_page must exceed it
HUGE_PAGE_MIN_BYTES = 50 * 1024 * 1024
NESTING_DEPTH = 10_000
GOOD_PAGES = 4  # n = 0, 1 before the damage, 2, 3 after it

REASONS = (
    "malformed_record",
    "not_html",
    "too_large",
    "decode_error",
    "extract_empty",
    "extract_timeout",
    "http_status",
    "not_response",
)


@dataclass(frozen=True)
class Case:
    name: str
    path: pathlib.Path
    good_urls: tuple[str, ...]
    expected_rejections: dict[str, int]


@dataclass(frozen=True)
class Alternative:
    """Another acceptable outcome: these URLs may also be delivered, with these rejections."""

    also_delivered: tuple[str, ...] = ()
    expected_rejections: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------- text


_ADJ = ("quiet", "narrow", "ancient", "busy", "green", "distant", "small", "bright",
        "patient", "careful", "heavy", "gentle", "wooden", "northern", "curious", "steady")
_NOUN = ("river", "farmer", "library", "engineer", "garden", "bridge", "teacher", "harbor",
         "orchard", "lantern", "market", "painter", "railway", "village", "workshop", "meadow")
_VERB = ("watches", "repairs", "crosses", "describes", "follows", "measures", "visits",
         "protects", "remembers", "paints", "supplies", "explores", "guides", "collects")
_PLACE = ("valley", "coast", "city square", "old mill", "hillside", "station", "forest edge",
          "town hall", "lake shore", "border road", "south field", "museum")
_LINK = ("near", "behind", "beyond", "across", "below", "around", "inside", "beside")


def _sentence(rng: random.Random) -> str:
    return (f"The {rng.choice(_ADJ)} {rng.choice(_NOUN)} {rng.choice(_VERB)} the "
            f"{rng.choice(_ADJ)} {rng.choice(_NOUN)} {rng.choice(_LINK)} the {rng.choice(_PLACE)}.")


def _prose(seed: str, sentences: int = 8) -> list[str]:
    # Seeding with the URL keeps every page distinct (dedup must not merge them)
    # while staying reproducible across runs and Python hash seeds.
    rng = random.Random(seed)
    return [_sentence(rng) for _ in range(sentences)]


def good_url(case: str, n: int) -> str:
    return f"http://good.example/{case}/{n}"


def bad_url(case: str, what: str) -> str:
    return f"http://bad.example/{case}/{what}"


def _marker(case: str, n: int) -> str:
    return f"Reference marker for the {case.replace('_', ' ')} sample, page {n}."


def _good_text(case: str, n: int) -> str:
    body = _prose(good_url(case, n))
    return " ".join([_marker(case, n), *body])


def _html(title: str, paragraphs: list[str], meta_charset: str | None = "utf-8") -> str:
    meta = f'<meta charset="{meta_charset}">' if meta_charset else ""
    ps = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html><head>{meta}<title>{title}</title></head><body>"
            f'<nav><a href="/">Home</a> <a href="/about">About</a></nav>'
            f"<article><h1>{title}</h1>{ps}</article>"
            f"<footer>Copyright example.org</footer></body></html>")


def _good_html(case: str, n: int) -> bytes:
    sentences = _good_text(case, n).split(". ")
    half = len(sentences) // 2
    paragraphs = [". ".join(sentences[:half]) + ".", ". ".join(sentences[half:])]
    return _html(f"Good page {n}", paragraphs).encode("utf-8")


# ----------------------------------------------------------------- charset pages

_CHARSET_ENGLISH = " ".join(_prose("charsets/english", 7))

# url -> (http Content-Type, meta charset or None, real encoding, special sentence)
_CHARSET_PAGES = {
    good_url("charsets", "missing-charset"): (
        "text/html", None, "utf-8",
        "Crème brûlée and naïve café owners in Zürich agree about the façade."),
    good_url("charsets", "wrong-header"): (
        "text/html; charset=iso-8859-1", None, "utf-8",
        "Съешь же ещё этих мягких французских булок, да выпей чаю. Déjà vu in Orléans."),
    good_url("charsets", "shift-jis"): (
        "text/html", "shift_jis", "shift_jis",
        "日本語のテキストは正しく表示されるべきです。東京の図書館で新しい本を読みました。"
        "今日は天気がとても良いので、公園を散歩します。"),
    good_url("charsets", "utf8-is-cp1252"): (
        "text/html; charset=utf-8", "utf-8", "cp1252",
        "“Déjà vu” at the café — naïve crème brûlée, señor, and a façade in Besançon."),
}

# What the extracted text of each good page must contain.
EXPECTED_SUBSTRINGS: dict[str, str] = {}


def _charset_substring(sentence: str) -> str:
    return sentence.split(",")[0].split("。")[0]


EXPECTED_SUBSTRINGS.update({url: _charset_substring(spec[3]) for url, spec in _CHARSET_PAGES.items()})


def _charset_html(url: str) -> tuple[str, bytes]:
    content_type, meta, encoding, special = _CHARSET_PAGES[url]
    page = _html("Charset sample", [_CHARSET_ENGLISH, special], meta_charset=meta)
    return content_type, page.encode(encoding)


# ------------------------------------------------------------------ warc records


class _Warc:
    """Collects WARC records as separate byte chunks so damage can target one record.

    With gzip=True each chunk is exactly one gzip member, which is what lets a
    resilient reader resynchronise after a damaged record.
    """

    _EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)

    def __init__(self, case: str, gzip: bool):
        self.case = case
        self.gzip = gzip
        self.chunks: list[bytes] = []

    def _warc_headers(self) -> dict[str, str]:
        # Fixed ids and dates: warcio would otherwise use uuid4() and now().
        i = len(self.chunks)
        date = self._EPOCH + timedelta(seconds=i)
        return {
            "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{self.case}/{i}')}>",
            "WARC-Date": date.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def _write(self, record) -> int:
        buf = io.BytesIO()
        WARCWriter(buf, gzip=self.gzip).write_record(record)
        self.chunks.append(buf.getvalue())
        return len(self.chunks) - 1

    def response(self, url: str, body: bytes, content_type: str = "text/html; charset=utf-8",
                 status: str = "200 OK") -> int:
        http = StatusAndHeaders(status, [("Content-Type", content_type),
                                         ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
        writer = WARCWriter(None)
        record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                           http_headers=http, warc_headers_dict=self._warc_headers())
        return self._write(record)

    def empty_block_response(self, url: str) -> int:
        # No HTTP headers at all: warcio writes Content-Length: 0 and nothing else.
        record = WARCWriter(None).create_warc_record(url, "response",
                                                     warc_headers_dict=self._warc_headers())
        return self._write(record)

    def request(self, url: str) -> int:
        http = StatusAndHeaders(f"GET /{url.split('/', 3)[3]} HTTP/1.1",
                                [("Host", url.split("/")[2]), ("User-Agent", "curate-test")],
                                is_http_request=True)
        record = WARCWriter(None).create_warc_record(url, "request", http_headers=http,
                                                     warc_headers_dict=self._warc_headers())
        return self._write(record)

    def metadata(self, url: str) -> int:
        body = b"fetchTimeMs: 120\r\ncharset-detected: UTF-8\r\n"
        record = WARCWriter(None).create_warc_record(url, "metadata", payload=io.BytesIO(body),
                                                     length=len(body),
                                                     warc_headers_dict=self._warc_headers())
        return self._write(record)

    def good_pages(self, ns) -> list[str]:
        urls = []
        for n in ns:
            urls.append(good_url(self.case, n))
            self.response(urls[-1], _good_html(self.case, n))
        return urls

    def offset(self, index: int) -> int:
        return sum(len(c) for c in self.chunks[:index])

    def save(self, path: pathlib.Path) -> pathlib.Path:
        path.write_bytes(b"".join(self.chunks))
        return path


def _bad_html(case: str, what: str) -> bytes:
    return _html(f"Damaged {what}", _prose(bad_url(case, what), 12)).encode("utf-8")


def _junk(seed: str, size: int) -> bytes:
    # No 0x1f byte, so the junk can never look like a gzip magic a reader might resync to.
    rng = random.Random(seed)
    return bytes(rng.choice(range(0x20, 0x100)) for _ in range(size))


def _replace_content_length(record: bytes, new_length: int) -> bytes:
    head, sep, block = record.partition(b"\r\n\r\n")
    lines = [f"Content-Length: {new_length}".encode() if line.startswith(b"Content-Length:") else line
             for line in head.split(b"\r\n")]
    return b"\r\n".join(lines) + sep + block


def _content_length(record: bytes) -> int:
    head = record.partition(b"\r\n\r\n")[0]
    line = next(l for l in head.split(b"\r\n") if l.startswith(b"Content-Length:"))
    return int(line.split(b":")[1])


def _gzip_member(data: bytes) -> bytes:
    # mtime=0 keeps the header deterministic.
    return gzip.compress(data, compresslevel=9, mtime=0)


def _case(name, path, good_urls, **rejections) -> Case:
    return Case(name=name, path=path, good_urls=tuple(good_urls), expected_rejections=dict(rejections))


# ------------------------------------------------------------------- WARC cases


def make_corrupt_gzip_member(directory: pathlib.Path) -> Case:
    """One record's gzip member has 64 bytes of junk written over its middle.

    The 10-byte gzip header of that member is untouched, so a reader sees a
    plausible member start and then fails inside deflate (bad block / distance
    or CRC mismatch).  The junk contains no 0x1f byte and the damaged member
    contains no other gzip magic, so the next real member boundary is the first
    place a reader scanning for ``1f 8b 08`` can resync.  Expect the damaged
    record as ``malformed_record`` x1 and all four good pages (two before, two
    after) delivered intact.  A plain ``warcio.ArchiveIterator`` raises
    ArchiveLoadFailed at the damaged member and loses the pages after it.
    """
    name = "corrupt_gzip_member"
    warc = _Warc(name, gzip=True)
    urls = warc.good_pages([0, 1])
    victim = warc.response(bad_url(name, "corrupt"), _bad_html(name, "corrupt"))
    urls += warc.good_pages([2, 3])
    member = bytearray(warc.chunks[victim])
    middle = len(member) // 2
    member[middle - 32:middle + 32] = _junk(name, 64)
    warc.chunks[victim] = bytes(member)
    return _case(name, warc.save(directory / f"{name}.warc.gz"), urls, malformed_record=1)


def make_truncated_file(directory: pathlib.Path) -> Case:
    """The .warc.gz ends halfway through the last record's gzip member.

    This is what an interrupted download looks like: the four good pages all
    precede the cut (nothing can follow it) and must be delivered; the cut
    record is ``malformed_record`` x1: its member has no end-of-stream marker
    (``gzip`` raises EOFError) and its block is shorter than its Content-Length.
    Trap: warcio 1.8.1's ArchiveIterator does *not* raise here, it silently
    yields the record with a ~90-byte payload, so a reader must compare the
    bytes it got with Content-Length or it will report ``extract_empty``.
    """
    name = "truncated_file"
    warc = _Warc(name, gzip=True)
    urls = warc.good_pages(range(GOOD_PAGES))
    victim = warc.response(bad_url(name, "cut"), _bad_html(name, "cut"))
    warc.chunks[victim] = warc.chunks[victim][: len(warc.chunks[victim]) // 2]
    return _case(name, warc.save(directory / f"{name}.warc.gz"), urls, malformed_record=1)


LYING_SHORT_BY = 300  # bytes of the real block left where the next WARC header should be
LYING_LONG_BY = 1000  # claimed bytes beyond the end of the member


def make_lying_content_length_short(directory: pathlib.Path) -> Case:
    """Uncompressed .warc: one record's Content-Length is 300 bytes less than its block.

    A reader that trusts the length stops inside the HTML body; the last 300
    bytes of that body plus the record's ``\\r\\n\\r\\n`` then sit where the
    next ``WARC/1.0`` line should be (they contain no "WARC/" text).  The record
    also fails its WARC-Block-Digest.  Expected: the lying record is
    ``malformed_record`` x1, and the reader resyncs at the next ``WARC/1.0``
    line so the two pages after it survive.  Also acceptable: a streaming
    reader that already emitted the lying record (a truncated but readable
    page) and then counts the stray tail as the one ``malformed_record``.
    warcio 1.8.1 takes that second path but only prints "Record not followed
    by newline" to stderr, so a reader built on it must surface that itself.
    """
    name = "lying_content_length_short"
    warc = _Warc(name, gzip=False)
    urls = warc.good_pages([0, 1])
    victim = warc.response(bad_url(name, "short"), _bad_html(name, "short"))
    urls += warc.good_pages([2, 3])
    record = warc.chunks[victim]
    warc.chunks[victim] = _replace_content_length(record, _content_length(record) - LYING_SHORT_BY)
    return _case(name, warc.save(directory / f"{name}.warc"), urls, malformed_record=1)


def make_lying_content_length_long(directory: pathlib.Path) -> Case:
    """.warc.gz: one record claims 1000 more bytes than its gzip member holds.

    The member itself is a valid gzip stream (recompressed after editing the
    header), so only the length lies.  A reader that treats each member as one
    record sees the member end before Content-Length is satisfied:
    ``malformed_record`` x1, and the next member starts clean.  A reader that
    reads the concatenated decompressed stream (``gzip.open``) would swallow the
    start of the next good record into the lying block and lose it; that is the
    failure this case exists to catch.  warcio 1.8.1 reading the .gz file
    stops at the member end and yields the whole real block without complaint;
    delivering the page with no rejection is therefore also acceptable (the
    block is complete and its digest matches), but not losing page 2.
    """
    name = "lying_content_length_long"
    warc = _Warc(name, gzip=True)
    urls = warc.good_pages([0, 1])
    victim = warc.response(bad_url(name, "long"), _bad_html(name, "long"))
    urls += warc.good_pages([2, 3])
    record = gzip.decompress(warc.chunks[victim])
    lying = _replace_content_length(record, _content_length(record) + LYING_LONG_BY)
    warc.chunks[victim] = _gzip_member(lying)
    return _case(name, warc.save(directory / f"{name}.warc.gz"), urls, malformed_record=1)


def _tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00", 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def make_binary_payload(directory: pathlib.Path) -> Case:
    """Two 200 responses whose payload is not HTML.

    One says ``text/html; charset=utf-8`` but its body is 4096 seeded random
    bytes (invalid UTF-8, no tags); the other is a real 1x1 PNG served as
    ``image/png``.  Expected ``not_html`` x2.  For the lying text/html one,
    ``decode_error`` is also acceptable (a reader that decodes strictly before
    sniffing), but it must not be delivered as text.
    """
    name = "binary_payload"
    warc = _Warc(name, gzip=True)
    urls = warc.good_pages([0, 1])
    warc.response(bad_url(name, "binary-as-html"), random.Random(name).randbytes(4096))
    warc.response(bad_url(name, "image"), _tiny_png(), content_type="image/png")
    urls += warc.good_pages([2, 3])
    return _case(name, warc.save(directory / f"{name}.warc.gz"), urls, not_html=2)


def _huge_html(case: str) -> bytes:
    paragraph = ("<p>" + " ".join(_prose(bad_url(case, "huge"), 8)) + "</p>\n").encode()
    repeats = HUGE_PAGE_MIN_BYTES // len(paragraph) + 1
    # Bytes multiplication: 50 MiB in milliseconds, and deflate squeezes it to ~150 KB.
    return b"<!DOCTYPE html><html><body><article>" + paragraph * repeats + b"</article></body></html>"


def make_huge_page(directory: pathlib.Path) -> Case:
    """A 200 text/html page whose payload is > 50 MiB, ten times the 5 MB cap.

    The page is one paragraph repeated, so the .warc.gz is small on disk (the
    reader must cap the *decompressed* payload, not the file size).  Expected
    ``too_large`` x1; the good pages on both sides are unaffected.
    """
    name = "huge_page"
    warc = _Warc(name, gzip=True)
    urls = warc.good_pages([0, 1])
    warc.response(bad_url(name, "huge"), _huge_html(name))
    urls += warc.good_pages([2, 3])
    return _case(name, warc.save(directory / f"{name}.warc.gz"), urls, too_large=1)


def _deep_html(case: str) -> bytes:
    text = " ".join(_prose(bad_url(case, "deep"), 8))
    return (f"<!DOCTYPE html><html><head><title>Deep</title></head><body>"
            f"{'<div>' * NESTING_DEPTH}<p>{text}</p>{'</div>' * NESTING_DEPTH}"
            f"</body></html>").encode()


def make_deep_nesting(directory: pathlib.Path) -> Case:
    """A page with its only text under 10,000 nested ``<div>`` elements.

    Parsers cap depth differently: libxml2 (lxml, hence trafilatura 2.3.1)
    stops at 256 levels, so the text is lost and the natural result is
    ``extract_empty`` x1 (measured: trafilatura returns '' in ~0.5 s).
    Resiliparse's lexbor tree keeps all levels and does extract the text, but
    its main-content mode takes ~3 s here, so a reader with a short per-page
    budget may instead report ``extract_timeout``.  All three are acceptable
    (see ALTERNATIVE_OUTCOMES); a crash (RecursionError, worker death) is not,
    and the good pages around it must survive either way.
    """
    name = "deep_nesting"
    warc = _Warc(name, gzip=True)
    urls = warc.good_pages([0, 1])
    warc.response(bad_url(name, "deep"), _deep_html(name))
    urls += warc.good_pages([2, 3])
    return _case(name, warc.save(directory / f"{name}.warc.gz"), urls, extract_empty=1)


def make_charsets(directory: pathlib.Path) -> Case:
    """Four pages whose bytes and charset declarations disagree; all must be kept.

    - ``missing-charset``: UTF-8 bytes with accents, no charset in the header, no meta.
    - ``wrong-header``: HTTP says iso-8859-1, bytes are UTF-8 (accents + Cyrillic).
      Latin-1 decodes any bytes, so trusting the header silently gives mojibake;
      the reader has to notice the bytes are valid multi-byte UTF-8.
    - ``shift-jis``: ``<meta charset="shift_jis">``, no charset in the header,
      real Shift-JIS bytes (Japanese sentences after English prose).
    - ``utf8-is-cp1252``: header and meta both say utf-8, bytes are windows-1252
      (curly quotes 0x93/0x94, em dash 0x97, é/à...), so strict UTF-8 fails and the
      reader must fall back.  Measured: resiliparse ``detect_encoding`` +
      ``bytes_to_str`` recover all four pages; charset-normalizer 3.5.2 guesses
      cp1257 here and ``trafilatura.extract(bytes)`` mangles "Déjà"; trusting
      the header on ``wrong-header`` gives mojibake.
    ``EXPECTED_SUBSTRINGS`` holds a phrase each page's text must contain once
    decoded.  No rejections are expected: ``decode_error`` for any of these is a
    reader bug.
    """
    name = "charsets"
    warc = _Warc(name, gzip=True)
    urls = warc.good_pages([0, 1])
    for url in _CHARSET_PAGES:
        content_type, body = _charset_html(url)
        warc.response(url, body, content_type=content_type)
        urls.append(url)
    urls += warc.good_pages([2, 3])
    return _case(name, warc.save(directory / f"{name}.warc.gz"), urls)


def make_empty_records(directory: pathlib.Path) -> Case:
    """Records that are well-formed WARC but carry nothing to extract.

    - ``empty-block``: a response record with Content-Length 0 (no HTTP status
      line, no headers, no body).  Our reader insists on an HTTP status line and
      calls it ``malformed_record``; ``extract_empty`` would also be defensible.
    - ``headers-only``: ``HTTP/1.1 200 OK``, text/html, Content-Length: 0, no body
      -> ``extract_empty``.
    - ``server-error``: a 500 with an HTML error page -> ``http_status``.
    - a ``request`` record and a ``metadata`` record -> ``not_response`` x2.
    """
    name = "empty_records"
    warc = _Warc(name, gzip=True)
    urls = warc.good_pages([0, 1])
    warc.empty_block_response(bad_url(name, "empty-block"))
    warc.response(bad_url(name, "headers-only"), b"")
    warc.response(bad_url(name, "server-error"), _bad_html(name, "server-error"),
                  status="500 Internal Server Error")
    warc.request(bad_url(name, "request"))
    warc.metadata(bad_url(name, "metadata"))
    urls += warc.good_pages([2, 3])
    return _case(name, warc.save(directory / f"{name}.warc.gz"), urls,
                 extract_empty=1, malformed_record=1, http_status=1, not_response=2)


# ------------------------------------------------------------------ JSONL cases


def _good_line(case: str, n: int) -> bytes:
    return json.dumps({"text": _good_text(case, n), "url": good_url(case, n)},
                      ensure_ascii=False).encode() + b"\n"


def make_broken_jsonl(directory: pathlib.Path) -> Case:
    """A .jsonl with two good lines, six bad ones, then two good lines.

    - a JSON object cut mid-string (the line still ends in a newline) -> malformed_record
    - a blank line -> skipped, not counted
    - ``[1, 2, 3]``: valid JSON but not an object -> malformed_record
    - an object with ``url`` and ``title`` but no ``text`` -> malformed_record
      (``extract_empty`` would also be defensible; schema violation is more natural)
    - an object whose text holds raw 0xE9 bytes (Latin-1 "café") -> decode_error;
      a reader that decodes the whole file first may report malformed_record
      instead, but must not deliver the line with replacement characters.
    Expected: malformed_record x3, decode_error x1.
    """
    name = "broken_jsonl"
    lines = [_good_line(name, 0), _good_line(name, 1),
             b'{"text": "This line was cut off in the mid\n',
             b"\n",
             b"[1, 2, 3]\n",
             json.dumps({"url": bad_url(name, "no-text"), "title": "No text here"}).encode() + b"\n",
             b'{"text": "A caf\xe9 in the old town serves coffee.", "url": "'
             + bad_url(name, "latin1").encode() + b'"}\n',
             _good_line(name, 2), _good_line(name, 3)]
    path = directory / f"{name}.jsonl"
    path.write_bytes(b"".join(lines))
    return _case(name, path, [good_url(name, n) for n in range(GOOD_PAGES)],
                 malformed_record=3, decode_error=1)


def make_broken_jsonl_gz(directory: pathlib.Path) -> Case:
    """A .jsonl.gz whose gzip stream is cut in the middle of its last line.

    The four good lines are compressed and then sync-flushed, so the compressed
    prefix decodes to exactly those lines; a long last line follows, and the file
    ends halfway through that line's compressed bytes (no gzip trailer).
    Expected: the four good lines delivered, ``malformed_record`` x1 for the
    cut tail (``gzip`` raises EOFError "ended before the end-of-stream marker").
    """
    name = "broken_jsonl_gz"
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip header, mtime 0
    good = compressor.compress(b"".join(_good_line(name, n) for n in range(GOOD_PAGES)))
    good += compressor.flush(zlib.Z_SYNC_FLUSH)
    last = json.dumps({"text": " ".join(_prose(bad_url(name, "cut"), 60)),
                       "url": bad_url(name, "cut")}).encode() + b"\n"
    tail = compressor.compress(last) + compressor.flush()
    path = directory / f"{name}.jsonl.gz"
    path.write_bytes(good + tail[: len(tail) // 2])
    return _case(name, path, [good_url(name, n) for n in range(GOOD_PAGES)], malformed_record=1)


def make_huge_jsonl_line(directory: pathlib.Path) -> Case:
    """A .jsonl.gz whose third line is one JSON document of > 50 MiB (small on disk: repeated text).

    A reader must not hold the line: it is rejected ``too_large`` x1 while read past in chunks, and
    the good lines on both sides are delivered.
    """
    name = "huge_jsonl_line"
    sentence = " ".join(_prose(bad_url(name, "huge"), 8)) + " "
    repeats = HUGE_PAGE_MIN_BYTES // len(sentence.encode()) + 1
    huge = (b'{"url": "' + bad_url(name, "huge").encode() + b'", "text": "'
            + sentence.encode() * repeats + b'"}\n')
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    data = b"".join(compressor.compress(part) for part in
                    [_good_line(name, 0), _good_line(name, 1), huge, _good_line(name, 2), _good_line(name, 3)])
    path = directory / f"{name}.jsonl.gz"
    path.write_bytes(data + compressor.flush())
    return _case(name, path, [good_url(name, n) for n in range(GOOD_PAGES)], too_large=1)


def make_jsonl_zst(directory: pathlib.Path) -> Case:
    """A valid zstd-compressed .jsonl with four good lines; nothing to reject."""
    name = "jsonl_zst"
    data = b"".join(_good_line(name, n) for n in range(GOOD_PAGES))
    path = directory / f"{name}.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor(level=3).compress(data))
    return _case(name, path, [good_url(name, n) for n in range(GOOD_PAGES)])


# ---------------------------------------------------------------------- registry

MAKERS = (
    make_corrupt_gzip_member,
    make_truncated_file,
    make_lying_content_length_short,
    make_lying_content_length_long,
    make_binary_payload,
    make_huge_page,
    make_deep_nesting,
    make_charsets,
    make_empty_records,
    make_broken_jsonl,
    make_broken_jsonl_gz,
    make_huge_jsonl_line,
    make_jsonl_zst,
)
CASE_NAMES = tuple(m.__name__.removeprefix("make_") for m in MAKERS)

EXPECTED_SUBSTRINGS.update({good_url(case, n): _marker(case, n)
                            for case in CASE_NAMES for n in range(GOOD_PAGES)})

# Other outcomes the docstrings call acceptable, besides Case.expected_rejections.
ALTERNATIVE_OUTCOMES: dict[str, tuple[Alternative, ...]] = {
    "lying_content_length_short": (
        Alternative((bad_url("lying_content_length_short", "short"),), {"malformed_record": 1}),),
    "lying_content_length_long": (
        Alternative((bad_url("lying_content_length_long", "long"),), {}),),
    "binary_payload": (
        Alternative((), {"not_html": 1, "decode_error": 1}),),
    "deep_nesting": (
        Alternative((bad_url("deep_nesting", "deep"),), {}),
        Alternative((), {"extract_timeout": 1}),),
    "empty_records": (
        Alternative((), {"extract_empty": 2, "http_status": 1, "not_response": 2}),),
    "broken_jsonl": (
        Alternative((), {"malformed_record": 4}),
        Alternative((), {"malformed_record": 2, "extract_empty": 1, "decode_error": 1}),),
}


def make_all(directory: pathlib.Path) -> list[Case]:
    directory.mkdir(parents=True, exist_ok=True)
    return [make(directory) for make in MAKERS]
