"""The report as the run's last stage: Spark aggregates of the run's outputs -> report.json and
index.html under <output>/report/ (the command for any run directory is jobs/report.py)."""
from __future__ import annotations

from pyspark.sql import SparkSession

from pipeline import outputs
from pipeline.config import RunConfig
from pipeline.io import join
from pipeline.report.build_spark import build_report
from pipeline.report.render import summary, write_report


def make_report(spark: SparkSession, run: str, out: str | None = None, top_domains: int = 25) -> dict:
    report = build_report(spark, run, top_domains)
    json_path, html_path = write_report(report, out or outputs.report_dir(run))
    print(summary(report))
    print(f"report: {html_path} and {json_path}")
    return report


def run_report(spark: SparkSession, config: RunConfig, inputs: list[str]) -> dict:
    """The stage table's entry: the report of this run (its inputs are the whole run directory)."""
    make_report(spark, config.output)
    return {"outputs": {"report": join(outputs.report_dir(config.output), "index.html")}}
