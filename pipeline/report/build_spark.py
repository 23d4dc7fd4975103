"""The run report's content: the stages' stats files and Spark aggregates of the run's outputs.

report.json keys (version 2): version, run, stages, funnel, languages, sources, domains,
domain_labels, dedup{rejected_by_reason, duplicate_rate_by_lang, cluster_sizes, groups,
frequent_lines, lines_removed, minhash}, histograms{doc_chars, scores{col}, dedup_cluster_size},
tokenize, mix, and for tuning:
- sampling: seed, samples per reason and per (reason, language), the languages sampled apart.
- drops: {stage: {total, reasons: {reason: {count, by_lang, by_source, rule, samples}}}}, the drop
  explorer (samples_spark.py).
- thresholds: {filter|classify: {rules, distributions, what_if, near}}: every score over every
  scored document per language with its limits, the what-if table, the kept documents nearest
  each limit and the dropped ones a looser limit brings back first (thresholds_spark.py).
- notes: what the report could not establish (e.g. a threshold left at a filter's built-in default).
The aggregations are statistics_spark.py; the rendering is render.py.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any

import yaml
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipeline import outputs, storage, stages as stage_table
from pipeline.report import samples_spark as SS
from pipeline.report import statistics_spark as S
from pipeline.report import thresholds_spark as TS
from pipeline.report.thresholds import Rule, classify_rules, filter_rules

REPORT_VERSION = 2
TOP_DOMAINS = 25
DEFAULT_SEED = 18
SAMPLE_LANGS = 8          # languages whose drops are also sampled apart
NUMERIC = {"double", "float", "int", "bigint", "smallint", "tinyint"}


def build_report(spark: SparkSession, run: str, top_domains: int = TOP_DOMAINS, seed: int = DEFAULT_SEED,
                 samples: int = SS.PER_REASON, sample_langs: list[str] | None = None) -> dict[str, Any]:
    """The report of run directory `run`; `samples` documents per drop reason, half as many again per
    reason and language for the largest languages and `sample_langs`, drawn with `seed`."""
    started = time.perf_counter()
    timings: dict[str, float] = {}

    @contextmanager
    def timed(name: str):
        t = time.perf_counter()
        yield
        timings[name] = round(time.perf_counter() - t, 2)

    stages = S.stage_stats(run)
    cpt = S.chars_per_token(run)
    config = read_config(run)
    report: dict[str, Any] = {"version": REPORT_VERSION, "run": run, "stages": list(stages), "notes": []}
    report["funnel"] = _funnel(stages)
    docs_path = S.final_documents_path(run)
    report["documents_from"] = docs_path
    dedup = stages.get("dedup", {})
    hist: dict[str, Any] = {"doc_chars": None, "scores": {}, "dedup_cluster_size": None}
    with timed("corpus tables"):
        _corpus(spark, docs_path, report, hist, dedup, cpt, top_domains)
    sizes = dedup.get("minhash_cluster_sizes") or {}
    if sizes:
        keys = sorted(sizes, key=int)
        hist["dedup_cluster_size"] = {"sizes": [int(k) for k in keys], "clusters": [sizes[k] for k in keys]}
    report["histograms"] = hist

    inputs = stage_inputs(run, config, stages)
    top_langs = list(dict.fromkeys([*sample_languages(stages, report["languages"]), *(sample_langs or [])]))
    per_lang = max(samples // 2, 1)
    report["sampling"] = {"seed": seed, "per_reason": samples, "per_lang": per_lang, "languages": top_langs}
    with timed("thresholds"):
        thresholds, rules = _thresholds(spark, run, config, stages, seed, report["notes"])
    report["thresholds"] = thresholds
    by_reason = {r.reason: r for r in rules}
    short = ((config.get("filter") or {}).get("options") or {}).get("fineweb_v1", {}) or {}
    with timed("drop explorer"):
        report["drops"] = SS.drop_explorer(spark, run, [s for s in stage_table.NAMES if s in stages], by_reason,
                                           inputs, seed, samples, per_lang, top_langs,
                                           int(short.get("short_line_length") or 30))
    for stage, drops in report["drops"].items():
        for reason in drops["reasons"]:
            if stage in ("filter", "classify") and reason not in by_reason and reason not in _TIMEOUTS:
                report["notes"].append(f"{stage}: no threshold known for drop reason {reason} (a limit left at "
                                       f"the filter's built-in default is not in the run's config)")
    with timed("dedup"):
        report["dedup"] = _dedup(spark, run, config, dedup, inputs.get("dedup"), seed) if dedup else {}

    manifests = S.manifests(run)
    tok = stages.get("tokenize", {})
    report["tokenize"] = {
        "chars_per_token_by_lang": cpt,
        "splits": {split: {"tokens": m.get("num_tokens"), "documents": m.get("num_documents"),
                           "shards": [{"name": s["name"], "tokens": s["tokens"], "documents": s["documents"]}
                                      for s in m.get("shards", [])],
                           "totals": m.get("totals", {})} for split, m in manifests.items()},
        "tokenizer": tok.get("tokenizer"),
    }
    train = manifests.get("train", {})
    report["mix"] = train.get("mix") or {}
    report["build_seconds"] = {"total": round(time.perf_counter() - started, 2), **timings}
    return report


def _corpus(spark, docs_path, report, hist, dedup, cpt, top_domains) -> None:
    """Languages, sources, domains and histograms of the run's last document output."""
    if docs_path:
        docs = spark.read.parquet(docs_path).cache()
        report["languages"] = S.language_table(docs, cpt)
        report["sources"] = S.group_table(docs, "source")
        domains = S.group_table(docs, "domain", top_domains) if "domain" in docs.columns else []
        dup = (dedup.get("duplicate_rate") or {}).get("domain") or {}
        for row in domains:
            row["duplicate_rate"] = (dup.get(row["domain"]) or {}).get("rate")
        report["domains"] = domains
        report["domain_labels"] = S.group_table(docs, "domain__label") if "domain__label" in docs.columns else []
        hist["doc_chars"] = S.histogram(docs, F.length("text"), log10=True)
        hist["scores"] = {c: S.histogram(docs, c) for c in S.score_columns(docs)}
        docs.unpersist()
    else:
        report.update(languages=[], sources=[], domains=[], domain_labels=[])


