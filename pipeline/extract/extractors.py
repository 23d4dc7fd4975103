"""HTML -> main text, with trafilatura, resiliparse or fast (fast_html.py), under a hard per-page time limit.

The extractor runs in a sandbox child process (pipeline/sandbox.py): a page that takes longer
than extract.timeout_s is killed there, whether it hangs in Python or in C (lxml, resiliparse,
a backtracking regular expression), and becomes `extract_timeout`; one that crashes the child
(a segfault in a parser) becomes `extract_error`. The rest of the batch goes on. Pages go to
the child a chunk at a time (`Extractor.many`), one round trip per chunk; a single call
(`Extractor(html, url)`) is a chunk of one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

from pipeline.config import ExtractConfig
from pipeline.sandbox import Failure, Sandbox
from pipeline.text import clean_text

# Pages per round trip to the sandbox child, and their HTML characters at most.
CHUNK_PAGES = 64
CHUNK_CHARS = 16_000_000


@dataclass(frozen=True)
class Extraction:
    text: str | None          # None when rejected
    reason: str | None        # extract_empty | extract_timeout | extract_error
    detail: str | None = None


class Extractor:
    """extract(html, url) -> Extraction for the configured backend, each page under the limit.

    The sandbox child is forked on first use, from the process that uses the extractor (a Spark
    Python worker), and reused for every later page."""

    def __init__(self, config: ExtractConfig):
        self.config = config
        self.backend = BACKENDS[config.extractor](config)
        self.sandbox = Sandbox(self._extract_page, config.timeout_s, chunk_size=CHUNK_PAGES,
                               weigh=_page_chars, chunk_weight=CHUNK_CHARS)

    def __call__(self, html: str, url: str | None) -> Extraction:
        return self.many([(html, url)])[0]

    def many(self, pages: Sequence[tuple[str, str | None]]) -> list[Extraction]:
        """One Extraction per (html, url), in order."""
        return [_from_failure(r, self.config) if isinstance(r, Failure) else r
                for r in self.sandbox.map(pages)]

    def extract_inline(self, html: str, url: str | None) -> Extraction:
        """The same extraction in this process, without a time limit (what the child runs)."""
        try:
            raw = self.backend(html, url)
        except RecursionError:
            return Extraction(None, "extract_error", "HTML nested too deeply")
        except Exception as err:  # a parser bug on one page must not fail the task
            return Extraction(None, "extract_error", f"{type(err).__name__}: {err}"[:500])
        text = clean_text(raw or "")
        if len(text) < self.config.min_text_chars:
            return Extraction(None, "extract_empty", None)
        return Extraction(text, None)

    def close(self) -> None:
        self.sandbox.close()

    def _extract_page(self, page: tuple[str, str | None]) -> Extraction:
        return self.extract_inline(*page)


def make_extractor(config: ExtractConfig) -> Extractor:
    """The extractor for `config`: call it per page, or `.many(pages)` per batch."""
    return Extractor(config)


def extract_rows(rows: Iterable[dict], extractor: Extractor) -> Iterator[dict]:
    """The extract stage's rows, in order, with the page of each row that holds one under
    `_html` (decoded HTML) extracted: `text` set, or `drop_reason` and `drop_detail`; `_html`
    removed. Rows wait for their chunk (CHUNK_PAGES pages or CHUNK_CHARS characters), which goes
    to the sandbox child in one round trip."""
    held: list[dict] = []
    pages: list[dict] = []
    chars = 0
    for row in rows:
        held.append(row)
        if row.get("_html") is not None:
            pages.append(row)
            chars += len(row["_html"])
            if len(pages) >= CHUNK_PAGES or chars >= CHUNK_CHARS:
                _fill(pages, extractor)
                yield from held
                held, pages, chars = [], [], 0
    _fill(pages, extractor)
    yield from held


def _fill(rows: list[dict], extractor: Extractor) -> None:
    if not rows:
        return
    for row, result in zip(rows, extractor.many([(row.pop("_html"), row["url"]) for row in rows])):
        if result.reason:
            row["drop_reason"], row["drop_detail"] = result.reason, result.detail
        else:
            row["text"] = result.text


def _page_chars(page: tuple[str, str | None]) -> int:
    return len(page[0])


def _from_failure(failure: Failure, config: ExtractConfig) -> Extraction:
    if failure.kind == "timeout":
        return Extraction(None, "extract_timeout", f"> {config.timeout_s:g}s")
    return Extraction(None, "extract_error", failure.detail[:500])


def _trafilatura_backend(config: ExtractConfig) -> Callable[[str, str | None], str | None]:
    import trafilatura
    from trafilatura.settings import use_config

    options = config.trafilatura
    settings = use_config()
    # Our own size cap applies; trafilatura's default would silently drop pages below it.
    settings.set("DEFAULT", "MAX_FILE_SIZE", str(config.max_html_bytes))

    def run(html: str, url: str | None) -> str | None:
        return trafilatura.extract(
            html, url=url, config=settings,
            include_comments=options.include_comments, include_tables=options.include_tables,
            favor_precision=options.favor_precision, favor_recall=options.favor_recall,
            deduplicate=options.deduplicate, fast=options.fast,
            output_format="txt", with_metadata=False)

    return run


def _resiliparse_backend(config: ExtractConfig) -> Callable[[str, str | None], str | None]:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    options = config.resiliparse

    def run(html: str, url: str | None) -> str | None:
        tree = HTMLTree.parse(html)
        return extract_plain_text(tree, main_content=options.main_content, alt_texts=options.alt_texts,
                                  links=options.links, list_bullets=options.list_bullets)

    return run


def _fast_backend(config: ExtractConfig) -> Callable[[str, str | None], str | None]:
    """fast_html's extraction; trafilatura (as configured) on the pages where it is unsure."""
    from pipeline.extract.fast_html import extract_main_text

    fallback = _trafilatura_backend(config)

    def run(html: str, url: str | None) -> str | None:
        text = extract_main_text(html)
        return fallback(html, url) if text is None else text

    return run


# extract.extractor -> the backend factory (pipeline/config.py's KNOWN_EXTRACTORS names the same).
BACKENDS: dict[str, Callable[[ExtractConfig], Callable[[str, str | None], str | None]]] = {
    "trafilatura": _trafilatura_backend, "resiliparse": _resiliparse_backend, "fast": _fast_backend}
