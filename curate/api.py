"""The functions behind `curate.*`: thin wrappers over filters/ and pipeline/, no Spark."""
from __future__ import annotations

import dataclasses
import math
from typing import Iterable, Mapping, Sequence


from filters.registry import known_filters
from filters.stage import FilterChain, build_chain
from pipeline.config import RunConfig
from pipeline.tokens.shards import ShardReader


def filters() -> dict[str, type]:
    """Every registered filter, {versioned name: class}; each class's `Thresholds` dataclass holds
    the default thresholds (`curate filters` prints them)."""
    return known_filters()


def build_filter_chain(names: Sequence[str] | None = None, config: RunConfig | None = None) -> FilterChain:
    """The filters `names` (default: config.filter.filters) with their options and thresholds from
    `config` (default: the built-in defaults), checked: filters.stage.build_chain."""
    settings = (config or RunConfig()).filter
    if names is not None:
        settings = dataclasses.replace(settings, filters=list(names))
    return build_chain(settings)


def score(batch: Iterable[Mapping], chain: FilterChain | Sequence[str] | None = None) -> list[dict]:
    """Scores and decisions for documents (mappings with `text`, optionally `lang`, `url`,
    `domain`): one dict per document, `kept`, `drop_reason` (the first failed rule,
    `<filter>_<rule>`), `scores` ({column: float or None}) and `text` (as the chain's modifiers left
    it). `chain`: a FilterChain, filter names, or None for the default filters. No Spark: the same
    FilterChain.score_documents the filter stage runs on executors."""
    documents = list(batch)
    if not isinstance(chain, FilterChain):
        chain = build_filter_chain(chain)
    scored, kept, reasons = chain.decide_documents([(d.get("text") or "", d.get("lang"), d.get("url"), d.get("domain"))
                                                    for d in documents])
    names = chain.score_names()
    return [{"kept": bool(kept[i]), "drop_reason": reasons[i], "text": text,
             "scores": {name: (None if math.isnan(v) else float(v)) for name, v in zip(names, row)}}
            for i, (text, row) in enumerate(scored)]


def run(config: RunConfig | str | None = None, overrides: Sequence[str] = (), force: bool = False) -> dict[str, dict]:
    """Run the configured stages as `curate run` does (one Spark session, the same checks first,
    resume unless `force`): {stage: its stats}. `config`: a RunConfig, a YAML path, or None for the
    built-in defaults; `overrides`: `key=value` strings as `--set` takes them. Bad config or
    inputs raise ConfigError / InputError before Spark starts."""
    from jobs.run import run_stages
    from pipeline.config import load_config

    if not isinstance(config, RunConfig):
        config = load_config(config, list(overrides))
    elif overrides:
        raise ValueError("overrides apply to a config file or the defaults, not to a RunConfig")
    return dict(run_stages(config, force=force))


def read_shards(directory: str, verify: bool = True) -> ShardReader:
    """Memory-mapped token shards (<out>/shards/train): len(reader) documents, the token
    ids of one (reader.document(i)); checked against manifest.json first (pipeline.tokens.shards.ShardReader)."""
    return ShardReader(directory, verify=verify)
