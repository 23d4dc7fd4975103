"""filters.calibration and `curate calibrate-filters` on small reference sets written here."""
from __future__ import annotations

import json

import pytest
import yaml

from filters.calibration import calibrate
from pipeline.config import FilterConfig, load_config

# 40 Korean-like pages of short words (mean word length 2) and 40 English pages of ordinary prose.
SHORT = "\n".join(["가 나 다 라 마 바 사 아 자 차 카 타 파 하 거 너 더 러 머 버 서 어 저 처. "
                   "고 노 도 로 모 보 소 오 조 초 코 토 포 호 구 누 두 루 무 부 수 우 주 추 쿠."] * 3)
PROSE = ("The committee said that the new rules would take effect next year and that the members "
         "have agreed to review them with the public. ") * 6


def config(**thresholds) -> FilterConfig:
    return FilterConfig(filters=["gopher_quality_v2"], thresholds={"gopher_quality_v2": thresholds})


def reference(n_ko=40, n_en=40):
    ko = [(SHORT.replace("가", "가" * (1 + i % 3)), "ko") for i in range(n_ko)]
    return ko + [(PROSE, "en")] * n_en


def test_loosens_a_rule_that_drops_good_reference_text():
    result = calibrate(reference(), config(), keep=0.95, min_docs=20)
    fitted = result.thresholds["gopher_quality_v2"]["ko"]
    assert fitted["min_mean_word_length"] < 3
    (change,) = [c for c in result.changes if c.lang == "ko" and c.rule == "min_mean_word_length"]
    assert change.kept_before == 0.0 and change.kept_after >= 0.95
    assert "en" not in result.thresholds["gopher_quality_v2"]   # English prose passes the paper values


def test_tighten_moves_rules_that_keep_everything():
    loose = calibrate(reference(), config(), keep=0.9, min_docs=20)
    tight = calibrate(reference(), config(), keep=0.9, min_docs=20, tighten=True)
    assert "en" in tight.thresholds["gopher_quality_v2"]
    assert len(tight.changes) > len(loose.changes)
    # integer rules stay integers
    assert all(isinstance(v, int) for lang in tight.thresholds["gopher_quality_v2"].values()
               for k, v in lang.items() if k in ("min_words", "max_words", "min_stop_words"))


def test_languages_with_too_few_documents_and_disabled_rules_are_left_alone():
    result = calibrate(reference(n_ko=5), config(default={"min_mean_word_length": None}), keep=0.95, min_docs=20)
    assert result.skipped_langs == {"ko": 5}
    assert calibrate(reference(n_ko=5), config(), min_docs=20, langs=["en"]).skipped_langs == {}
    assert all(c.rule != "min_mean_word_length" for c in result.changes)
    with pytest.raises(ValueError):
        calibrate(reference(), config(), keep=0)


def test_merged_table_keeps_the_configured_values():
    cfg = config(default={"min_words": 50}, fr={"min_stop_words": 1})
    result = calibrate(reference(), cfg, keep=0.95, min_docs=20)
    merged = result.merged_into(cfg)["gopher_quality_v2"]
    assert merged["default"] == {"min_words": 50} and merged["fr"] == {"min_stop_words": 1}
    assert merged["ko"]["min_mean_word_length"] < 3


def test_command_writes_a_profile_that_loads(tmp_path, capsys):
    from jobs import calibrate_filters

    ref = tmp_path / "ref.jsonl"
    ref.write_text("".join(json.dumps({"text": t, "lang": lang}) + "\n" for t, lang in reference()),
                   encoding="utf-8")
    conf = tmp_path / "conf.yaml"
    conf.write_text("filter:\n  filters: [gopher_quality_v2]\n", encoding="utf-8")
    out = tmp_path / "calibrated.yaml"
    assert calibrate_filters.main([str(ref), "--conf", str(conf), "--output", str(out)]) == 0
    err = capsys.readouterr().err
    assert "gopher_quality_v2.ko.min_mean_word_length: 3 ->" in err and "threshold(s) changed" in err
    profile = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert profile["base"] == str(conf)
    loaded = load_config(out, stage_files=False)
    assert loaded.filter.thresholds["gopher_quality_v2"]["ko"]["min_mean_word_length"] < 3
    assert calibrate_filters.main([str(tmp_path / "missing.jsonl"), "--conf", str(conf)]) == 2
