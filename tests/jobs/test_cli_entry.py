"""`curate <command>`: dispatch to the jobs, `curate run CONF` as the pipeline runner."""
import importlib

import pytest

from jobs import cli_entry


def test_run_takes_the_config_as_its_first_argument(monkeypatch):
    seen = {}
    monkeypatch.setattr(importlib.import_module("jobs.run"), "main", lambda argv: seen.setdefault("argv", argv) and 0)
    cli_entry.main(["run", "conf/x.yaml", "--force"])
    assert seen["argv"] == ["--conf", "conf/x.yaml", "--force"]


def test_other_commands_get_their_arguments_unchanged(monkeypatch):
    seen = {}
    monkeypatch.setattr(importlib.import_module("jobs.mix_search"), "main", lambda argv: seen.setdefault("argv", argv))
    cli_entry.main(["mix-search", "--k", "8"])
    assert seen["argv"] == ["--k", "8"]


def test_every_command_has_a_job_with_a_main():
    for module, _ in cli_entry.COMMANDS.values():
        assert callable(importlib.import_module(module).main), module


def test_usage_and_unknown_commands(capsys):
    assert cli_entry.main([]) == 2 and "train-classifier" in capsys.readouterr().out
    assert cli_entry.main(["--help"]) == 0
    assert cli_entry.main(["dedupe"]) == 2
    assert "unknown command 'dedupe'" in capsys.readouterr().err


def test_a_job_help_comes_from_the_job(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli_entry.main(["extract", "--help"])
    assert exit_.value.code == 0 and "--input" in capsys.readouterr().out
