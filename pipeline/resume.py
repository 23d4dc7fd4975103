"""Which stages of a run are already complete, so that jobs/run.py can skip them on a rerun.

A stage is complete when <output>/stats/<stage>.json holds the same `run_key` and every output
it names still exists. The key is a sha256 over the stage's name, the config it reads and the key
of the stage before it, so changing a filter threshold reruns filter and everything after it
but not extract. Model and tokenizer files enter the key through their content (the models'
model.json, the tokenizer's sha256: each stage's `identity` in pipeline/stages.py); a stage that
writes a later stage's scores ahead (classify's, in the filter's write) has what determines them in
its key too, so a retrained model reruns the stage that scores with it; with extract.early_drops the
extract stage's key holds the blocklists it drops by. The stats
file, with the key, is written after a stage's outputs (pipeline/stage_spark.py), so a run interrupted anywhere inside a stage reruns that stage in full. Outputs are
committed whole (written to a staging directory, then renamed into place: pipeline.spark.write_parquet),
so no reader ever sees part of one: nothing is duplicated or lost.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json

from pipeline import outputs, stages
from pipeline.config import RunConfig
from pipeline.io import read_text
from pipeline.spark import path_exists


def stage_keys(config: RunConfig, names: list[str]) -> dict[str, str]:
    """{stage: run key} for the configured stages, in order, each chained to the one before."""
    keys: dict[str, str] = {}
    previous = ""
    for stage in names:
        entry = stages.get(stage)
        material = {"stage": stage, "previous": previous,
                    "config": {name: _plain(getattr(config, name)) for name in entry.sections},
                    "files": entry.file_identity(config),
                    "scores_ahead": [later.scores_identity(config) for later in stages.scoring_ahead(config, stage, names)]}
        early = {later.name: later.early_drop_identity(config) for later in stages.dropping_early(config, stage)}
        if early:           # only then: the keys of runs without early drops stay as they were
            material["drops_early"] = early
        previous = hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()
        keys[stage] = previous
    return keys


def completed_stats(spark, config: RunConfig, stage: str, key: str) -> dict | None:
    """The stage's stats when it is complete under `key`, else None."""
    text = read_text(outputs.stats_file(config.output, stage))
    if text is None:
        return None
    try:
        stats = json.loads(text)
    except ValueError:
        return None
    if stats.get("run_key") != key:
        return None
    if not all(path_exists(spark, path) for path in stats.get("outputs", {}).values()):
        return None
    return stats


def _plain(value):
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value
