"""The bench/ scripts start, and nothing on sys.path shadows the standard library.

Every runnable bench/ script answers `--help` on a fresh interpreter, the way `make bench` starts
one (`python bench/<name>.py`): its folder first on sys.path, so a bench/ module named like a
standard-library one (bench/tokenize.py once) is what warcio, inspect or linecache import instead,
and the script dies before parsing its arguments. `--help` stays fast: no Spark, no JVM.

Folders that land first on sys.path (the repository root, bench/ for its scripts, jobs/ under
spark-submit, samples/ for its scripts) hold no module named like a standard-library one.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
MAIN = re.compile(r"""^if __name__ == ["']__main__["']:""", re.MULTILINE)
SCRIPTS = sorted(p.name for p in BENCH.glob("*.py") if MAIN.search(p.read_text(encoding="utf-8")))
# Scripts that import a sibling of bench/ (extract_quality, dedup_corpus, scale_corpus, minhash_signatures).
SIBLING_IMPORTERS = ["extract.py", "minhash.py", "scale.py", "semantic.py"]


def run_help(script: Path, cwd: Path, *flags: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """`python [flags] -X importtime SCRIPT --help` in cwd: the result and the top-level packages it imported."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH", "PYTHONSTARTUP")}
    proc = subprocess.run([sys.executable, *flags, "-X", "importtime", str(script), "--help"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    imported, stderr = set(), []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:"):
            imported.add(line.rsplit("|", 1)[-1].strip().split(".")[0])
        else:
            stderr.append(line)
    proc.stderr = "\n".join(stderr)
    return proc, imported


def check(proc: subprocess.CompletedProcess, imported: set[str], name: str) -> None:
    assert proc.returncode == 0, f"{name} --help exited with {proc.returncode}:\n{proc.stderr[-3000:]}"
    assert "usage" in proc.stdout.lower(), f"{name} --help printed no usage:\n{proc.stdout[-2000:]}"
    assert not {"pyspark", "py4j"} & imported, f"{name} --help imported Spark"


def test_scripts_found():
    assert {"extract.py", "minhash.py", "tokenizer_speed.py", *SIBLING_IMPORTERS} <= set(SCRIPTS)


@pytest.mark.parametrize("name", SCRIPTS)
def test_help_from_repo_root(name):
    """As the Makefile runs them: `python bench/<name>.py` from the repository root."""
    check(*run_help(Path("bench") / name, ROOT), name)


@pytest.mark.parametrize("name", SIBLING_IMPORTERS)
def test_help_from_elsewhere(name, tmp_path):
    """By absolute path from another folder, which is then not on sys.path."""
    check(*run_help(BENCH / name, tmp_path), name)


@pytest.mark.parametrize("name", SIBLING_IMPORTERS)
def test_help_safe_path(name, tmp_path):
    """`python -P` puts no script folder on sys.path: the script adds bench/ itself."""
    check(*run_help(BENCH / name, tmp_path, "-P"), name)


def importable(folder: Path) -> list[Path]:
    """The modules and packages (namespace packages too) that `folder` on sys.path makes importable."""
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".") and (
        (p.is_file() and p.suffix == ".py") or (p.is_dir() and any(p.glob("*.py")))))


def test_nothing_named_like_the_stdlib():
    folders = [ROOT, BENCH, ROOT / "jobs", ROOT / "samples"]
    modules = [p for folder in folders for p in importable(folder)]
    assert {"bench", "jobs", "pipeline", "extract.py", "make_sample.py"} <= {p.name for p in modules}
    shadowing = [str(p.relative_to(ROOT)) for p in modules
                 if (p.stem if p.is_file() else p.name) in sys.stdlib_module_names]
    assert not shadowing, f"named like a standard-library module (shadows it on sys.path): {shadowing}"
