"""jobs/run.py wires each stage to the output of the stage before it in *this* run's `stages`
(pipeline/stages.py), not to a fixed predecessor nor to whatever an earlier run left behind."""
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs import filter as filter_job
from jobs import run as run_job

pytestmark = pytest.mark.spark
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "sample.warc.gz"


def _stats(out: Path, stage: str) -> dict:
    return json.loads((out / "stats" / f"{stage}.json").read_text())


def test_each_stage_reads_the_previous_stage_of_this_run(spark, tmp_path):
    # A stale classify output from an earlier run: one document, complete (_SUCCESS).
    stale = tmp_path / "classify"
    stale.mkdir()
    pq.write_table(pa.table({"id": ["stale"], "text": ["an old document"], "lang": ["en"], "source": ["web"]}),
                   stale / "part-00000.parquet")
    (stale / "_SUCCESS").write_text("")

    code = run_job.main(["--input", str(SAMPLE), "--output", str(tmp_path),
                         "--set", "stages=[extract, dedup, tokenize]"])
    assert code == 0
    extract, dedup, tokenize = (_stats(tmp_path, s) for s in ("extract", "dedup", "tokenize"))
    assert dedup["records_in"] == extract["kept"] == 58          # not <out>/filter, which does not exist
    assert tokenize["records_in"] == dedup["kept"] > 1           # not the stale classify output
    assert not (tmp_path / "filter").exists()


def test_a_stage_without_its_input_is_one_line_and_exit_2(spark, tmp_path, capsys):
    code = run_job.main(["--input", str(SAMPLE), "--output", str(tmp_path), "--set", "stages=[dedup]"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: input not found: {tmp_path}/classify (run the stage that writes it first, or give --input)"
    assert not (tmp_path / "dedup").exists() and not (tmp_path / "stats" / "dedup.json").exists()


@pytest.mark.parametrize("case", ["garbage", "truncated", "not_parquet_file"])
def test_an_input_that_is_not_parquet_is_one_line_and_exit_2(spark, tmp_path, capsys, case):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "_SUCCESS").write_text("")                       # not data: never the file checked
    if case == "garbage":
        target = folder / "part-00000.parquet"
        target.write_text("this is not parquet at all")
    elif case == "truncated":
        target = folder / "part-00000.parquet"
        pq.write_table(pa.table({"id": ["a"], "text": ["b"]}), target)
        target.write_bytes(target.read_bytes()[:-6])           # a write cut short: the footer is gone
    else:
        target = folder = SAMPLE                               # a WARC given where documents belong
    code = filter_job.main(["--input", str(folder), "--output", str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: input {folder}: ") and target.name in err and "\n" not in err
    assert "Parquet" in err and "Py4J" not in err
    assert not (tmp_path / "out" / "filter").exists()
