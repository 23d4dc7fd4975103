"""Mix arithmetic: natural, temperature, UniMax, targets, floors, caps, and the file tokenize reads."""
import math

import pytest
import yaml

from jobs.mix import main as mix_main
from pipeline.config import TokenizeConfig, resolve_mix
from pipeline.mix.weights import (Bucket, MixError, apply_min_lang_share, cap_epochs, load_counts, natural, plan,
                          targets, temperature)

BUCKETS = [Bucket("en", "web", None, 1_000_000), Bucket("de", "web", None, 100_000),
           Bucket("sw", "web", None, 1_000), Bucket("en", "wiki", None, 99_000)]


def test_natural_is_proportional_to_tokens():
    shares = natural(BUCKETS)
    total = sum(b.tokens for b in BUCKETS)
    assert shares == pytest.approx([b.tokens / total for b in BUCKETS])
    assert sum(shares) == pytest.approx(1.0)


def test_temperature_one_is_natural_and_large_t_tends_to_uniform():
    assert temperature(BUCKETS, 1.0) == pytest.approx(natural(BUCKETS))
    hot = temperature(BUCKETS, 1000.0)
    assert max(hot) - min(hot) < 0.01
    assert hot == pytest.approx([0.25] * 4, abs=0.01)
    t3 = temperature(BUCKETS, 3.0)   # p ∝ n^(1/3), computed independently
    raw = [b.tokens ** (1 / 3) for b in BUCKETS]
    assert t3 == pytest.approx([r / sum(raw) for r in raw])
    # flattening: the smallest bucket gains, the largest loses
    assert t3[2] > natural(BUCKETS)[2] and t3[0] < natural(BUCKETS)[0]


def test_unimax_uniform_budget_with_epoch_cap_and_redistribution():
    budget, cap = 600_000, 4.0
    result = plan(BUCKETS, {"method": "unimax", "max_epochs": cap}, budget)
    per_lang = {}
    for row in result["buckets"]:
        per_lang[row["lang"]] = per_lang.get(row["lang"], 0) + row["target_tokens"]
    # sw (1k tokens) is capped at 4 epochs = 4,000; the 596,000 left split evenly over en and de,
    # de (100k) takes 298,000 ≤ 400,000 (not capped), en the same.
    assert per_lang["sw"] == 4_000
    assert per_lang["de"] == pytest.approx(298_000, abs=1)
    assert per_lang["en"] == pytest.approx(298_000, abs=2)
    for row in result["buckets"]:
        assert row["epochs"] <= cap + 1e-9
    # within en: natural between web and wiki
    en = {r["source"]: r["target_tokens"] for r in result["buckets"] if r["lang"] == "en"}
    assert en["web"] / en["wiki"] == pytest.approx(1_000_000 / 99_000, rel=1e-4)
    assert result["planned_tokens"] == pytest.approx(budget, abs=2)
    assert not result["warnings"]


def test_unimax_all_capped_warns_about_budget():
    result = plan(BUCKETS[:3], {"method": "unimax", "max_epochs": 1.0}, 10_000_000)
    assert all(r["epochs"] == pytest.approx(1.0) for r in result["buckets"])
    assert result["planned_tokens"] == 1_101_000
    assert any("allow only" in w for w in result["warnings"])


