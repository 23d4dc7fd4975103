"""Per-language thresholds fitted on reference text: each rule keeps a chosen share of it.

FineWeb-2 (Penedo et al. 2025) calibrated its filters per language instead of applying English
values everywhere: a rule's threshold is set where it removes a chosen share of known-good text
in that language. Here, given reference documents (text and lang) and the run config's filter
chain, every active rule (a threshold that is not null for the language) of every filter is
fitted per language with at least `min_docs` documents: for a `min_*` rule the value is the
(1 - keep) quantile of the reference's scores, for a `max_*` rule the keep quantile, so that the
rule alone keeps `keep` of the reference (ties at the edge may keep more). Integer thresholds
(min_words, min_stop_words, ...) are rounded the loosening way.

By default a rule is only *loosened*: its value changes only where the configured one drops more
than (1 - keep) of the reference (reference text is good text; a rule that already keeps it is
left as the paper set it). `tighten=True` also moves values that keep more than `keep`. The chain
runs as the filter stage runs it (text modifiers first rewrite what later filters score), without
filters whose threshold comes from the corpus (`token_outlier_*`); a document the modifiers left
empty is left out of the fit and counted (`emptied`): fix the modifier for that language instead.
"""
from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any, Iterable, Mapping

import numpy as np

from filters.base import DEFAULT_LANG
from filters.stage import build_chain
from pipeline.config import FilterConfig

SKIPPED_PREFIXES = ("token_outlier",)   # thresholds from the corpus itself, not from reference text


@dataclasses.dataclass
class Change:
    filter: str
    lang: str
    rule: str
    old: float | None
    new: float
    kept_before: float     # share of the language's reference the rule alone kept at `old`
    kept_after: float
    docs: int

    def line(self) -> str:
        return (f"{self.filter}.{self.lang}.{self.rule}: {self.old} -> {self.new} "
                f"(reference kept {self.kept_before:.1%} -> {self.kept_after:.1%} of {self.docs})")


@dataclasses.dataclass
class Calibration:
    thresholds: dict[str, dict[str, dict[str, float]]]    # {filter: {lang: {rule: value}}}: changes only
    changes: list[Change]
    docs_per_lang: dict[str, int]
    skipped_langs: dict[str, int]                          # fewer than min_docs documents
    emptied: dict[str, int] = dataclasses.field(default_factory=dict)  # left out: no text after the modifiers

    def merged_into(self, config: FilterConfig) -> dict[str, dict[str, dict[str, Any]]]:
        """config.filter.thresholds with the fitted values laid over it (the whole table)."""
        out = {name: {lang: dict(values or {}) for lang, values in (table or {}).items()}
               for name, table in config.thresholds.items()}
        for name, langs in self.thresholds.items():
            for lang, values in langs.items():
                out.setdefault(name, {}).setdefault(lang, {}).update(values)
        return out


def calibrate(documents: Iterable[tuple[str, str | None]], config: FilterConfig, keep: float = 0.95,
              min_docs: int = 20, tighten: bool = False, langs: Iterable[str] | None = None) -> Calibration:
    """Fit thresholds on `documents` ((text, lang) pairs) for the filters of `config`."""
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be in (0, 1], got {keep}")
    docs = [(text or "", lang or DEFAULT_LANG) for text, lang in documents]
    wanted = set(langs) if langs is not None else None
    counts: dict[str, int] = {}
    for _, lang in docs:
        counts[lang] = counts.get(lang, 0) + 1
    fit_langs = sorted(lang for lang, n in counts.items() if n >= min_docs and (wanted is None or lang in wanted))
    skipped = {lang: n for lang, n in sorted(counts.items())
               if lang not in fit_langs and (wanted is None or lang in wanted)}
    filt = dataclasses.replace(config, filters=[n for n in config.filters if not n.startswith(SKIPPED_PREFIXES)])
    chain = build_chain(filt)
    names = chain.score_names()
    docs = [d for d in docs if d[1] in fit_langs]
    scored = chain.score_documents([(text, lang, None, None) for text, lang in docs]) if docs else []
    # a page the text modifiers emptied (c4_lines_v1 removes every line of a script whose sentences
    # end in a mark it does not know, e.g. the Devanagari danda) says nothing about the later rules
    emptied = {lang: 0 for lang in fit_langs}
    rows, doc_langs_list = [], []
    for (text, row), (_, lang) in zip(scored, docs):
        if text.strip():
            rows.append(row)
            doc_langs_list.append(lang)
        else:
            emptied[lang] += 1
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(names))
    doc_langs = np.array(doc_langs_list, dtype=object)
    thresholds: dict[str, dict[str, dict[str, float]]] = {}
    changes: list[Change] = []
    for f in chain.filters:
        table = chain.thresholds[f.name]
        hints = typing.get_type_hints(f.Thresholds)
        for field in dataclasses.fields(f.Thresholds):
            metric = f"{f.prefix}__{field.name.split('_', 1)[1]}"
            if metric not in names:
                continue
            column = values[:, names.index(metric)]
            is_min = field.name.startswith("min_")
            integer = "int" in str(hints.get(field.name)) and "float" not in str(hints.get(field.name))
            for lang in fit_langs:
                old = getattr(table.for_lang(lang), field.name)
                if old is None:
                    continue                      # a rule switched off stays off
                scores = column[(doc_langs == lang) & ~np.isnan(column)]
                if len(scores) < min_docs:
                    continue                      # the rule does not apply to enough documents
                new = _fit(scores, keep, is_min, integer)
                kept_before, kept_after = _kept(scores, old, is_min), _kept(scores, new, is_min)
                if new == old or (not tighten and (kept_before >= keep or kept_after <= kept_before)):
                    continue
                thresholds.setdefault(f.name, {}).setdefault(lang, {})[field.name] = new
                changes.append(Change(f.name, lang, field.name, old, new, kept_before, kept_after, len(scores)))
    return Calibration(thresholds, changes, {lang: counts[lang] for lang in fit_langs}, skipped,
                       {lang: n for lang, n in emptied.items() if n})


def _fit(scores: np.ndarray, keep: float, is_min: bool, integer: bool) -> float:
    """The threshold at which the rule alone keeps `keep` of `scores` (at least)."""
    if is_min:
        value = float(np.quantile(scores, 1 - keep, method="lower"))
        value = math.floor(value) if integer else value
    else:
        value = float(np.quantile(scores, keep, method="higher"))
        value = math.ceil(value) if integer else value
    if integer:
        return int(value)
    # 6 decimals, rounded the loosening way so the fitted value still keeps `keep`
    return math.floor(value * 1e6) / 1e6 if is_min else math.ceil(value * 1e6) / 1e6


def _kept(scores: np.ndarray, limit: float, is_min: bool) -> float:
    if not len(scores):
        return 1.0
    # the comparison filters.base keep() applies
    return float(np.mean(scores >= limit)) if is_min else float(np.mean(scores <= limit))
