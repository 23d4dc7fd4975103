"""`pip install` of the wheel: the demo (conf/, the sample crawl, the classifier text) travels inside
the package under curate/demo/ (setup.py), pipeline/demo.py finds it, and `curate run` without --conf
in a directory with no conf/default.yaml runs that demo config (`curate demo-models` trains its
classifiers first). The slow test builds the wheel offline, installs it apart from the checkout and
runs the demo from an empty directory."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from jobs import cli_entry
from pipeline import demo
from pipeline.cli import DEFAULT_CONF, default_conf

ROOT = Path(__file__).resolve().parents[2]
# What the wheel must carry under curate/demo/, each byte for byte as in the checkout.
DEMO_FILES = sorted([p.relative_to(ROOT) for p in (ROOT / "conf").rglob("*") if p.is_file()
                     and "__pycache__" not in p.parts]
                    + [Path("samples/sample.warc.gz"), Path("samples/classifier/quality.jsonl.gz"),
                       Path("samples/classifier/domain.jsonl.gz")])


def _tree(root: Path, *files: str) -> Path:
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")
    return root


def test_the_locator_prefers_the_packaged_copy_then_the_checkout(tmp_path):
    packaged = _tree(tmp_path / "site", "pipeline/demo.py", "curate/demo/conf/default.yaml",
                     "curate/demo/samples/classifier/quality.jsonl.gz")
    assert demo.demo_root(packaged) == packaged / "curate" / "demo" and demo.is_packaged(packaged)
    assert demo.demo_config(packaged) == packaged / "curate" / "demo" / "conf" / "default.yaml"
    assert demo.classifier_text("quality", packaged) == packaged / "curate/demo/samples/classifier/quality.jsonl.gz"
    assert demo.classifier_text("domain", packaged) is None

    checkout = _tree(tmp_path / "repo", "pipeline/demo.py", "curate/__init__.py", "conf/default.yaml")
    assert demo.demo_root(checkout) == checkout and not demo.is_packaged(checkout)
    assert demo.demo_root(_tree(tmp_path / "zip", "pipeline/demo.py")) is None       # neither: no demo

    # This checkout (an editable install copies nothing): its own conf/ and samples/.
    assert demo.demo_root() == ROOT and not demo.is_packaged()
    assert demo.demo_config() == ROOT / "conf" / "default.yaml"
    assert demo.classifier_text("domain") == ROOT / "samples" / "classifier" / "domain.jsonl.gz"


@pytest.fixture
def demo_copy(tmp_path, monkeypatch):
    """The demo files copied to tmp_path/demo (as a wheel would place them) and found there, so that
    models a `make run` left in the checkout's out/models do not count; the working directory is
    tmp_path/work, empty."""
    root = tmp_path / "demo"
    for relative in DEMO_FILES:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / relative, root / relative)
    monkeypatch.setattr(demo, "demo_config", lambda: root / demo.CONFIG)
    monkeypatch.setattr(demo, "classifier_text", lambda name: root / demo.CLASSIFIER_TEXT / f"{name}.jsonl.gz"
                        if (root / demo.CLASSIFIER_TEXT / f"{name}.jsonl.gz").is_file() else None)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    return root


def test_run_without_conf_in_an_empty_directory_uses_the_demo_config(tmp_path, demo_copy, capsys):
    work = tmp_path / "work"
    assert default_conf() is None                                # other jobs: the built-in defaults
    assert default_conf(demo_fallback=True) == str(demo_copy / "conf" / "default.yaml")
    note = capsys.readouterr().err
    assert note.count("\n") == 1 and f"using the demo config {demo_copy / 'conf' / 'default.yaml'}" in note

    # No models yet: the error names the command that trains them.
    assert cli_entry.main(["run", "--dry-run"]) == 2
    assert "`curate demo-models`" in capsys.readouterr().err
    assert cli_entry.main(["run", "--dry-run", "--set", "stages=[extract, filter]"]) == 0
    out = capsys.readouterr().out
    assert f"input:         {demo_copy / 'samples' / 'sample.warc.gz'}" in out     # the demo's input, from here
    assert "1. extract: RUN" in out and "2. filter: RUN" in out and not any(work.iterdir())

    # A conf/default.yaml in the working directory still wins, without a note.
    (work / "conf").mkdir()
    (work / "samples").mkdir()
    (work / "samples" / "mine.jsonl").write_text('{"text": "hello"}\n')
    (work / DEFAULT_CONF).write_text("input: [samples/mine.jsonl]\noutput: out/mine\nstages: [extract]\n")
    assert cli_entry.main(["run", "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert str(work / "samples" / "mine.jsonl") in captured.out and "demo config" not in captured.err


def test_demo_models_trains_where_the_demo_config_looks(tmp_path, demo_copy, capsys):
    work = tmp_path / "work"
    assert cli_entry.main(["demo-models"]) == 0
    for name in ("quality", "domain"):
        card = json.loads((work / "out" / "models" / name / "model.json").read_text())
        metrics = json.loads((work / "out" / "models" / name / "metrics.json").read_text())
        assert card["backend"] == "fasttext" and metrics
    assert f"domain: trained in {work / 'out' / 'models' / 'domain'}" in capsys.readouterr().out
    assert cli_entry.main(["demo-models"]) == 0
    assert "quality: already trained" in capsys.readouterr().out
    assert cli_entry.main(["run", "--dry-run"]) == 0                 # now the full demo plan checks out
    assert "3. classify: RUN" in capsys.readouterr().out
    assert cli_entry.main(["demo-models", "--set", "classify.models={toxicity: m/toxicity}",
                           "--set", "classify.thresholds={}"]) == 2
    assert "names no demo classifier (toxicity;" in capsys.readouterr().err


def test_curate_help_lists_demo_models(capsys):
    assert cli_entry.main(["--help"]) == 0
    assert "demo-models" in capsys.readouterr().out


_NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "out", "build", "dist", "*.egg-info", "__pycache__",
                                     ".pytest_cache", "spark-warehouse", "metastore_db", "derby.log")


@pytest.mark.slow
@pytest.mark.spark
def test_an_installed_wheel_runs_the_demo_from_an_empty_directory(tmp_path):
    # Build from a copy of the source tree (no stale build/ of the checkout's), offline.
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "-q", "-w", str(tmp_path / "dist"), str(source)], check=True, capture_output=True)
    [wheel] = (tmp_path / "dist").glob("curate-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for relative in DEMO_FILES:
            assert archive.read(f"curate/demo/{relative.as_posix()}") == (ROOT / relative).read_bytes(), relative
    assert {name.split("/")[0] for name in names}.isdisjoint({"conf", "samples", "tests", "bench"})

    # Installed apart from the checkout; only that copy is on the path (the dev venv's packages serve
    # the dependencies, and its editable finder comes after PYTHONPATH).
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(site),
                    str(wheel)], check=True, capture_output=True)
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run([sys.executable, "-c", "import json, curate, jobs, pipeline.demo as d; print(json.dumps("
                            "[str(d.demo_root()), d.is_packaged(), jobs.__file__, curate.__file__]))"],
                           cwd=work, env=env, check=True, capture_output=True, text=True)
    root, packaged, jobs_file, curate_file = json.loads(where.stdout)
    assert Path(root) == site / "curate" / "demo" and packaged
    assert Path(jobs_file).is_relative_to(site) and Path(curate_file).is_relative_to(site)

    curate = [str(site / "bin" / "curate")]
    missing = subprocess.run(curate + ["run"], cwd=work, env=env, capture_output=True, text=True)
    assert missing.returncode == 2 and "`curate demo-models`" in missing.stderr
    subprocess.run(curate + ["demo-models"], cwd=work, env=env, check=True, capture_output=True)
    assert (work / "out" / "models" / "quality" / "model.json").is_file()
    run = subprocess.run(curate + ["run", "--set", "spark.master=local[2]", "--set", "spark.shuffle_partitions=2",
                                   "--set", "spark.driver_memory=2g"],
                         cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"using the demo config {site / 'curate' / 'demo' / 'conf' / 'default.yaml'}" in run.stderr
    assert "=== curate run summary ===" in run.stdout

    from pipeline.tokens.shards import verify_shards

    out = work / "out" / "demo"
    expected = json.loads((ROOT / "samples" / "expected.json").read_text())["records"]
    extracted = json.loads((out / "stats" / "extract.json").read_text())
    assert extracted["records_in"] == sum(expected.values()) and extracted["kept"] == expected["response_html_200"]
    previous = extracted
    for stage in ("filter", "classify", "dedup", "tokenize"):
        stats = json.loads((out / "stats" / f"{stage}.json").read_text())
        assert stats["records_in"] == previous["kept"] == stats["kept"] + stats["rejected"], stage
        previous = stats
    assert previous["kept"] > 0
    train, valid = verify_shards(out / "shards" / "train"), verify_shards(out / "shards" / "valid")
    assert sum(s["documents"] for s in train["shards"] + valid["shards"]) == previous["kept"]
    assert (out / "report" / "index.html").is_file()
    assert str(site / "curate" / "demo" / "samples" / "sample.warc.gz") in (out / "config.yaml").read_text()