def test_targets_llama3_style_groups_met():
    buckets = [Bucket("en", "web", "general", 5_000_000), Bucket("en", "web", "math_reasoning", 300_000),
               Bucket("en", "web", "code", 800_000), Bucket("de", "web", "general", 400_000),
               Bucket("fr", "web", "code", 100_000), Bucket("ja", "web", "general", 200_000)]
    groups = [{"name": "multilingual", "share": 0.08, "where": {"lang": "!en"}, "inner": {"temperature": 2}},
              {"name": "math_reasoning", "share": 0.25, "where": {"domain": "math_reasoning"}},
              {"name": "code", "share": 0.17, "where": {"domain": "code"}},
              {"name": "general", "share": 0.50, "where": {}}]
    result = plan(buckets, {"method": "targets", "groups": groups, "max_epochs": 16}, 10_000_000)
    by = {(r["lang"], r["domain"]): r for r in result["buckets"]}
    multi = sum(r["target_tokens"] for (l, _), r in by.items() if l != "en")
    assert multi == pytest.approx(800_000, abs=3)
    assert by[("en", "math_reasoning")]["target_tokens"] == pytest.approx(2_500_000, abs=1)
    assert by[("en", "code")]["target_tokens"] == pytest.approx(1_700_000, abs=1)
    assert by[("en", "general")]["target_tokens"] == pytest.approx(5_000_000, abs=1)
    # temperature 2 inside multilingual: ∝ sqrt(n)
    raw = {k: math.sqrt(b.tokens) for b in buckets if b.lang != "en" for k in [(b.lang, b.domain)]}
    for key, r in raw.items():
        assert by[key]["target_tokens"] == pytest.approx(800_000 * r / sum(raw.values()), abs=1)
    # math_reasoning: 2.5M wanted from 300k = 8.33 epochs, under the 16 cap: no warning for it
    assert by[("en", "math_reasoning")]["epochs"] == pytest.approx(2_500_000 / 300_000, rel=1e-5)
    # the en/web weight merges domains: (5M + 2.5M + 1.7M) / 6.1M
    assert result["mix"]["en/web"] == pytest.approx(9_200_000 / 6_100_000, rel=1e-5)


def test_targets_unmatched_bucket_is_an_error():
    with pytest.raises(MixError, match="match no group"):
        targets(BUCKETS, [{"name": "en", "share": 1, "where": {"lang": "en"}}])


def test_min_lang_share_floor_holds_and_others_scale_down():
    shares = apply_min_lang_share(BUCKETS, natural(BUCKETS), {"sw": 0.05})
    lang = {}
    for b, s in zip(BUCKETS, shares):
        lang[b.lang] = lang.get(b.lang, 0) + s
    assert lang["sw"] == pytest.approx(0.05)
    assert sum(shares) == pytest.approx(1.0)
    # en/de keep their ratio
    assert lang["en"] / lang["de"] == pytest.approx(1_099_000 / 100_000)


def test_cap_epochs_redistributes_and_warning_without_it():
    budget = 2_000_000
    warned = plan(BUCKETS, {"method": "temperature", "temperature": 5, "max_epochs": 2}, budget)
    assert any(w.startswith("sw/web") and "max_epochs 2" in w for w in warned["warnings"])
    capped = plan(BUCKETS, {"method": "temperature", "temperature": 5, "max_epochs": 2, "redistribute": True},
                  budget)
    assert all(r["epochs"] <= 2 + 1e-6 for r in capped["buckets"])
    assert capped["planned_tokens"] == pytest.approx(budget, abs=4)
    assert not capped["warnings"]
    assert sum(cap_epochs(BUCKETS, natural(BUCKETS), budget, 10)) == pytest.approx(1.0)


def test_written_file_loads_through_resolve_mix(tmp_path):
    counts = tmp_path / "counts.yaml"
    counts.write_text(yaml.safe_dump({"counts": {"en/web": 1000, "de/web": 100, "en/cc/CC-MAIN-2024-10": 500}}))
    assert [b.name for b in load_counts(counts)] == ["de/web", "en/cc/CC-MAIN-2024-10", "en/web"]
    out = tmp_path / "t2.yaml"
    assert mix_main(["--counts", str(counts), "--method", "temperature", "--temperature", "2",
                     "--budget", "3200", "--out", str(out)]) == 0
    mix = resolve_mix(TokenizeConfig(mix_file=str(out)))
    raw = {"en/web": 1000 ** 0.5, "de/web": 100 ** 0.5, "en/cc/CC-MAIN-2024-10": 500 ** 0.5}
    for key, tokens in {"en/web": 1000, "de/web": 100, "en/cc/CC-MAIN-2024-10": 500}.items():
        assert mix[key] == pytest.approx(3200 * raw[key] / sum(raw.values()) / tokens, rel=1e-5)
    body = yaml.safe_load(out.read_text())
    assert body["budget_tokens"] == 3200 and body["method"]["method"] == "temperature"


def test_cli_rejects_bad_spec(tmp_path, capsys):
    counts = tmp_path / "c.json"
    counts.write_text('{"en/web": 10}')
    assert mix_main(["--counts", str(counts), "--method", "unimax"]) == 2
    assert "max_epochs" in capsys.readouterr().err
