import time

import pytest

from pipeline.config import ExtractConfig
from pipeline.extract.extractors import make_extractor, time_limit, ExtractTimeout
from tests.warcs import article

PAGE = article("Rivers of the north", "The committee published its annual report on water quality.\n"
               "Nitrate levels fell in eleven of the fourteen rivers sampled over the summer months, "
               "while two rivers showed a rise that the authors link to new farming practices upstream.\n"
               "Local groups welcomed the findings but asked for monthly rather than yearly sampling.").decode()


@pytest.mark.parametrize("extractor", ["trafilatura", "resiliparse"])
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


def test_slow_page_hits_the_time_limit(monkeypatch):
    import trafilatura

    monkeypatch.setattr(trafilatura, "extract", lambda *a, **k: time.sleep(5))
    started = time.time()
    result = make_extractor(ExtractConfig(timeout_s=0.2))(PAGE, None)
    assert result.reason == "extract_timeout"
    assert time.time() - started < 2


def test_extractor_error_is_a_rejection(monkeypatch):
    import trafilatura

    def explode(*args, **kwargs):
        raise ValueError("parser bug")

    monkeypatch.setattr(trafilatura, "extract", explode)
    result = make_extractor(ExtractConfig())(PAGE, None)
    assert result.reason == "extract_error" and "parser bug" in result.detail


def test_time_limit_leaves_fast_code_alone():
    with time_limit(1.0):
        value = sum(range(1000))
    assert value == 499500
    with pytest.raises(ExtractTimeout):
        with time_limit(0.05):
            time.sleep(1)
