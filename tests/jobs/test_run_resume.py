"""jobs/run.py reruns: complete stages are skipped, a config change reruns its stage and the ones
after it, and a stage whose output went missing (an interrupted run) runs again to the same result."""
import json
import shutil
from pathlib import Path

import pytest

from jobs import run as run_job

pytestmark = pytest.mark.spark
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "sample.warc.gz"


def _run(tmp_path, *extra):
    return run_job.main(["--input", str(SAMPLE), "--output", str(tmp_path), "--set", "stages=[extract, filter]",
                         *extra])


def _kept_ids(spark, path):
    return sorted(row["id"] for row in spark.read.parquet(str(path)).select("id").collect())


def test_rerun_skips_complete_stages_and_resumes(spark, tmp_path, capsys):
    assert _run(tmp_path) == 0
    first = capsys.readouterr().out
    assert "skipped" not in first
    stats = {s: json.loads((tmp_path / "stats" / f"{s}.json").read_text()) for s in ("extract", "filter")}
    assert all(len(stats[s]["run_key"]) == 64 for s in stats) and stats["extract"]["run_key"] != stats["filter"]["run_key"]
    kept = _kept_ids(spark, tmp_path / "filter")
    parts = sorted(p.stat().st_mtime_ns for p in (tmp_path / "extract").glob("part-*"))

    assert _run(tmp_path) == 0                                    # same config: nothing runs
    second = capsys.readouterr().out
    assert "[extract] complete with the same config" in second and "[filter] complete" in second
    assert "extract: 131 in -> 58 kept" in second and second.count("[skipped: complete]") == 2
    assert sorted(p.stat().st_mtime_ns for p in (tmp_path / "extract").glob("part-*")) == parts

    assert _run(tmp_path, "--set", "filter.filters=[c4_v1]") == 0   # filter changes: extract stays
    third = capsys.readouterr().out
    assert "[extract] complete" in third and "[filter] complete" not in third
    assert json.loads((tmp_path / "stats" / "filter.json").read_text())["filters"] == ["c4_v1"]

    assert _run(tmp_path) == 0                                    # back to the first config: filter reruns
    shutil.rmtree(tmp_path / "filter")                           # ... and an interrupted run lost its output
    assert _run(tmp_path) == 0
    last = capsys.readouterr().out
    assert last.count("[extract] complete") == 2 and "[filter] complete" not in last.split("=== curate")[-2]
    assert _kept_ids(spark, tmp_path / "filter") == kept
    assert json.loads((tmp_path / "stats" / "filter.json").read_text())["kept"] == stats["filter"]["kept"]

    assert _run(tmp_path, "--force") == 0
    assert "complete with the same config" not in capsys.readouterr().out
