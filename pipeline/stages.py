"""The one stage table: every stage of the data flow, in flow order.

The runner (jobs/run.py), each stage's own command (jobs/stage_job.py), the resume keys
(pipeline/resume.py), `curate --help` (jobs/cli_entry.py), the config check of `stages:` and the
report all read this table; nothing else lists the stages.

A stage's functions are named as "module:function" and imported only when called: this ground
floor knows every stage but imports none of them (the way setuptools entry points name code
without loading it). `run(spark, config, inputs) -> stats` writes the stage's outputs
(pipeline/stage_spark.py writes its stats file); `check(config)` fails fast, before any Spark
work, on what the stage will need; `identity(config)` names the files (models, tokenizer) whose
content enters the stage's run key. A stage with `score_ahead` can score documents as the stage
before it decides and writes them (classify: its models score the filter's kept documents in the
filter's decision pass, so no pass of its own reads and writes every document again):
`scoring_ahead` says which stages do so in a run. A stage with `drops_early` can reject records in
the extract stage, before their HTML is parsed, where its decision needs no text (the filter's
domain blocklists), when the config asks for it (extract.early_drops): `dropping_early`.

Input of a stage: what the user gave (--input), else the output of the last document stage before
it in *this run's* `stages:` list, else (nothing before it is configured) the output of the stage
before it here, optional stages (decontam) left out.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from pipeline import outputs

if TYPE_CHECKING:   # pipeline.config reads NAMES from here to check `stages:`
    from pipeline.config import RunConfig


@dataclass(frozen=True)
class Stage:
    name: str
    run: str                        # "module:function", the driver side of the stage
    sections: tuple[str, ...]       # the config it reads, besides its input: part of its run key
    summary: str                    # one line for `curate --help`
    command: str                    # the module of its command (python -m / spark-submit)
    documents: bool = True          # writes documents to <out>/<name> (and rejected/<name>)
    reads_documents: bool = True    # reads the previous stage's documents (the report reads the run)
    resumable: bool = True          # has a stats file and a run key; the report has neither
    optional: bool = False          # not part of the default flow: a lone later stage never reads it
    unit: str = "documents"         # what its records are called in progress lines
    check: str | None = None        # "module:function"(config): raises ConfigError/InputError
    identity: str | None = None     # "module:function"(config) -> JSON-able identity of its files
    # "module:function"(spark, config, frame) -> frame with this stage's score columns, applied to the
    # previous stage's kept documents as it writes them, and "module:function"(config) -> what
    # determines those scores (not the decisions): recorded beside them, part of that stage's run key.
    score_ahead: str | None = None
    score_identity: str | None = None
    # "module:function"(config, schema) -> (fields, batch function: batches holding `text` only in,
    # the same with the fields appended out): those scores computed inside the previous stage's own
    # decision pass, where it decides in batches (pipeline/stage_spark.py decide_batches), so that
    # no pass of their own reads the kept documents again.
    score_kept: str | None = None
    # "module:function"(spark, config) -> a picklable predicate(url, domain) -> bool with `reason`
    # and `detail` (or None: nothing to drop), applied by the extract stage to every record before
    # extraction, and "module:function"(config) -> what it depends on: part of extract's run key.
    drops_early: str | None = None
    drops_early_identity: str | None = None

    def load(self) -> Callable:
        return _resolve(self.run)

    def check_config(self, config: RunConfig) -> None:
        if self.check:
            _resolve(self.check)(config)

    def file_identity(self, config: RunConfig):
        return _resolve(self.identity)(config) if self.identity else {}

    def add_scores(self, spark, config: RunConfig, frame):
        return _resolve(self.score_ahead)(spark, config, frame)

    def kept_scorer(self, config: RunConfig, schema):
        return _resolve(self.score_kept)(config, schema)

    def scores_identity(self, config: RunConfig) -> dict:
        return {"stage": self.name, "scores": _resolve(self.score_identity)(config)}

    def early_drop(self, spark, config: RunConfig):
        return _resolve(self.drops_early)(spark, config)

    def early_drop_identity(self, config: RunConfig):
        return _resolve(self.drops_early_identity)(config)


def _resolve(name: str) -> Callable:
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


STAGES: tuple[Stage, ...] = (
    Stage("extract", "pipeline.extract.stage_spark:run_extract", ("input", "source", "extract", "langid"),
          "WARC/WET/JSONL/Parquet -> documents with text, URL and language", "jobs.extract", unit="records",
          check="pipeline.preflight:check_extract"),
    Stage("filter", "filters.stage_spark:run_filter", ("filter",),
          "heuristic, NSFW and PII filters", "jobs.filter", check="filters.stage:validate_filters",
          drops_early="filters.blocklist_spark:early_drop",
          drops_early_identity="filters.blocklist_spark:early_drop_identity"),
    Stage("classify", "classifiers.stage_spark:run_classify", ("classify",),
          "quality and domain scores and thresholds", "jobs.classify",
          check="classifiers.model_files:check_models", identity="classifiers.model_files:models_identity",
          score_ahead="classifiers.stage_spark:add_scores", score_identity="classifiers.stage_spark:scores_identity",
          score_kept="classifiers.stage_spark:kept_scorer"),
    Stage("dedup", "dedup.stage_spark:run_dedup", ("dedup",),
          "URL, exact, MinHash, line and semantic deduplication", "jobs.dedup"),
    Stage("decontam", "decontam.stage_spark:run_decontam", ("decontam",),
          "remove benchmark text: n-gram overlap with evaluation sets", "jobs.decontam",
          optional=True, check="decontam.evalsets:check_eval_sets", identity="decontam.evalsets:eval_sets_identity"),
    Stage("tokenize", "pipeline.tokens.stage_spark:run_tokenize", ("tokenize",),
          "token shards with a manifest", "jobs.tokens", documents=False,
          check="pipeline.tokens.stage:check_tokenize", identity="pipeline.tokens.tokenizer:tokenizer_identity"),
    Stage("report", "pipeline.report.stage_spark:run_report", (),
          "corpus statistics (HTML and JSON)", "jobs.report", documents=False, reads_documents=False,
          resumable=False),
)
BY_NAME = {stage.name: stage for stage in STAGES}
NAMES = tuple(BY_NAME)
DOCUMENT_STAGES = tuple(stage.name for stage in STAGES if stage.documents)


def get(name: str) -> Stage:
    if name not in BY_NAME:
        raise KeyError(f"unknown stage '{name}' (known: {', '.join(NAMES)})")
    return BY_NAME[name]


def in_order(names: list[str]) -> list[str]:
    """`names` sorted into flow order (a run executes its stages in this order)."""
    return sorted(names, key=NAMES.index)


def previous_stage(config: RunConfig, name: str) -> str | None:
    """The document stage whose output `name` reads: the last one before it in this run's list,
    else (nothing before it is configured) the one before it in the table."""
    earlier = [s for s in config.stages if BY_NAME[s].documents and NAMES.index(s) < NAMES.index(name)]
    return earlier[-1] if earlier else previous_in_table(name)


def previous_in_table(name: str) -> str | None:
    """The document stage before `name` in flow order, optional stages left out (never assumed to have run)."""
    earlier = [s.name for s in STAGES if s.documents and not s.optional and NAMES.index(s.name) < NAMES.index(name)]
    return earlier[-1] if earlier else None


def scoring_ahead(config: RunConfig, name: str, running: list[str]) -> list[Stage]:
    """The later stages of a run of `running` (the whole run's stages; a lone stage's command
    scores nothing ahead) that score stage `name`'s kept documents as it writes them: those that
    read its output, can score ahead, and have `<stage>.score_ahead` on."""
    return [stage for stage in STAGES
            if stage.score_ahead and stage.name in running and stage.name in config.stages
            and previous_stage(config, stage.name) == name
            and getattr(getattr(config, stage.name, None), "score_ahead", False)]


def dropping_early(config: RunConfig, name: str) -> list[Stage]:
    """The stages of this run's config whose early drops stage `name` applies: the extract stage's,
    with extract.early_drops on (records are rejected there before extraction)."""
    if name != "extract" or not config.extract.early_drops:
        return []
    return [stage for stage in STAGES if stage.drops_early and stage.name in config.stages]


def default_inputs(config: RunConfig, name: str) -> list[str]:
    """What stage `name` reads when the user names no input."""
    if name == "extract":
        return list(config.input)
    if not get(name).reads_documents:
        return []
    previous = previous_stage(config, name)
    return [outputs.kept(config.output, previous)] if previous else []
