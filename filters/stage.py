"""The filter stage as batch functions: score (persisted), then select (thresholds only).

`score_batches` runs the configured filters in order on documents; text modifiers rewrite the
text that later filters see. It returns the documents with their (possibly rewritten) text and
one column per metric, `<prefix>__<metric>`: int64 for counts (a filter's `count_metrics`, or a
metric it computes as integers), float64 for the rest. `select_batches` reads those columns only
and adds `drop_reason`: re-tuning a threshold never recomputes a score.

Time limit: the chain runs in a sandbox child process (pipeline/sandbox.py), a group of up to
GROUP_DOCS documents (GROUP_CHARS characters) per call, as one batch. A group that takes longer
than min(filter.timeout_s, GROUP_TIMEOUT_S) is killed and run again a document at a time, each
under filter.timeout_s, whether it hangs in Python or in C: a document past it keeps its text,
gets NaN scores and `filter__timeout` = 1, and `select_batches` drops it as `filter_timeout`. A
document scores the same alone as in a batch (every filter scores documents independently), so
the other documents' scores do not depend on it.
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
from pipeline.sandbox import Failure, Sandbox
from pipeline.text import shared_tokenization

TIMEOUT_COLUMN = "filter__timeout"    # 1.0: the document passed filter.timeout_s (scores NaN)
TIMEOUT_REASON = "filter_timeout"
# Documents per call of the chain in the sandbox child, their characters at most, and the limit
# of one such group before its documents are run one at a time.
GROUP_DOCS = 64
GROUP_CHARS = 256_000
GROUP_TIMEOUT_S = 2.0


@dataclasses.dataclass
class FilterChain:
    filters: list                      # instances, in run order
    thresholds: dict[str, ThresholdTable]

    def score_fields(self) -> list[pa.Field]:
        """Score columns (int64 for counts, null where a document timed out), then the timeout column."""
        counts = self.count_names()
        return [pa.field(name, pa.int64() if name in counts else pa.float64())
                for name in (*self.score_names(), TIMEOUT_COLUMN)]

    def count_names(self) -> set[str]:
        """The score columns that count something (integer columns)."""
        self.score_names()
        return self._counts

    def score_names(self) -> list[str]:
        """Score columns, found by scoring one tiny document (filters declare metrics by returning them)."""
        if not hasattr(self, "_names"):
            probe = Batch(["Probe text. " * 10], ["en"], ["http://probe.invalid/"], ["probe.invalid"])
            names: list[str] = []
            counts: set[str] = set()
            for f in self.filters:
                scores = f.apply(probe)[1] if isinstance(f, TextModifier) else f.score(probe)
                names.extend(f"{f.prefix}__{metric}" for metric in scores)
                counts |= {f"{f.prefix}__{metric}" for metric, values in scores.items()
                           if metric in f.count_metrics or np.asarray(values).dtype.kind in "iub"}
            self._names = list(dict.fromkeys(names))   # a repeated name: one column, the last value
            self._counts = counts
        return self._names

    def score_documents(self, documents: list[tuple]) -> list[tuple[str, list[float]]]:
        """(text, lang, url, domain) per document -> (rewritten text, scores in score_names()
        order) per document: every filter, in order, on the documents as one batch."""
        texts = [d[0] for d in documents]
        langs, urls, domains = [d[1] for d in documents], [d[2] for d in documents], [d[3] for d in documents]
        columns: dict[str, np.ndarray] = {}
        with shared_tokenization():     # the filters tokenise each document (and line) once between them
            for f in self.filters:
                view = Batch(texts, langs, urls, domains)
                if isinstance(f, TextModifier):
                    texts, scores = f.apply(view)
                else:
                    scores = f.score(view)
                for metric, values in scores.items():
                    columns[f"{f.prefix}__{metric}"] = np.asarray(values, dtype=np.float64)
        names = self.score_names()
        if list(columns) != names:
            raise RuntimeError(f"the filters returned the scores {list(columns)}, expected {names}")
        rows = np.column_stack([columns[n] for n in names]).tolist() if names else [[] for _ in documents]
        return list(zip(texts, rows))

    def decide_documents(self, documents: list[tuple]) -> tuple[list[tuple[str, list[float]]], np.ndarray, list]:
        """score_documents, then every filter's thresholds on its own scores: (scored documents, kept
        mask, drop reason per document: the first rule it failed, None when kept). Outside Spark
        (curate.score, curate score-file); the stage itself decides in select_batches."""
        scored = self.score_documents(documents)
        names = self.score_names()
        langs = [d[1] for d in documents]
        columns = {name: np.array([row[i] for _, row in scored], dtype=np.float64) for i, name in enumerate(names)}
        kept = np.ones(len(documents), dtype=bool)
        reasons: list[str | None] = [None] * len(documents)
        for f in self.filters:
            prefix = f"{f.prefix}__"
            own = {name[len(prefix):]: values for name, values in columns.items() if name.startswith(prefix)}
            keep, why = f.keep(own, langs, self.thresholds[f.name])
            for i in np.flatnonzero(kept & ~keep):
                reasons[i] = why[i]
            kept &= keep
        return scored, kept, reasons


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


def effective_thresholds(config: FilterConfig) -> dict[str, dict[str, dict[str, Any]]]:
    """{filter: {'default' or lang: {threshold: value}}}: the defaults with the config's overrides,
    as the stage applied them (its stats record them, so a report reader sees what decided)."""
    return {name: {lang: dataclasses.asdict(values) for lang, values in
                   ThresholdTable(get_filter(name).Thresholds, config.thresholds.get(name) or {}).by_lang.items()}
            for name in config.filters}


def validate_filters(config: RunConfig) -> None:
    """Names, options and thresholds of every configured filter, checked before any Spark work;
    raises a ConfigError (exit 2)."""
    from filters.token_outlier import TokenOutlierFilter

    stand_in = {TokenOutlierFilter.name: {"distribution": np.ones(2)}}  # the real one needs the corpus
    build_chain(config.filter, stand_in)
    _check_blocklists(config.filter)
    check_early_drops(config)


def _check_blocklists(config: FilterConfig) -> None:
    """nsfw_domains_v1's list files exist (local ones; the stage reads them in a Spark join, where
    a missing one would surface only after the JVM starts)."""
    from filters.blocklists import list_files
    from filters.nsfw import NsfwDomainsFilter
    from pipeline.io import is_remote

    options = config.options.get(NsfwDomainsFilter.name) or {}
    if NsfwDomainsFilter.name in config.filters:
        local = [entry for entry in options.get("blocklists") or () if not is_remote(str(entry))]
        list_files(local, options.get("categories") or ("adult",), options.get("list_category") or "adult")


def check_early_drops(config: RunConfig) -> None:
    """extract.early_drops rejects a listed host's page before any language is known, so it must
    be what nsfw_domains_v1 decides for every language: any listed host drops the document."""
    from filters.nsfw import NsfwDomainsFilter

    name = NsfwDomainsFilter.name
    if not config.extract.early_drops or name not in config.filter.filters:
        return
    table = ThresholdTable(NsfwDomainsFilter.Thresholds, config.filter.thresholds.get(name),
                           where=f"filter.thresholds.{name}")
    for lang, thresholds in table.by_lang.items():
        value = thresholds.max_blocked
        if value is None or value >= 1:
            raise FilterConfigError(f"key 'extract.early_drops': it drops a listed host's page before its language "
                                    f"is known, but filter.thresholds.{name}.{lang}.max_blocked is {value}; set it "
                                    f"to 0, or extract.early_drops to false")


def score_batches(batches: Iterable[pa.RecordBatch], config: RunConfig,
                  extra_options: Mapping[str, Mapping[str, Any]] | None = None,
                  output_schema: pa.Schema | None = None) -> Iterator[pa.RecordBatch]:
    """mapInArrow body: documents -> documents with rewritten text, score columns and
    `filter__timeout`, the chain run in the sandbox child (module docstring)."""
    chain, sandbox = _cached_chain(config, extra_options), _cached_sandbox(config, extra_options)
    names, counts = chain.score_names(), chain.count_names()
    for batch in batches:
        if batch.num_rows == 0:
            continue
        texts = [t or "" for t in batch.column("text").to_pylist()]
        documents = list(zip(texts, batch.column("lang").to_pylist(), batch.column("url").to_pylist(),
                             batch.column("domain").to_pylist()))
        values = np.full((len(texts), len(names)), np.nan)
        timed_out = np.zeros(len(texts))
        for i, result in enumerate(sandbox.map(documents)):
            if isinstance(result, Failure):
                if result.kind != "timeout":
                    raise RuntimeError(f"filter chain crashed on the document with url "
                                       f"{documents[i][2]!r}: {result.detail}")
                timed_out[i] = 1.0          # keeps its text; NaN scores; dropped as filter_timeout
                continue
            texts[i], values[i] = result
        out = batch.set_column(batch.schema.get_field_index("text"), "text", pa.array(texts, pa.string()))
        for j, name in enumerate(names):
            column = values[:, j]
            out = out.append_column(name, pa.array(np.nan_to_num(column).astype(np.int64), pa.int64(),
                                                   mask=np.isnan(column))   # timed out: null
                                    if name in counts else pa.array(column, pa.float64()))
        out = out.append_column(TIMEOUT_COLUMN, pa.array(timed_out, pa.float64()))
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
        if TIMEOUT_COLUMN in batch.schema.names:   # absent from scores persisted before the limit
            reasons[batch.column(TIMEOUT_COLUMN).to_numpy(zero_copy_only=False) == 1.0] = TIMEOUT_REASON
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
_SANDBOXES: dict[str, Sandbox] = {}


def _cached_chain(config: RunConfig, extra_options) -> FilterChain:
    """One chain per Python worker and config: word lists and models load once."""
    key = dump_yaml(config) + _options_key(extra_options)
    if key not in _CHAINS:
        _CHAINS.clear()
        _CHAINS[key] = build_chain(config.filter, extra_options)
    return _CHAINS[key]


def _cached_sandbox(config: RunConfig, extra_options) -> Sandbox:
    """One sandbox child per Python worker and config, forked from the worker once its chain is
    built (the child shares the word lists and models), reused by every later batch."""
    key = dump_yaml(config) + _options_key(extra_options)
    if key not in _SANDBOXES:
        for old in _SANDBOXES.values():
            old.close()
        _SANDBOXES.clear()
        chain = _cached_chain(config, extra_options)
        chain.score_names()                # probed before the fork, once
        _SANDBOXES[key] = Sandbox(chain.score_documents, config.filter.timeout_s, batched=True,
                                  chunk_size=GROUP_DOCS, weigh=_document_chars, chunk_weight=GROUP_CHARS,
                                  group_timeout_s=min(config.filter.timeout_s, GROUP_TIMEOUT_S))
    return _SANDBOXES[key]


def _document_chars(document: tuple) -> int:
    return len(document[0])


def _options_key(extra_options) -> str:
    digest = hashlib.sha1()
    for name, options in sorted((extra_options or {}).items()):
        for key, value in sorted(options.items()):
            digest.update(f"{name}.{key}=".encode())
            digest.update(value.tobytes() if isinstance(value, np.ndarray) else repr(value).encode())
    return digest.hexdigest()


__all__ = ["FilterChain", "build_chain", "score_batches", "select_batches", "DEFAULT_LANG", "TIMEOUT_COLUMN",
           "TIMEOUT_REASON"]
