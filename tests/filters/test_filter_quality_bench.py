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


def _udhr_text(n_paragraphs: int, tag: str) -> str:
    return "\n".join(f"Article {i} {tag}: everyone has the right to a fair hearing before a court of law, "
                     f"and to the freedom of thought and of expression in every country {i}."
                     for i in range(n_paragraphs))


def test_split_udhr_holds_out_odd_pages_and_calibrates_on_windows_of_the_even_ones():
    docs = [(page, "xx") for page in bench.pages_of(_udhr_text(80, "x"))]
    assert len(docs) >= 4
    split = bench.split_udhr(docs)
    assert split["heldout"] == docs[1::2]
    held = {p for page, _ in docs[1::2] for p in page.splitlines()}
    calib_paras = [p for page, _ in docs[0::2] for p in page.splitlines()]
    windows = [text for text, _ in split["calib"]]
    assert len(windows) >= 20 and {lang for _, lang in split["calib"]} == {"xx"}
    for w in windows:
        paras = w.splitlines()
        assert not set(paras) & held                      # nothing of the held-out half is fitted on
        assert sum(map(len, paras)) >= bench.PAGE_CHARS    # page-sized, as the bench grades
        start = calib_paras.index(paras[0])
        assert calib_paras[start:start + len(paras)] == paras   # consecutive paragraphs


def test_udhr_reference_and_heldout_set_from_the_command_line(tmp_path, capsys):
    udhr = tmp_path / "lang" / "udhr"
    (udhr / "txt").mkdir(parents=True)
    (udhr / "txt" / "xxx.txt").write_text(_udhr_text(80, "x"), encoding="utf-8")
    (udhr / "index.json").write_text(json.dumps([{"code": "xxx", "iso6393": "xxx", "bcp47": "xx",
                                                  "file": "txt/xxx.txt"}]), encoding="utf-8")
    ref = tmp_path / "ref.jsonl"
    assert bench.main(["--data", str(tmp_path), "--udhr-langs", "xx", "--write-udhr-reference", str(ref)]) == 0
    rows = [json.loads(line) for line in ref.read_text(encoding="utf-8").splitlines()]
    pages = bench.load_udhr(tmp_path, "xx")
    assert [(r["text"], r["lang"]) for r in rows] == bench.split_udhr(pages)["calib"]
    capsys.readouterr()
    assert bench.main(["--data", str(tmp_path), "--udhr-langs", "xx", "--udhr-split", "heldout", "--no-warc",
                       "--bad-per-style", "1"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["per_set"]["udhr_heldout"]["docs"] == len(pages[1::2])
    assert {"good_dropped", "bad_dropped", "per_set", "per_rule", "per_lang", "per_style"} <= set(result)
