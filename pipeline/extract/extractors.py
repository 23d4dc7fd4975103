"""HTML -> main text, with trafilatura (default) or resiliparse, under a per-document time limit."""
from __future__ import annotations

import contextlib
import signal
import threading
from dataclasses import dataclass
from typing import Callable, Iterator

from pipeline.config import ExtractConfig
from pipeline.text import clean_text


class ExtractTimeout(Exception):
    """One page took longer than extract.timeout_s."""


@dataclass(frozen=True)
class Extraction:
    text: str | None          # None when rejected
    reason: str | None        # extract_empty | extract_timeout | extract_error
    detail: str | None = None


def make_extractor(config: ExtractConfig) -> Callable[[str, str | None], Extraction]:
    """Returns extract(html, url) -> Extraction for the configured backend."""
    backend = _trafilatura_backend(config) if config.extractor == "trafilatura" else _resiliparse_backend(config)

    def extract(html: str, url: str | None) -> Extraction:
        try:
            with time_limit(config.timeout_s):
                raw = backend(html, url)
        except ExtractTimeout:
            return Extraction(None, "extract_timeout", f"> {config.timeout_s:g}s")
        except RecursionError:
            return Extraction(None, "extract_error", "HTML nested too deeply")
        except Exception as err:  # a parser bug on one page must not fail the task
            return Extraction(None, "extract_error", f"{type(err).__name__}: {err}"[:500])
        text = clean_text(raw or "")
        if len(text) < config.min_text_chars:
            return Extraction(None, "extract_empty", None)
        return Extraction(text, None)

    return extract


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


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ExtractTimeout in the block after `seconds` (SIGALRM; main thread only).

    Spark's Python workers run our batch functions on their main thread, so the alarm works
    there; elsewhere (a thread) the block runs without a limit rather than failing.
    """
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def on_alarm(signum, frame):
        raise ExtractTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
