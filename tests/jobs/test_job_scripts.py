"""Every job also runs as a script (`spark-submit jobs/<stage>.py`): no module of jobs/ may
shadow a package it imports when its own folder is first on sys.path."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("mix.py", "mix_search.py", "report.py")   # read run directories, not the pipeline config


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "jobs").glob("*.py")
                                          if p.name not in ("__init__.py", "stage_stats.py", "cli_entry.py", "stage_job.py",
                                                                        "stage_resume.py")))
def test_job_script_starts(script):
    result = subprocess.run([sys.executable, str(ROOT / "jobs" / script), "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    if script not in TOOLS:       # the pipeline's jobs share one command line (pipeline/cli.py)
        assert "--conf" in result.stdout and "--set" in result.stdout
    else:
        assert result.stdout.startswith(f"usage: python -m jobs.{script[:-3]}")
