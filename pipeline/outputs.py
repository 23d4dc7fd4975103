"""The run directory's layout: where every stage's outputs live under `--output`.

    <out>/config.yaml              the resolved config of the last command
    <out>/<stage>/                 kept documents (Parquet) of extract, filter, classify, dedup
    <out>/rejected/<stage>/        every other document of that stage, with drop_reason
    <out>/stats/<stage>.json       outcome counts and the run key, written last: the stage is complete
    <out>/filter_scores/           every document with its filter scores (filter.select_only reuses it)
    <out>/shards/{train,valid}/    token shards and manifest.json (tokenize)
    <out>/report/                  index.html and report.json

Paths are joined with pipeline.io.join, so the same code serves local paths and object-store URIs.
"""
from __future__ import annotations

from typing import Sequence

from pipeline.io import join


def kept(run: str, stage: str) -> str:
    return join(run, "shards") if stage == "tokenize" else join(run, stage)


def rejected(run: str, stage: str) -> str:
    return join(run, "rejected", stage)


def stats_file(run: str, stage: str) -> str:
    # Not inside <stage>/: Spark and pyarrow would try to read a stats.json there as Parquet.
    return join(run, "stats", f"{stage}.json")


def stats_dir(run: str) -> str:
    return join(run, "stats")


def filter_scores(run: str) -> str:
    return join(run, "filter_scores")


def shards(run: str, split: str | None = None) -> str:
    return join(run, "shards", split) if split else join(run, "shards")


def report_dir(run: str) -> str:
    return join(run, "report")


def resolved_config(run: str) -> str:
    return join(run, "config.yaml")


def final_documents_path(run: str, stages: Sequence[str]) -> str | None:
    """The last of `stages` (document stages, in flow order) with a complete output (_SUCCESS)."""
    from pipeline import storage

    for stage in reversed(stages):
        if storage.exists(join(run, stage, "_SUCCESS")):
            return join(run, stage)
    return None
