"""jobs/train_tokenizer.py: per-language sampling, both files written and equal, the report."""
import gzip
import json
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.train_tokenizer import main
from pipeline.config import ConfigError
from pipeline.tokens.tokenizer import load_tokenizer
from pipeline.tokens.training import parse_lang_weights, sample_rates
from tests.tokens.test_tokenizer import PAGES


def corpus(tmp_path):
    """The sample pages as Parquet (most languages) and gzipped JSONL (zh, ja): id, text, lang."""
    rows = [{"id": p.stem, "text": p.read_text(encoding="utf-8"), "lang": p.name.split("__")[0]} for p in PAGES]
    # many more English documents, so that the natural distribution would starve the others
    rows += [{"id": f"en-extra-{i}", "text": f"An English filler sentence number {i} about gardens and trains.",
              "lang": "en"} for i in range(400)]
    cjk = [r for r in rows if r["lang"] in ("zh", "ja")]
    pq.write_table(pa.Table.from_pylist([r for r in rows if r not in cjk]), tmp_path / "docs.parquet")
    with gzip.open(tmp_path / "cjk.jsonl.gz", "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in cjk)
    return rows


def test_trains_both_formats_with_a_report(tmp_path):
    rows = corpus(tmp_path)
    out = tmp_path / "tok"
    code = main(["--input", str(tmp_path / "docs.parquet"), str(tmp_path / "cjk.jsonl.gz"), "--output", str(out),
                 "--vocab-size", "700", "--heldout-fraction", "0.2", "--max-chars", "40000", "--seed", "3"])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    model, from_json = load_tokenizer(str(out / "tokenizer.model")), load_tokenizer(str(out / "tokenizer.json"))
    assert report["vocab_size"] == model.vocab_size == from_json.vocab_size == 700 + 256
    assert report["tokenizer"]["sha256"] == model.sha256
    assert report["documents_by_lang"] == dict(sorted(Counter(r["lang"] for r in rows).items()))
    # alpha 0.3 under a tight budget: small languages keep (almost) all their text, English is cut
    rates = report["sample_rate_by_lang"]
    assert rates["zh"] == 1.0 and rates["ja"] == 1.0 and rates["en"] < 0.8
    assert report["sample_chars"] == sum(report["sample_chars_by_lang"].values()) <= 40000 * 1.3
    held = report["heldout_chars_per_token"]
    assert held and all(v["chars_per_token"] > 0 for v in held.values())
    for lang, v in held.items():
        assert v["chars_per_token"] == round(v["chars"] / v["tokens"], 3)
    text = PAGES[0].read_text(encoding="utf-8")
    assert model.encode(text).tolist() == from_json.encode(text).tolist()
    assert model.decode(model.encode(text)) == text


def test_sample_rates():
    chars = Counter({"en": 1_000_000, "zh": 10_000})
    natural = sample_rates(chars, {}, alpha=1.0, max_chars=101_000, max_repeat=1.0)
    assert natural["en"] == pytest.approx(0.1) and natural["zh"] == pytest.approx(0.1)
    flat = sample_rates(chars, {}, alpha=0.0, max_chars=20_000, max_repeat=1.0)   # equal shares
    assert flat["en"] * 1_000_000 == pytest.approx(10_000) and flat["zh"] == 1.0
    weighted = sample_rates(chars, {"zh": 0.0}, alpha=1.0, max_chars=50_000, max_repeat=1.0)
    assert weighted["zh"] == 0.0 and weighted["en"] == pytest.approx(0.05)
    repeated = sample_rates(chars, {}, alpha=0.0, max_chars=100_000, max_repeat=3.0)
    assert repeated["zh"] == 3.0


def test_lang_weights_parsing():
    assert parse_lang_weights("en=1, zh=2.5,ja=0") == {"en": 1.0, "zh": 2.5, "ja": 0.0}
    for bad in ("en", "en=-1", "=2", "en=abc"):
        with pytest.raises(ConfigError, match="--lang-weights"):
            parse_lang_weights(bad)


def test_errors_exit_2(tmp_path, capsys):
    assert main(["--input", str(tmp_path / "missing.parquet"), "--output", str(tmp_path / "o")]) == 2
    assert "missing.parquet" in capsys.readouterr().err
    assert main(["--output", str(tmp_path / "o")]) == 2