_TIMEOUTS = ("filter_timeout", "classify_timeout")


def read_config(run: str) -> dict[str, Any]:
    """<run>/config.yaml (the resolved config the run wrote), {} when absent."""
    try:
        data = yaml.safe_load(storage.read_bytes(outputs.resolved_config(run)))
    except (FileNotFoundError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def stage_inputs(run: str, config: dict, stages: dict[str, dict]) -> dict[str, str | None]:
    """{stage: the document output it read}: the last document stage before it that ran in this run
    (pipeline/stages.py's rule, on the stages that wrote stats)."""
    names = list(stage_table.NAMES)
    ran = [s for s in names if s in stages and s in stage_table.DOCUMENT_STAGES]
    out: dict[str, str | None] = {}
    for stage in names:
        earlier = [s for s in ran if names.index(s) < names.index(stage)]
        out[stage] = outputs.kept(run, earlier[-1]) if earlier else None
    return out


def sample_languages(stages: dict[str, dict], languages: list[dict], top: int = SAMPLE_LANGS) -> list[str]:
    """The languages whose drops are sampled apart: the largest in the first stage's output."""
    for stats in stages.values():
        counts = stats.get("kept_by_lang")
        if counts:
            return [l for l, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:top]
    return [r["lang"] for r in languages[:top]]


def _numeric_scores(frame: DataFrame, prefixes: tuple[str, ...] | None = None,
                    skip: tuple[str, ...] = ("extract__", "filter__", "classify__", "dedup__")) -> list[str]:
    cols = [c for c, t in frame.dtypes if "__" in c and t in NUMERIC and not c.startswith(skip)]
    if prefixes is not None:
        cols = [c for c in cols if c.startswith(prefixes)]
    return cols


def _thresholds(spark: SparkSession, run: str, config: dict, stages: dict[str, dict], seed: int,
                notes: list[str]) -> tuple[dict[str, Any], list[Rule]]:
    out: dict[str, Any] = {}
    rules: list[Rule] = []
    scored = SS.read(spark, outputs.filter_scores(run))
    if scored is not None and "filter" in stages:
        frules = filter_rules(config, stages["filter"], scored.columns)
        rules += frules
        timeout = "filter__timeout = 1" if "filter__timeout" in scored.columns else None
        rejected = SS.read(spark, outputs.rejected(run, "filter"))
        out["filter"] = _score_section(scored, _numeric_scores(scored), frules, timeout, seed,
                                       rejected_ids=rejected, stage_kept=stages["filter"].get("kept"), notes=notes,
                                       stage="filter")
    if "classify" in stages:
        kept, rejected = SS.read(spark, outputs.kept(run, "classify")), SS.read(spark, outputs.rejected(run, "classify"))
        frames = [f for f in (kept, rejected) if f is not None]
        if frames:
            both = frames[0] if len(frames) == 1 else frames[0].unionByName(frames[1], allowMissingColumns=True)
            crules = classify_rules(stages["classify"])
            rules += crules
            columns = [c for cols in (stages["classify"].get("score_columns") or {}).values() for c in cols]
            columns = [c for c in columns if c in both.columns] or _numeric_scores(both, tuple(
                f"{m}__" for m in (stages["classify"].get("models") or {})))
            dropped = "drop_reason IS NOT NULL" if "drop_reason" in both.columns else None
            timeout = "classify__timeout = 1" if "classify__timeout" in both.columns else None
            out["classify"] = _score_section(both, columns, crules, timeout, seed, dropped=dropped,
                                             stage_kept=stages["classify"].get("kept"), notes=notes, stage="classify")
    return out, rules


def _score_section(frame: DataFrame, columns: list[str], rules: list[Rule], timeout: str | None, seed: int, *,
                   dropped: str | None = None, rejected_ids: DataFrame | None = None, stage_kept: int | None,
                   notes: list[str], stage: str) -> dict[str, Any]:
    clock, seconds = time.perf_counter(), {}

    def lap(name: str) -> None:
        nonlocal clock
        seconds[name] = round(time.perf_counter() - clock, 2)
        clock = time.perf_counter()

    top, counts = TS.lang_groups(frame)
    lap("languages")
    active = [r for r in rules if r.active and r.column in frame.columns]
    section: dict[str, Any] = {"rules": [r.to_json() for r in rules], "languages": top,
                               "documents": sum(counts.values())}
    section["distributions"] = TS.distributions(TS.narrow(frame, columns, seed), columns, rules, top)
    lap("distributions")
    decided = TS.narrow(frame, [r.column for r in active], seed, timeout, dropped, rejected_ids)
    section["what_if"] = TS.what_if(decided, active)
    lap("what_if")
    kept_now = section["what_if"].get("kept_now")
    section["what_if"]["stage_kept"] = stage_kept
    section["what_if"]["matches_stage"] = kept_now == stage_kept if kept_now is not None else None
    if kept_now is not None and stage_kept is not None and kept_now != stage_kept:
        notes.append(f"{stage}: the thresholds read from the run keep {kept_now} documents, the stage kept "
                     f"{stage_kept}: the what-if table is off (a limit the config does not list?)")
    section["near"] = TS.near_limits(decided, frame, active)
    lap("near")
    section["build_seconds"] = seconds
    return section


def _dedup(spark: SparkSession, run: str, config: dict, dedup: dict, input_path: str | None, seed: int) -> dict:
    minhash = (config.get("dedup") or {}).get("minhash") or {}
    return {"rejected_by_reason": dedup.get("rejected_by_reason", {}),
            "duplicate_rate_by_lang": (dedup.get("duplicate_rate") or {}).get("lang", {}),
            "cluster_sizes": dedup.get("minhash_cluster_sizes") or {},
            "steps": dedup.get("steps") or [],
            "minhash": dedup.get("minhash") or {},
            "lines_removed": dedup.get("lines_removed") or {},
            "groups": SS.duplicate_groups(spark, run, input_path, seed, word_n=int(minhash.get("word_ngram") or 5),
                                          char_n=int(minhash.get("char_ngram") or 5)),
            "frequent_lines": SS.frequent_removed_lines(spark, run, input_path)}


def _funnel(stages: dict[str, dict]) -> list[dict]:
    rows, chars_in = [], None
    for name, s in stages.items():
        if "records_in" not in s:
            continue
        row = {"stage": name, "documents_in": s.get("records_in"), "documents_out": s.get("kept"),
               "dropped": s.get("rejected"), "chars_in": chars_in, "chars_out": s.get("kept_chars"),
               "tokens_out": s.get("kept_text_tokens") if name == "tokenize" else None,
               "dropped_by_reason": dict(sorted((s.get("rejected_by_reason") or {}).items(), key=lambda kv: -kv[1]))}
        if name == "tokenize":
            row["tokens_out_train"] = ((s.get("splits") or {}).get("train") or {}).get("tokens")
        rows.append(row)
        chars_in = s.get("kept_chars", chars_in)
    return rows
