"""The filter stage as batch functions: score (persisted), then select (thresholds only).

`score_batches` runs the configured filters in order on documents; text modifiers rewrite the
text that later filters see. It returns the documents with their (possibly rewritten) text and
one float64 column per metric, `<prefix>__<metric>`. `select_batches` reads those columns only
and adds `drop_reason`: re-tuning a threshold never recomputes a score.
"""
from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Iterable, Iterator, Mapping

import numpy as np
import pyarrow as pa

from filters.base import DEFAULT_LANG, Batch, FilterConfigError, TextModifier, ThresholdTable
from filters.registry import get_filter, known_filters
from pipeline.config import FilterConfig, dump_yaml, RunConfig


@dataclasses.dataclass
class FilterChain:
    filters: list                      # instances, in run order
    thresholds: dict[str, ThresholdTable]

    def score_fields(self) -> list[pa.Field]:
        """Score columns, found by scoring one tiny document (filters declare metrics by returning them)."""
        probe = Batch(["Probe text. " * 10], ["en"], ["http://probe.invalid/"], ["probe.invalid"])
        names: list[str] = []
        for f in self.filters:
            scores = f.apply(probe)[1] if isinstance(f, TextModifier) else f.score(probe)
            names.extend(f"{f.prefix}__{metric}" for metric in scores)
        return [pa.field(name, pa.float64()) for name in names]


def build_chain(config: FilterConfig, extra_options: Mapping[str, Mapping[str, Any]] | None = None) -> FilterChain:
    """Instances and threshold tables for config.filters; bad names, options or thresholds raise
    FilterConfigError naming the config key."""
    # Settings of filters left out of `filters` are kept (to switch them back on) but must name
    # a real filter, so a typo is not silently ignored.
    known = known_filters()
    for section in ("thresholds", "options"):
        unknown = sorted(set(getattr(config, section)) - set(known))
        if unknown:
            raise FilterConfigError(f"key 'filter.{section}.{unknown[0]}': unknown filter "
                                    f"(known: {', '.join(known)})")
    instances, tables = [], {}
    for name in config.filters:
        cls = get_filter(name)
        options = {"segmentation": config.segmentation, **dict(config.options.get(name) or {}),
                   **dict((extra_options or {}).get(name) or {})}
        instances.append(cls(options))
        overrides = config.thresholds.get(name) or {}
        if not isinstance(overrides, Mapping):
            raise FilterConfigError(f"key 'filter.thresholds.{name}' must be a mapping of languages")
        tables[name] = ThresholdTable(cls.Thresholds, overrides, where=f"filter.thresholds.{name}")
    return FilterChain(instances, tables)


def validate_filters(config: RunConfig) -> None:
    """Names, options and thresholds of every configured filter, checked before any Spark work;
    raises a ConfigError (exit 2)."""
    from filters.token_outlier import TokenOutlierFilter

    stand_in = {TokenOutlierFilter.name: {"distribution": np.ones(2)}}  # the real one needs the corpus
    build_chain(config.filter, stand_in)


def score_batches(batches: Iterable[pa.RecordBatch], config: RunConfig,
                  extra_options: Mapping[str, Mapping[str, Any]] | None = None,
                  output_schema: pa.Schema | None = None) -> Iterator[pa.RecordBatch]:
    """mapInArrow body: documents -> documents with rewritten text and score columns."""
    chain = _cached_chain(config, extra_options)
    for batch in batches:
        if batch.num_rows == 0:
            continue
        texts = [t or "" for t in batch.column("text").to_pylist()]
        langs = batch.column("lang").to_pylist()
        urls = batch.column("url").to_pylist()
        domains = batch.column("domain").to_pylist()
        columns: dict[str, np.ndarray] = {}
        for f in chain.filters:
            view = Batch(texts, langs, urls, domains)
            if isinstance(f, TextModifier):
                texts, scores = f.apply(view)
            else:
                scores = f.score(view)
            for metric, values in scores.items():
                columns[f"{f.prefix}__{metric}"] = np.asarray(values, dtype=np.float64)
        out = batch.set_column(batch.schema.get_field_index("text"), "text", pa.array(texts, pa.string()))
        for name, values in columns.items():
            out = out.append_column(name, pa.array(values, pa.float64()))
        yield out.select(output_schema.names) if output_schema is not None else out


def select_batches(batches: Iterable[pa.RecordBatch], config: RunConfig,
                   value_thresholds: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None
                   ) -> Iterator[pa.RecordBatch]:
    """mapInArrow body: scored documents -> the same rows plus `drop_reason` (null = kept).

    `value_thresholds` adds corpus-derived thresholds per language ({filter: {lang: {field:
    value}}}), e.g. a percentile the job turned into a value."""
    chain = _cached_chain(config, None)
    for batch in batches:
        langs = batch.column("lang").to_pylist()
        reasons = np.full(batch.num_rows, None, dtype=object)
        for f in chain.filters:
            scores = {name.split("__", 1)[1]: batch.column(name).to_numpy(zero_copy_only=False)
                      for name in batch.schema.names if name.startswith(f"{f.prefix}__")}
            table = chain.thresholds[f.name]
            extra = (value_thresholds or {}).get(f.name)
            if extra:
                table = _with_defaults(table, extra)
            _, why = f.keep(scores, langs, table)
            first = (reasons == None) & (why != None)  # noqa: E711 - elementwise on object arrays
            reasons[first] = why[first]
        yield batch.append_column("drop_reason", pa.array(reasons.tolist(), pa.string()))


def _with_defaults(table: ThresholdTable, per_lang: Mapping[str, Mapping[str, float]]) -> ThresholdTable:
    updated = ThresholdTable(table.type)
    updated.by_lang = dict(table.by_lang)
    for lang, values in per_lang.items():
        updated.by_lang[lang] = dataclasses.replace(table.for_lang(lang), **values)
    return updated


_CHAINS: dict[str, FilterChain] = {}


def _cached_chain(config: RunConfig, extra_options) -> FilterChain:
    """One chain per Python worker and config: word lists and models load once."""
    key = dump_yaml(config) + _options_key(extra_options)
    if key not in _CHAINS:
        _CHAINS.clear()
        _CHAINS[key] = build_chain(config.filter, extra_options)
    return _CHAINS[key]


def _options_key(extra_options) -> str:
    digest = hashlib.sha1()
    for name, options in sorted((extra_options or {}).items()):
        for key, value in sorted(options.items()):
            digest.update(f"{name}.{key}=".encode())
            digest.update(value.tobytes() if isinstance(value, np.ndarray) else repr(value).encode())
    return digest.hexdigest()


__all__ = ["FilterChain", "build_chain", "score_batches", "select_batches", "DEFAULT_LANG"]
