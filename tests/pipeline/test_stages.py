"""The one stage table: every consumer reads it, and a stage reads the output of the stage before
it in this run's list."""
import importlib

import pytest

from jobs import cli_entry
from pipeline import stages
from pipeline.config import ConfigError, load_config
from pipeline.stages import STAGES, default_inputs


def test_every_entry_point_of_the_table_resolves():
    for stage in STAGES:
        assert callable(stage.load())
        for hook in (stage.check, stage.identity):
            if hook:
                module, _, function = hook.partition(":")
                assert callable(getattr(importlib.import_module(module), function))
        assert hasattr(importlib.import_module(stage.command), "main")


def test_the_cli_lists_every_stage_from_the_table():
    for stage in STAGES:
        assert cli_entry.COMMANDS[stage.name] == (stage.command, stage.summary)
    assert list(cli_entry.COMMANDS)[1:1 + len(STAGES)] == [s.name for s in STAGES]


def test_config_knows_the_stages_of_the_table_and_their_order():
    with pytest.raises(ConfigError, match="unknown stage 'clean'.*known: extract, filter, classify, dedup"):
        load_config(None, ["stages=[extract, clean]"])
    with pytest.raises(ConfigError, match="stages run in the order extract -> filter"):
        load_config(None, ["stages=[dedup, extract]"], stage_files=False)


def _inputs(stage_list, stage, *overrides):
    config = load_config(None, [f"stages={stage_list}", "output=/runs/a", *overrides], stage_files=False)
    return default_inputs(config, stage)


def test_a_stage_reads_the_stage_before_it_in_this_runs_list():
    assert _inputs("[extract, dedup]", "dedup") == ["/runs/a/extract"]          # not /runs/a/filter
    assert _inputs("[extract, filter, classify, tokenize]", "tokenize") == ["/runs/a/classify"]   # not dedup
    assert _inputs("[extract, filter, classify, dedup, tokenize]", "tokenize") == ["/runs/a/dedup"]
    assert _inputs("[extract, classify]", "classify") == ["/runs/a/extract"]


def test_a_stage_run_on_its_own_reads_the_stage_before_it_in_the_table():
    assert _inputs("[dedup]", "dedup") == ["/runs/a/classify"]
    assert _inputs("[classify]", "classify") == ["/runs/a/filter"]
    assert _inputs("[extract]", "tokenize") == ["/runs/a/extract"]     # the run's list says what ran
    assert _inputs("[tokenize]", "tokenize") == ["/runs/a/dedup"]      # decontam is optional: not assumed
    assert _inputs("[extract, filter, classify, dedup, decontam, tokenize]", "tokenize", "decontam.eval_sets=/e") \
        == ["/runs/a/decontam"]
    assert _inputs("[extract]", "extract") == load_config(None).input
    assert _inputs("[extract, report]", "report") == []


def test_resume_keys_read_the_sections_of_the_table():
    from pipeline.resume import stage_keys

    base = load_config(None, ["stages=[extract, filter, dedup]"], stage_files=False)
    changed = load_config(None, ["stages=[extract, filter, dedup]", "dedup.minhash.threshold=0.9"],
                          stage_files=False)
    a, b = stage_keys(base, ["extract", "filter", "dedup"]), stage_keys(changed, ["extract", "filter", "dedup"])
    assert a["extract"] == b["extract"] and a["filter"] == b["filter"] and a["dedup"] != b["dedup"]
    assert stages.get("dedup").sections == ("dedup",)
