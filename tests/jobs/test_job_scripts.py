"""Every job also runs as a script (`spark-submit jobs/<stage>.py`): no module of jobs/ may
shadow a package it imports when its own folder is first on sys.path."""
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from pipeline.stages import STAGES

ROOT = Path(__file__).resolve().parents[2]
# The pipeline's stage commands and the runner share one command line (pipeline/cli.py).
PIPELINE_COMMANDS = {"run.py"} | {stage.command.removeprefix("jobs.") + ".py" for stage in STAGES
                                  if stage.reads_documents or stage.name == "extract"}


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "jobs").glob("*.py")
                                          if p.name not in ("__init__.py", "cli_entry.py", "stage_job.py")))
def test_job_script_starts(script):
    result = subprocess.run([sys.executable, str(ROOT / "jobs" / script), "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    if script in PIPELINE_COMMANDS:
        assert "--conf" in result.stdout and "--set" in result.stdout
    elif script not in ("train_classifier.py", "train_tokenizer.py"):
        assert result.stdout.startswith(f"usage: python -m jobs.{script[:-3]}")


@pytest.fixture(scope="module")
def code_zip(tmp_path_factory):
    path = tmp_path_factory.mktemp("dist") / "curate.zip"
    subprocess.run([sys.executable, "-m", "pipeline.package", "--out", str(path)], cwd=ROOT, check=True,
                   capture_output=True)
    return str(path)


@pytest.mark.parametrize("script", sorted(PIPELINE_COMMANDS))
def test_every_stage_loads_when_a_job_runs_as_a_script(script, code_zip):
    # `spark-submit jobs/<x>.py` puts jobs/ first on sys.path, where jobs/dedup.py and jobs/decontam.py
    # would shadow the packages the stage table names: loading the script must take jobs/ off the path.
    # As on a cluster: the code zip (--py-files) on sys.path after jobs/, no editable-install
    # finder (python -S), and the script exec'd rather than run with runpy, which imports `jobs` itself.
    code = (f"import sys; sys.path[0] = 'jobs'; sys.path += [{code_zip!r}, {sysconfig.get_paths()['purelib']!r}]; "
            f"exec(compile(open('jobs/{script}').read(), 'jobs/{script}', 'exec'), {{'__name__': 'as_script'}}); "
            "from pipeline.stages import STAGES; [stage.load() for stage in STAGES]; print('ok')")
    result = subprocess.run([sys.executable, "-S", "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
