"""Every output directory of a small run reads with tools other than Spark: no `.crc` side files
(pipeline.spark.build_session / replace_directory), timestamps as Parquet TIMESTAMP(MICROS, UTC), counts as integers."""
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jobs import run as run_job

pytestmark = pytest.mark.spark
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "sample.warc.gz"


def _parquet_dirs(out: Path) -> list[Path]:
    return sorted({p.parent for p in out.rglob("*.parquet")})


def test_every_output_directory_reads_with_polars_and_duckdb(spark, tmp_path):
    from classifiers.model_files import save_model, train_model
    from tests.classifiers.data import quality_dataset

    polars = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    texts, labels = quality_dataset(40)
    save_model(train_model("sklearn", texts, labels), tmp_path / "model")
    out = tmp_path / "out"
    # classify scores the filter's kept documents as they are written: filter/ holds its scores too
    assert run_job.main(["--input", str(SAMPLE), "--output", str(out), "--set", "stages=[extract, filter, classify, dedup]",
                         "--set", f"classify.models={{quality: {tmp_path / 'model'}}}",
                         "--set", "classify.thresholds={}"]) == 0
    tmp_path = out
    assert not sorted(tmp_path.rglob("*.crc")), "checksum side files in the outputs"
    directories = _parquet_dirs(tmp_path)
    names = {d.relative_to(tmp_path).as_posix() for d in directories}
    assert {"extract", "filter", "classify", "dedup", "rejected/extract"} <= names, names
    assert "quality__score" in pq.read_schema(next((tmp_path / "filter").glob("*.parquet"))).names
    for directory in directories:
        expected = pq.ParquetDataset(directory).read().num_rows
        assert polars.read_parquet(f"{directory}/*.parquet").height == expected, directory
        if directory.name != "filter_scores":
            # the directory itself too; filter_scores/ holds the filter stage's `_scoring_config.json`
            # (filters/stage_spark.py), a second extension polars refuses in a bare directory read
            assert polars.read_parquet(directory).height == expected, directory
            assert polars.scan_parquet(str(directory) + "/").collect().height == expected, directory
        # `_SUCCESS` (the commit marker the pipeline reads) stays: duckdb globs the Parquet files
        count = duckdb.sql(f"SELECT count(*) FROM read_parquet('{directory}/*.parquet')").fetchall()[0][0]
        assert count == expected, directory

    part = next((tmp_path / "extract").glob("*.parquet"))
    column = pq.ParquetFile(part).schema.column(pq.read_schema(part).get_field_index("fetched_at"))
    assert column.physical_type == "INT64"                       # not Spark's INT96
    logical = json.loads(column.logical_type.to_json())
    assert (logical["Type"], logical["isAdjustedToUTC"], logical["timeUnit"]) == ("Timestamp", True, "microseconds")
    assert str(pq.read_schema(part).field("fetched_at").type) == "timestamp[us, tz=UTC]"

    kept = pq.read_schema(next((tmp_path / "filter").glob("*.parquet")))
    for count in ("pii__emails", "gopher_quality__words", "c4_lines__lines_removed", "fineweb__lines"):
        assert str(kept.field(count).type) == "int64", count          # counts, not doubles
    assert str(kept.field("gopher_quality__mean_word_length").type) == "double"
