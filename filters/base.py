"""The filter interface: score a batch into columns, then decide from the columns alone.

A filter subclass holds only its rules. Scoring and deciding are separate so scores can be
persisted and a threshold re-tuned without recomputing them (NeMo Curator, Dolma). Filters are
registered under versioned names (`gopher_quality_v1`); changing what one computes means a new
name.

Thresholds are a frozen dataclass whose fields are named by their comparison against a score
column: `min_words` keeps documents with `words >= min_words`, `max_symbol_word_ratio` keeps
those with `symbol_word_ratio <= max`. None disables a rule. Rules are checked in field order and
the first one a document fails gives its drop reason, `<prefix>_<field>` (e.g.
`gopher_quality_min_words`). Per-language overrides replace individual fields.
"""
from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from pipeline.config import ConfigError
from pipeline.text import SEGMENTATIONS

Scores = dict[str, np.ndarray]   # metric name (without prefix) -> one value per document
DEFAULT_LANG = "default"
# Used when the job passes no `segmentation` option: scripts written without spaces.
DEFAULT_SEGMENTATION = {"default": "whitespace", "zh": "chars", "ja": "chars", "th": "chars",
                        "lo": "chars", "km": "chars", "my": "chars", "bo": "chars"}


@dataclass(frozen=True)
class Batch:
    """What a filter sees: parallel lists, one entry per document."""
    texts: Sequence[str]
    langs: Sequence[str | None]
    urls: Sequence[str | None] = ()
    domains: Sequence[str | None] = ()

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class NoThresholds:
    """For a text modifier that never drops a document."""


class _Filter(ABC):
    name: ClassVar[str]          # registry key, versioned: gopher_quality_v1
    prefix: ClassVar[str]        # score-column and reason prefix: gopher_quality
    Thresholds: ClassVar[type] = NoThresholds  # frozen dataclass of min_*/max_* fields, paper defaults
    # Metrics that count something (words, lines): integer score columns, whatever dtype the
    # scoring code computes them in. A metric returned as an integer array is one anyway.
    count_metrics: ClassVar[tuple[str, ...]] = ()
    # Options the filter reads, name -> accepted type(s). `segmentation` is always accepted: the
    # stage hands every filter the job's table, whether it segments text or not.
    OPTIONS: ClassVar[Mapping[str, type | tuple]] = {}
    uses_segmentation: ClassVar[bool] = False  # True: self.segmentation is the checked table

    def __init__(self, options: Mapping[str, Any] | None = None):
        """`options`: filter-specific settings that change what is *computed* (word lists, n,
        segmentation per language under the key `segmentation`). Unknown or mistyped options
        raise FilterConfigError naming the option. A subclass that extends this checks its own
        option values after calling it."""
        self.options = dict(options or {})
        _check_options(self.name, self.options, {"segmentation": dict, **self.OPTIONS})
        if self.uses_segmentation:
            self.segmentation = _segmentation_table(self.name, self.options)

    def keep(self, scores: Scores, langs: Sequence[str | None],
             thresholds: "ThresholdTable") -> tuple[np.ndarray, np.ndarray]:
        """(mask of kept documents, reason per document or None), from scores and thresholds only."""
        size = len(langs)
        keep = np.ones(size, dtype=bool)
        reasons = np.full(size, None, dtype=object)
        for field in dataclasses.fields(self.Thresholds):
            limit = thresholds.column(field.name, langs)
            metric = field.name.split("_", 1)[1]
            if metric not in scores:
                raise KeyError(f"{self.name}: threshold {field.name} has no score column {metric!r}")
            values = np.asarray(scores[metric], dtype=np.float64)
            active = ~np.isnan(limit)
            with np.errstate(invalid="ignore"):
                failed = active & ((values < limit) if field.name.startswith("min_") else (values > limit))
            failed &= ~np.isnan(values)  # a metric that does not apply (e.g. no lines) fails nothing
            newly = failed & keep
            reasons[newly] = f"{self.prefix}_{field.name}"
            keep &= ~failed
        return keep, reasons


class DocumentFilter(_Filter):
    """Scores documents; `keep` later drops some of them."""

    @abstractmethod
    def score(self, batch: Batch) -> Scores:
        """Metric arrays, one value per document; no decisions here."""


class TextModifier(_Filter):
    """Rewrites documents (removes lines, redacts PII); may also drop some through `keep`."""

    @abstractmethod
    def apply(self, batch: Batch) -> tuple[list[str], Scores]:
        """(rewritten texts, metrics such as lines_removed per document)."""


class ThresholdTable:
    """A filter's thresholds: defaults plus per-language overrides, as per-document arrays."""

    def __init__(self, thresholds_type: type, overrides: Mapping[str, Mapping[str, Any]] | None = None,
                 where: str = "thresholds"):
        self.type = thresholds_type
        overrides = dict(overrides or {})
        base = thresholds_type(**_checked(thresholds_type, overrides.pop(DEFAULT_LANG, {}), f"{where}.default"))
        self.by_lang = {DEFAULT_LANG: base}
        for lang, values in overrides.items():
            self.by_lang[lang] = dataclasses.replace(base, **_checked(thresholds_type, values, f"{where}.{lang}"))

    def for_lang(self, lang: str | None):
        return self.by_lang.get(lang or DEFAULT_LANG, self.by_lang[DEFAULT_LANG])

    def column(self, field: str, langs: Sequence[str | None]) -> np.ndarray:
        """Threshold per document (NaN where disabled), computed once per distinct language."""
        per_lang = {}
        out = np.empty(len(langs), dtype=np.float64)
        for i, lang in enumerate(langs):
            if lang not in per_lang:
                value = getattr(self.for_lang(lang), field)
                per_lang[lang] = np.nan if value is None else float(value)
            out[i] = per_lang[lang]
        return out


class FilterConfigError(ConfigError):
    """A filter's thresholds or options are wrong; reported like any config error (exit 2)."""


def _checked(thresholds_type: type, values: Mapping[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise FilterConfigError(f"{where} must be a mapping of threshold names to numbers")
    known = {f.name for f in dataclasses.fields(thresholds_type)}
    for key, value in values.items():
        if key not in known:
            raise FilterConfigError(f"unknown key '{where}.{key}' (known: {', '.join(sorted(known))})")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise FilterConfigError(f"key '{where}.{key}' must be a number or null, got {value!r}")
    return dict(values)


def _check_options(name: str, options: Mapping[str, Any], known: Mapping[str, type | tuple]) -> None:
    for key, value in options.items():
        if key not in known:
            raise FilterConfigError(f"unknown option '{name}.{key}' (known: {', '.join(sorted(known))})")
        if value is not None and not isinstance(value, known[key]):
            raise FilterConfigError(f"option '{name}.{key}' has the wrong type: {value!r}")


def _segmentation_table(name: str, options: Mapping[str, Any]) -> dict[str, str]:
    """The `segmentation` option ({lang: whitespace|chars}), checked; defaults when absent."""
    table = dict(options.get("segmentation") or DEFAULT_SEGMENTATION)
    for lang, value in table.items():
        if value not in SEGMENTATIONS:
            raise FilterConfigError(f"option '{name}.segmentation.{lang}' must be one of "
                                    f"{', '.join(SEGMENTATIONS)}, got {value!r}")
    return table
