"""The run's thresholds as the report needs them: which score column each drop reason compares,
against which limit, per language. Pure Python (the Spark side is thresholds_spark.py).

Read from what the run wrote, never from the filter classes (the report may not import `filters`):
- filter rules: `<run>/config.yaml` `filter.thresholds` ({filter: {default|lang: {min_x|max_x: value}}}),
  or `stats/filter.json` `thresholds` when the stage writes its effective table there, plus
  `stats/filter.json` `value_thresholds` (limits the stage derived from the corpus, per language).
  Semantics are filters/base.py's: `min_x` keeps `<prefix>__x >= limit`, `max_x` keeps `<= limit`,
  a null limit disables the rule, a NaN score fails nothing, a language override replaces the
  default's field, the reason is `<prefix>_<field>`.
- classifier cuts: `stats/classify.json` `min_score_by_lang` ({model: {default|lang: min_score}});
  column `<model>__score`, reason `<model>_min_score`, a missing score counts as 0 (classifiers/stage_spark.py).

A field the config leaves out keeps the filter's built-in default, which this module cannot see:
such a rule is listed as unknown (`Rules.unknown_reasons`) rather than guessed.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

DEFAULT = "default"


@dataclass(frozen=True)
class Rule:
    stage: str                 # filter | classify
    owner: str                 # the filter (gopher_quality_v1) or the model (quality)
    field: str                 # min_words, min_score
    column: str                # gopher_quality__words
    reason: str                # gopher_quality_min_words
    default: float | None      # None: off unless a language sets it
    by_lang: dict[str, float | None] = field(default_factory=dict)
    missing_as_zero: bool = False   # classify: a null score is 0 (fails a positive cut)

    @property
    def op(self) -> str:
        return "min" if self.field.startswith("min_") else "max"

    def limit(self, lang: str | None) -> float | None:
        if lang is not None and lang in self.by_lang:
            return self.by_lang[lang]
        return self.default

    @property
    def active(self) -> bool:
        return self.default is not None or any(v is not None for v in self.by_lang.values())

    def fails(self, value: float | None, lang: str | None, limit: float | None = None) -> bool:
        """What the stage decides, for one document (tests and the driver-side checks)."""
        limit = self.limit(lang) if limit is None else limit
        if limit is None:
            return False
        if value is None:
            if not self.missing_as_zero:
                return False
            value = 0.0
        if isinstance(value, float) and math.isnan(value):
            return False
        return value < limit if self.op == "min" else value > limit

    def describe(self, lang: str | None = None) -> str:
        limit = self.limit(lang)
        sign = ">=" if self.op == "min" else "<="
        return f"keep {self.column} {sign} {_fmt(limit)}" if limit is not None else "off"

    def to_json(self) -> dict[str, Any]:
        return {"stage": self.stage, "owner": self.owner, "field": self.field, "column": self.column,
                "reason": self.reason, "op": self.op, "default": self.default, "by_lang": dict(self.by_lang)}


@dataclass
class Rules:
    rules: list[Rule]
    unknown_reasons: list[str] = field(default_factory=list)   # drop reasons no rule explains

    def by_reason(self) -> dict[str, Rule]:
        return {r.reason: r for r in self.rules}

    def for_stage(self, stage: str) -> list[Rule]:
        return [r for r in self.rules if r.stage == stage]


def filter_rules(config: Mapping[str, Any] | None, filter_stats: Mapping[str, Any] | None,
                 score_columns: Iterable[str]) -> list[Rule]:
    """Every threshold of the configured filters whose score column exists, in filter then field order."""
    config = config or {}
    filter_stats = filter_stats or {}
    section = config.get("filter") or {}
    names = list(filter_stats.get("filters") or section.get("filters") or [])
    table = filter_stats.get("thresholds") or section.get("thresholds") or {}
    value_thresholds = filter_stats.get("value_thresholds") or {}
    prefixes = filter_stats.get("prefixes") or {}
    columns = set(score_columns)
    known_prefixes = sorted({c.split("__", 1)[0] for c in columns if "__" in c})
    rules = []
    for name in names:
        langs = dict(table.get(name) or {})
        defaults = dict(langs.pop(DEFAULT, None) or {})
        derived = value_thresholds.get(name) or {}
        fields = list(dict.fromkeys([*defaults, *(f for v in langs.values() for f in (v or {})),
                                     *(f for v in derived.values() for f in (v or {}))]))
        fields = [f for f in fields if f.startswith(("min_", "max_"))]
        prefix = prefixes.get(name) or guess_prefix(name, fields, columns, known_prefixes)
        for fld in fields:
            column = f"{prefix}__{fld.split('_', 1)[1]}"
            if column not in columns:
                continue
            by_lang: dict[str, float | None] = {}
            for lang, values in langs.items():
                if fld in (values or {}):
                    by_lang[lang] = _num(values[fld])
            for lang, values in derived.items():
                if fld in (values or {}):
                    by_lang[lang] = _num(values[fld])
            rules.append(Rule("filter", name, fld, column, f"{prefix}_{fld}", _num(defaults.get(fld)), by_lang))
    return rules


def classify_rules(classify_stats: Mapping[str, Any] | None) -> list[Rule]:
    rules = []
    for model, table in ((classify_stats or {}).get("min_score_by_lang") or {}).items():
        table = dict(table or {})
        default = _num(table.pop(DEFAULT, None))
        rules.append(Rule("classify", model, "min_score", f"{model}__score", f"{model}_min_score", default,
                          {lang: _num(v) for lang, v in table.items()}, missing_as_zero=True))
    return rules


def guess_prefix(name: str, fields: list[str], columns: set[str], prefixes: list[str]) -> str:
    """The score-column prefix of filter `name` (gopher_quality_v1 -> gopher_quality,
    llama3_dup_ngram_lines_v1 -> llama3_lines): among the prefixes holding a column for every
    field, the filter's base name, else the one whose words all appear in the name."""
    base = re.sub(r"_v\d+$", "", name)
    metrics = [f.split("_", 1)[1] for f in fields]
    candidates = [p for p in prefixes if all(f"{p}__{m}" in columns for m in metrics)] or prefixes
    if base in candidates:
        return base
    words = set(base.split("_"))
    inside = [p for p in candidates if set(p.split("_")) <= words]
    pool = inside or candidates
    if not pool:
        return base
    return max(pool, key=lambda p: (len(set(p.split("_")) & words), -len(p), p))


def candidates(limit: float, steps: int = 4, nonnegative: bool = True) -> list[float]:
    """Limits around `limit` for the what-if table: `limit` +- k nice steps (1, 2 or 5 x 10^n, about
    a tenth of the limit; 1 for a limit of 0)."""
    step = nice_step(limit)
    out = []
    for k in range(-steps, steps + 1):
        value = _round(limit + k * step)
        if nonnegative and value < 0:
            continue
        out.append(value)
    return sorted(set(out))


def shifted(limit: float | None, k: int) -> float | None:
    """`limit` moved k nice steps (what each language's limit becomes in what-if row k)."""
    if limit is None or k == 0:
        return limit
    return _round(max(limit + k * nice_step(limit), 0.0) if limit >= 0 else limit + k * nice_step(limit))


def nice_step(limit: float) -> float:
    """1, 2 or 5 x 10^n, the nearest (in ratio) to a tenth of the limit; 1 for a limit of 0."""
    scale = abs(limit) / 10
    if scale == 0:
        return 1.0
    exp = math.floor(math.log10(scale))
    return float(min((m * 10 ** exp for m in (1, 2, 5, 10)), key=lambda s: abs(math.log(s / scale))))


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:g}"
