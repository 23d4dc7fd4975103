import re
import time

import pytest

from pipeline.config import ExtractConfig
from pipeline.extract.extractors import Extraction, extract_rows, make_extractor
from tests.warcs import article

PAGE = article("Rivers of the north", "The committee published its annual report on water quality.\n"
               "Nitrate levels fell in eleven of the fourteen rivers sampled over the summer months, "
               "while two rivers showed a rise that the authors link to new farming practices upstream.\n"
               "Local groups welcomed the findings but asked for monthly rather than yearly sampling.").decode()
HANG_PAGE = PAGE.replace("Nitrate levels", "CATASTROPHIC Nitrate levels")
LIMIT = 0.5
SLACK = 1.5


@pytest.fixture
def hanging_trafilatura(monkeypatch):
    """trafilatura.extract that hangs inside the C regex engine on pages holding a marker:
    `(a+)+$` on 'a' * 40 + 'b' backtracks for days (over 30 s from 30 characters on), and no
    Python-level signal handler runs meanwhile."""
    import trafilatura

    real = trafilatura.extract

    def extract(html, *args, **kwargs):
        if "CATASTROPHIC" in html:
            re.match(r"(a+)+$", "a" * 40 + "b")
        return real(html, *args, **kwargs)

    monkeypatch.setattr(trafilatura, "extract", extract)


@pytest.mark.parametrize("extractor", ["fast", "trafilatura", "resiliparse"])
def test_main_text_without_boilerplate(extractor):
    result = make_extractor(ExtractConfig(extractor=extractor))(PAGE, "http://r.example/")
    assert result.reason is None
    assert "Nitrate levels fell in eleven" in result.text
    assert "monthly rather than yearly" in result.text
    assert "All rights reserved" not in result.text
    assert "Contact" not in result.text


def test_empty_page_is_rejected():
    result = make_extractor(ExtractConfig())("<html><head><script>var x = 1;</script></head><body> </body></html>", None)
    assert (result.text, result.reason) == (None, "extract_empty")


def test_a_page_hanging_in_c_code_is_cut_at_the_limit_and_the_batch_goes_on(hanging_trafilatura):
    extractor = make_extractor(ExtractConfig(extractor="trafilatura", timeout_s=LIMIT))
    expected = extractor.extract_inline(PAGE, None)
    assert expected.reason is None
    extractor.many([(PAGE, None)])                        # the child is forked: time the batch only
    started = time.monotonic()
    results = extractor.many([(PAGE, None), (HANG_PAGE, None), (PAGE, None), (PAGE, None)])
    elapsed = time.monotonic() - started
    assert results[1] == Extraction(None, "extract_timeout", f"> {LIMIT:g}s")
    assert results[0] == results[2] == results[3] == expected
    assert LIMIT <= elapsed < LIMIT + SLACK
    assert extractor(PAGE, None) == expected               # a new child serves the next pages


def test_a_crashing_parser_is_an_extract_error(monkeypatch):
    import ctypes
    import faulthandler
    import sys

    import trafilatura

    monkeypatch.setattr(trafilatura, "extract", lambda *a, **k: ctypes.string_at(0))
    enabled = faulthandler.is_enabled()
    faulthandler.disable()                                  # the child would print its traceback
    try:
        result = make_extractor(ExtractConfig(extractor="trafilatura"))(PAGE, None)
    finally:
        if enabled:
            faulthandler.enable(file=sys.__stderr__)
    assert result.reason == "extract_error" and "SIGSEGV" in result.detail


def test_extractor_error_is_a_rejection(monkeypatch):
    import trafilatura

    def explode(*args, **kwargs):
        raise ValueError("parser bug")

    monkeypatch.setattr(trafilatura, "extract", explode)
    result = make_extractor(ExtractConfig(extractor="trafilatura"))(PAGE, None)
    assert result.reason == "extract_error" and "parser bug" in result.detail


def test_rows_keep_their_order_and_get_their_text(hanging_trafilatura):
    """extract_rows, as the extract stage calls it: rows without a page pass through in place."""
    extractor = make_extractor(ExtractConfig(extractor="trafilatura", timeout_s=LIMIT))
    rows = [{"url": None, "text": None, "drop_reason": "not_html", "drop_detail": None, "n": 0},
            {"url": "http://a.example/", "text": None, "drop_reason": None, "drop_detail": None, "n": 1,
             "_html": PAGE},
            {"url": None, "text": None, "drop_reason": None, "drop_detail": None, "n": 2, "_html": HANG_PAGE},
            {"url": None, "text": "plain", "drop_reason": None, "drop_detail": None, "n": 3}]
    out = list(extract_rows(iter(rows), extractor))
    assert [r["n"] for r in out] == [0, 1, 2, 3] and not any("_html" in r for r in out)
    assert out[0]["drop_reason"] == "not_html" and out[3]["text"] == "plain"
    assert "Nitrate levels fell" in out[1]["text"] and out[1]["drop_reason"] is None
    assert (out[2]["text"], out[2]["drop_reason"]) == (None, "extract_timeout")


def test_one_child_serves_every_page_of_an_extractor():
    extractor = make_extractor(ExtractConfig())
    assert extractor.many([(PAGE, None)] * 3) == [extractor.extract_inline(PAGE, None)] * 3
    pid = extractor.sandbox.child_pid
    extractor(PAGE, None)
    assert extractor.sandbox.child_pid == pid and extractor.sandbox.restarts == 0
    extractor.close()
    assert extractor.sandbox.child_pid is None
