"""bench/filter_quality.py on a tiny good set and its seeded bad pages (no shared data needed)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from pipeline.config import load_config

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("filter_quality", ROOT / "bench" / "filter_quality.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

GOOD = ("The committee said on Tuesday that the new rules would take effect next year.\n"
        "Its members have agreed to review them with the public before the final vote in March.\n"
        "Several farmers from the northern valleys asked whether the water limits apply to them.\n"
        "The chair replied that small farms with fewer than ten workers are exempt for two years.\n"
        "A second hearing is planned in the town hall, and written comments are welcome until then.\n"
        "Local shops expect little change, although transport firms fear higher fuel costs.\n")


def test_bad_pages_are_reproducible_and_cover_every_style():
    assert bench.generate_bad(3, 2) == bench.generate_bad(3, 2)
    assert {style for _, _, style in bench.generate_bad(0, 1)} == set(bench.STYLES)


def test_measure_reports_per_rule_language_and_style():
    config = load_config(ROOT / "conf" / "default.yaml", stage_files=False)
    result = bench.measure(config, {"mine": [(GOOD, "en"), ("Too short.", "en")]}, bench.generate_bad(0, 2))
    assert result["good_dropped"] == 0.5 and result["bad_dropped"] > 0.9
    assert "token_outlier_v1" not in result["filters"]
    assert result["per_set"]["mine"] == {"docs": 2, "dropped": 1, "share": 0.5,
                                         "reasons": {"gopher_quality_min_words": 1}}
    assert result["per_rule"]["gopher_quality_min_words"]["good_fails"] == 0.5
    assert set(result["per_style"]) == set(bench.STYLES)
    json.dumps(result)


def test_pages_of_splits_at_paragraphs():
    text = "\n".join(["x" * 450] * 11)
    pages = bench.pages_of(text, 2000)
    assert [len(p.split("\n")) for p in pages] == [5, 6]   # a short tail joins the last page
