"""Fail fast: what a run will need is checked before the first stage, before Spark even starts.
Each problem is exit status 2 and one line naming the key or path, and no stage output is written."""
import json
import shutil

import pytest

from jobs import classify as classify_job
from jobs import dedup as dedup_job
from jobs import run as run_job
from jobs import stage_job
from jobs import tokens as tokens_job

from .conftest import ROOT

SAMPLE = ROOT / "samples" / "sample.warc.gz"
TOKENIZER = ROOT / "conf" / "tokenizer" / "demo"


@pytest.fixture(autouse=True)
def no_session(monkeypatch):
    """Every failure here must come before a JVM: starting one fails the test."""
    def refuse(*args, **kwargs):
        pytest.fail("a Spark session was started before the checks failed")
    monkeypatch.setattr(run_job, "build_session", refuse)
    monkeypatch.setattr(stage_job, "build_session", refuse)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A small trained model directory (the demo's quality classifier)."""
    from tests.jobs.demo_models import SAMPLES
    from jobs import train_classifier

    directory = tmp_path_factory.mktemp("models") / "quality"
    assert train_classifier.main(["--conf", str(ROOT / "conf" / "default.yaml"),
                                  "--input", str(SAMPLES / "classifier" / "quality.jsonl.gz"),
                                  "--output", str(directory)]) == 0
    return directory


def run(main, argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


def all_stages(out, model, tokenizer=TOKENIZER):
    return ["--input", str(SAMPLE), "--output", str(out),
            "--set", "stages=[extract, filter, classify, dedup, tokenize, report]",
            "--set", f"classify.models={{quality: {model}}}", "--set", "classify.thresholds={}",
            "--set", f"tokenize.tokenizer={tokenizer}"]


def test_an_unwritable_output(tmp_path, model, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    out = blocker / "run"
    err = run(run_job.main, all_stages(out, model), capsys)
    assert "key 'output'" in err and str(out) in err
    assert not (out / "extract").exists()


class Reached(Exception):
    pass


def test_every_check_passes_and_the_output_probe_leaves_nothing_behind(tmp_path, model, monkeypatch):
    def reached(*args, **kwargs):
        raise Reached
    monkeypatch.setattr(run_job, "build_session", reached)
    out = tmp_path / "run"
    with pytest.raises(Reached):
        run_job.main(all_stages(out, model))
    assert [p.name for p in out.iterdir()] == []


def test_a_missing_model(tmp_path, model, capsys):
    absent = tmp_path / "models" / "quality"
    err = run(run_job.main, all_stages(tmp_path / "out", absent), capsys)
    assert "'classify.models.quality'" in err and str(absent) in err
    assert not (tmp_path / "out" / "extract").exists()
    err = run(classify_job.main, ["--output", str(tmp_path / "out"), "--set", f"classify.models={{quality: {absent}}}",
                                  "--set", "classify.thresholds={}"], capsys)
    assert "'classify.models.quality'" in err and str(absent) in err


def test_a_model_that_does_not_load(tmp_path, model, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(model, broken)
    (broken / "model.bin").write_bytes(b"not a fastText model")
    err = run(run_job.main, all_stages(tmp_path / "out", broken), capsys)
    assert "'classify.models.quality'" in err and str(broken) in err
    assert not (tmp_path / "out" / "extract").exists()
    sidecar = json.loads((model / "model.json").read_text())
    (broken / "model.json").write_text(json.dumps({**sidecar, "labels": ["only-one"]}))
    err = run(run_job.main, all_stages(tmp_path / "out", broken), capsys)
    assert "'classify.models.quality'" in err and "labels" in err


def test_a_corrupt_tokenizer(tmp_path, model, capsys):
    corrupt = tmp_path / "tokenizer.json"
    corrupt.write_text((TOKENIZER / "tokenizer.json").read_text()[:5000])      # truncated
    err = run(run_job.main, all_stages(tmp_path / "out", model, corrupt), capsys)
    assert "'tokenize.tokenizer'" in err and str(corrupt) in err
    assert not (tmp_path / "out" / "extract").exists()
    err = run(tokens_job.main, ["--output", str(tmp_path / "out"), "--set", f"tokenize.tokenizer={corrupt}"], capsys)
    assert "'tokenize.tokenizer'" in err and str(corrupt) in err


def test_an_unreadable_input(tmp_path, model, capsys):
    fake = tmp_path / "crawl.warc.gz"
    fake.mkdir()                      # a directory named like a file, holding one unreadable entry
    (fake / "part.warc.gz").symlink_to(tmp_path / "gone.warc.gz")
    err = run(run_job.main, ["--input", str(fake), "--output", str(tmp_path / "out"), "--set", "stages=[extract]"],
              capsys)
    assert err.startswith(f"error: input unreadable: {fake / 'part.warc.gz'}")
    assert not (tmp_path / "out" / "extract").exists()


def test_a_stage_input_that_is_missing_fails_before_spark(tmp_path, capsys):
    err = run(dedup_job.main, ["--input", str(tmp_path / "nothing"), "--output", str(tmp_path / "out")], capsys)
    assert err.strip() == (f"error: input not found: {tmp_path}/nothing (run the stage that writes it first, "
                           "or give --input)")
    err = run(run_job.main, ["--input", str(SAMPLE), "--output", str(tmp_path), "--set", "stages=[dedup]"], capsys)
    assert f"input not found: {tmp_path}/classify" in err
