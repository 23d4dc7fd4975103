"""The demo run's report and a comparison of two demo runs, opened in a real headless Chromium: no console
error, no network request, every section drawn, a histogram with its limit, the planted low-quality pages
under the reasons that dropped them, the document whose fate changed. Screenshots go to out/report-browser/.

Chromium is Debian's package (`apt-get install -y chromium`; .ci/run installs it when it can); without
it the test skips and says so.
"""
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jobs import run as run_job
from jobs.report import main as report_main
from pipeline.report.render import COMPARE_SECTIONS, SECTIONS
from tests.jobs.demo_models import train_demo_models

pytestmark = [pytest.mark.spark, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
CONF = ROOT / "conf" / "default.yaml"
SHOTS = ROOT / "out" / "report-browser"


@pytest.fixture(scope="module")
def browser():
    pytest.importorskip("websocket", reason="websocket-client is not installed (pip install -e '.[dev]')")
    from tests.report.browser import Browser, find_browser

    executable = find_browser()
    if executable is None:
        pytest.skip("no Chromium to drive: install Debian's package (apt-get install -y chromium); "
                    ".ci/run installs it when it runs as root and apt can reach the archive")
    b = Browser(executable)
    try:
        yield b
    finally:
        b.close()


def _normal(url):
    from pipeline.extract.urls import normalize_url

    return normalize_url(url)


def _rows(path: Path, *columns):
    return [r for f in sorted(path.glob("*.parquet")) for r in pq.read_table(f, columns=list(columns)).to_pylist()]


@pytest.fixture(scope="module")
def demo(browser, spark, tmp_path_factory):
    """Run A: the demo (`make run`'s stages, report included). Run B: A's scores with one limit loosened so
    that a document only that rule dropped passes it (filter.select_only=true). Then --compare A B."""
    root = tmp_path_factory.mktemp("demo")
    models = train_demo_models(root / "models")
    a, b = root / "a", root / "b"
    base = ["--conf", str(CONF), "--input", str(SAMPLES / "sample.warc.gz"), "--set", models]
    assert run_job.main([*base, "--output", str(a)]) == 0
    report = json.loads((a / "report" / "report.json").read_text())
    near = report["thresholds"]["filter"]["near"]
    rules = {r["reason"]: r for r in report["thresholds"]["filter"]["rules"]}
    reason, doc = next((reason, sides["would_come_back"][0]) for reason, sides in near.items()
                       if sides["would_come_back"] and not rules[reason]["by_lang"])
    rule = rules[reason]
    shutil.copytree(a, b)
    shutil.rmtree(b / "report")
    loosened = f"filter.thresholds.{rule['owner']}.default.{rule['field']}={doc['value']!r}"
    assert run_job.main([*base, "--output", str(b), "--set", "filter.select_only=true", "--set", loosened]) == 0
    assert report_main(["--compare", str(a), str(b)]) == 0
    return {"a": a, "b": b, "report": report, "moved": (reason, doc)}


def _check_clean(browser, page: Path):
    browser.evaluate("window.curateDrawAll()")
    browser.settle(1.0)
    assert browser.console_errors() == []
    assert browser.requests() == [page.resolve().as_uri()]          # the page itself, nothing else
    figures = browser.evaluate("document.querySelectorAll('div[data-fig]').length")
    drawn = browser.evaluate("document.querySelectorAll('div[data-fig].js-plotly-plot svg.main-svg').length")
    assert figures > 0 and browser.evaluate(
        "Array.from(document.querySelectorAll('div[data-fig]')).every(d => d.querySelector('svg.main-svg'))"), \
        (figures, drawn)


def test_the_run_report_in_a_browser(browser, demo):
    a, report = demo["a"], demo["report"]
    page = a / "report" / "index.html"
    browser.load(page)
    _check_clean(browser, page)
    for name in SECTIONS:       # every section rendered, with content
        text = browser.evaluate(f"(document.getElementById('{name}') || {{}}).innerText || ''")
        assert len(text.strip()) > len(name) + 20, name
    # a histogram shows its limit: the red line and its label, drawn by plotly
    shown = browser.evaluate("""(() => {
        const box = document.querySelector('div.rule[data-reason="gopher_quality_min_words"] div[data-fig]');
        if (!box) return null;
        return {lines: box.querySelectorAll('.shapelayer path').length,
                labels: Array.from(box.querySelectorAll('.annotation-text')).map(t => t.textContent),
                bars: box.querySelectorAll('.bars path').length};
    })()""")
    assert shown and shown["lines"] >= 1 and shown["bars"] > 0
    assert any(label.startswith("min_words = ") for label in shown["labels"]), shown
    # the planted low-quality pages, each under the reason that dropped it
    expected = json.loads((SAMPLES / "expected.json").read_text())
    planted = {_normal(p["url"]) for p in expected["pages"] if p.get("filter_expectation") == "drop"}
    reasons = {r["url"]: r["drop_reason"] for r in _rows(a / "rejected" / "filter", "url", "drop_reason")}
    assert planted <= set(reasons)
    listed = browser.evaluate("""Array.from(document.querySelectorAll('details.reason[data-stage="filter"] tr.sample'))
        .map(tr => [tr.dataset.url, tr.closest('details').dataset.reason])""")
    assert {url: reason for url, reason in listed if url in planted} == {url: reasons[url] for url in planted}
    # every count on the page is the stage's own
    counts = browser.evaluate("""Array.from(document.querySelectorAll('details.reason'))
        .map(d => [d.dataset.stage, d.dataset.reason, +d.dataset.count])""")
    stats = {s: json.loads((a / "stats" / f"{s}.json").read_text()) for s in report["drops"]}
    assert {(s, r): n for s, r, n in counts} == {(s, r): n for s in stats
                                                 for r, n in stats[s]["rejected_by_reason"].items()}
    funnel = browser.evaluate("""Array.from(document.querySelectorAll('#funnel tr[data-stage]'))
        .map(tr => [tr.dataset.stage, +tr.dataset.out])""")
    assert dict(funnel) == {r["stage"]: r["documents_out"] for r in report["funnel"]}
    # screenshots: the top of the page, then a drop reason, a rule and dedup opened
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.screenshot(SHOTS / "report.png", max_height=2400)
    reason = demo["moved"][0]
    browser.evaluate(f"document.getElementById('drop-filter-{reason}').open = true")
    browser.screenshot(SHOTS / "report-drop-reason.png", f"#drop-filter-{reason}", max_height=3000)
    browser.evaluate("window.curateDrawAll()")
    browser.settle(0.5)
    browser.screenshot(SHOTS / "report-threshold-rule.png", "#rule-gopher_quality_min_words", max_height=3000)
    browser.screenshot(SHOTS / "report-dedup.png", "#dedup", max_height=4000)
    assert browser.console_errors() == []


def test_the_comparison_in_a_browser(browser, demo):
    b = demo["b"]
    page = b / "report" / "compare.html"
    browser.load(page)
    _check_clean(browser, page)
    for name in COMPARE_SECTIONS:
        text = browser.evaluate(f"(document.getElementById('{name}') || {{}}).innerText || ''")
        assert len(text.strip()) > len(name) + 10, name
    reason, doc = demo["moved"]
    rows = browser.evaluate("""Array.from(document.querySelectorAll('#changed-samples tr.sample'))
        .map(tr => [tr.dataset.url, tr.cells[2].innerText, tr.cells[3].innerText])""")
    moved = {url: (fa, fb) for url, fa, fb in rows}
    assert moved[doc["url"]][0] == f"filter: {reason}" and moved[doc["url"]][1] != f"filter: {reason}", moved
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.screenshot(SHOTS / "compare.png", max_height=4000)
