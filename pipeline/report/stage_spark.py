"""The report as the run's last stage: Spark aggregates of the run's outputs -> report.json and
index.html under <output>/report/ (the command for any run directory is jobs/report.py), and two
runs compared -> compare.html and compare.json."""
from __future__ import annotations

import time

from pyspark.sql import SparkSession

from pipeline import outputs
from pipeline.config import RunConfig
from pipeline.io import join
from pipeline.report.build_spark import DEFAULT_SEED, build_report
from pipeline.report.compare_spark import fate_changes
from pipeline.report.render import summary, write_compare, write_report
from pipeline.report.samples_spark import PER_REASON


def make_report(spark: SparkSession, run: str, out: str | None = None, top_domains: int = 25,
                seed: int = DEFAULT_SEED, samples: int = PER_REASON, sample_langs: list[str] | None = None) -> dict:
    started = time.perf_counter()
    report = build_report(spark, run, top_domains, seed=seed, samples=samples, sample_langs=sample_langs)
    json_path, html_path = write_report(report, out or outputs.report_dir(run))
    print(summary(report))
    print(f"report built in {time.perf_counter() - started:.1f}s: {html_path} and {json_path}")
    return report


def make_comparison(spark: SparkSession, a: dict, b: dict, out: str, seed: int = DEFAULT_SEED,
                    per_change: int = 10) -> tuple[str, str]:
    """compare.html and compare.json in `out`: the two reports side by side and the documents whose
    fate differs between the runs (a Spark join of the runs' ids)."""
    changes = fate_changes(spark, a["run"], b["run"], seed, per_change)
    return write_compare(a, b, changes, out)


def run_report(spark: SparkSession, config: RunConfig, inputs: list[str]) -> dict:
    """The stage table's entry: the report of this run (its inputs are the whole run directory)."""
    make_report(spark, config.output)
    return {"outputs": {"report": join(outputs.report_dir(config.output), "index.html")}}
