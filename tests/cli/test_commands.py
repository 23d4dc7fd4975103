"""The commands that need no Spark: curate --version, filters, score-file, run --dry-run; the new
command names; the `curate` package's entry points (curate.run, on Spark)."""
import importlib
import json
from pathlib import Path

import pytest

import curate
from jobs import cli_entry, dry_run
from pipeline import outputs
from pipeline.config import load_config
from pipeline.resume import stage_keys

ROOT = Path(__file__).resolve().parents[2]
DOCS = [{"id": "short", "text": "Hello world.", "lang": "en"},
        {"text": " ".join(["This is a normal sentence with some of the words in it and that is fine."] * 8), "lang": "en"}]


def test_version(capsys):
    assert cli_entry.main(["--version"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("curate ") and len(out) > len("curate ")


def test_filters_lists_every_filter_with_thresholds_and_citation(capsys):
    assert cli_entry.main(["filters"]) == 0
    out = capsys.readouterr().out
    for name in curate.filters():
        assert f"\n{name}  (version {int(name.rsplit('_v', 1)[1])}," in "\n" + out
    assert "min_words          null" in out and "Raffel et al. 2020" in out
    assert cli_entry.main(["filters", "--json", "gopher_quality_v1"]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["version"] == 1 and entry["thresholds"]["min_words"] == 50 and "Rae et al. 2021" in entry["citation"]
    # a later version says how it differs; an earlier one does not inherit that text
    assert cli_entry.main(["filters", "--json", "c4_v1", "c4_v2"]) == 0
    v1, v2 = json.loads(capsys.readouterr().out)
    assert "five-sentence" in v2["summary"] and "five-sentence" not in v1["summary"]
    assert cli_entry.main(["filters", "nope_v1"]) == 2


def test_score_file_jsonl_to_stdout_and_parquet_to_a_file(tmp_path, capsys):
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps(d) + "\n" for d in DOCS))
    assert cli_entry.main(["score-file", "--filters", "gopher_quality_v1,c4_v1", str(source)]) == 0
    captured = capsys.readouterr()
    first, second = (json.loads(line) for line in captured.out.splitlines())
    assert first["id"] == "short" and not first["kept"] and first["drop_reason"] == "gopher_quality_min_words"
    assert first["scores"]["gopher_quality__words"] == 2.0 and "c4__sentences" in first["scores"]
    assert second["id"] == 2 and second["kept"] and second["drop_reason"] is None
    assert "2 document(s), 1 kept" in captured.err

    import pyarrow as pa
    import pyarrow.parquet as pq
    pq.write_table(pa.Table.from_pylist([{"text": d["text"], "lang": d["lang"]} for d in DOCS]), tmp_path / "d.parquet")
    out = tmp_path / "scores.jsonl"
    assert cli_entry.main(["score-file", "--filters", "gopher_quality_v1", "--output", str(out),
                           str(tmp_path / "d.parquet")]) == 0
    assert [json.loads(line)["kept"] for line in out.read_text().splitlines()] == [False, True]
    # the package's entry point agrees with the command
    assert [r["drop_reason"] for r in curate.score(DOCS, ["gopher_quality_v1", "c4_v1"])] == \
        ["gopher_quality_min_words", None]


def test_score_file_errors_are_one_line_and_exit_2(tmp_path, capsys):
    source = tmp_path / "docs.jsonl"
    source.write_text('{"body": "no text"}\n')
    assert cli_entry.main(["score-file", "--filters", "c4_v1", str(source)]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert cli_entry.main(["score-file", "--filters", "nope_v1", str(source)]) == 2
    assert "unknown filter 'nope_v1'" in capsys.readouterr().err


def test_dry_run_prints_the_plan_without_spark(tmp_path, capsys, monkeypatch):
    run_module = importlib.import_module("jobs.run")

    def no_spark(*args, **kwargs):
        raise AssertionError("--dry-run started Spark")

    monkeypatch.setattr(run_module, "build_session", no_spark)
    argv = ["run", str(ROOT / "conf" / "default.yaml"), "--output", str(tmp_path),
            "--set", "stages=[extract, filter, dedup]", "--dry-run"]
    assert cli_entry.main(argv) == 0
    out = capsys.readouterr().out
    assert out.index("1. extract: RUN") < out.index("2. filter: RUN") < out.index("3. dedup: RUN")
    assert f"{tmp_path}/filter_scores" in out and "a rerun skips: nothing" in out
    assert str(ROOT / "samples" / "sample.warc.gz") in out
    assert not any(tmp_path.iterdir())                                   # nothing written

    # extract complete under the same key (stats + outputs present): a rerun would skip it
    config = load_config(ROOT / "conf" / "default.yaml", [f"output={tmp_path}", "stages=[extract, filter, dedup]"])
    key = stage_keys(config, ["extract", "filter", "dedup"])["extract"]
    kept, rejected = Path(outputs.kept(str(tmp_path), "extract")), Path(outputs.rejected(str(tmp_path), "extract"))
    kept.mkdir(parents=True), rejected.mkdir(parents=True)
    stats = Path(outputs.stats_file(str(tmp_path), "extract"))
    stats.parent.mkdir(parents=True)
    stats.write_text(json.dumps({"run_key": key, "outputs": {"kept": str(kept), "rejected": str(rejected)}}))
    steps = {s["stage"]: s for s in dry_run.plan(config)}
    assert steps["extract"]["action"] == "skip" and steps["filter"]["action"] == "run"
    assert dry_run.plan(config, force=True)[0]["action"] == "run"
    assert cli_entry.main(argv) == 0
    assert "a rerun skips: extract" in capsys.readouterr().out


def test_the_new_commands_map_to_their_mains():
    assert cli_entry.COMMANDS["train"][0] == "trainer.train"
    assert cli_entry.COMMANDS["export"][0] == "trainer.export"
    assert cli_entry.COMMANDS["shards"][0] == "pipeline.tokens.shards"
    for name in ("filters", "score-file", "train", "export", "shards"):
        assert callable(importlib.import_module(cli_entry.COMMANDS[name][0]).main)


def test_the_package_entry_points(tmp_path):
    assert curate.load_config is load_config
    chain = curate.build_filter_chain(["c4_v1"])
    assert [f.name for f in chain.filters] == ["c4_v1"]
    with pytest.raises(curate.ConfigError):
        curate.build_filter_chain(["nope_v1"])
    assert "gopher_quality_v1" in curate.filters()


def test_run_from_python_refuses_a_bad_config_before_spark(tmp_path):
    with pytest.raises(curate.ConfigError, match="unknown stage 'clean'"):
        curate.run(None, [f"output={tmp_path}", "stages=[extract, clean]"])
    with pytest.raises(ValueError, match="overrides apply"):
        curate.run(curate.load_config(None), ["output=x"])


@pytest.mark.spark
def test_run_from_python_returns_each_stages_stats(spark, tmp_path):
    sample = ROOT / "samples" / "sample.warc.gz"
    stats = curate.run(None, [f"input=[{sample}]", f"output={tmp_path}", "stages=[extract, filter]"])
    assert list(stats) == ["extract", "filter"]
    assert stats["filter"]["records_in"] == stats["extract"]["kept"] == 58
    assert stats["filter"]["kept"] + stats["filter"]["rejected"] == 58
    assert (tmp_path / "filter" / "_SUCCESS").is_file()
    again = curate.run(None, [f"input=[{sample}]", f"output={tmp_path}", "stages=[extract, filter]"])
    assert all(s.get("skipped") for s in again.values())          # resumed: both complete
