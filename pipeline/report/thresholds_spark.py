"""Scores against thresholds, in Spark: histograms per language with the limits on them, what-if
counts at limits around the current ones, the kept documents closest to each limit and the dropped
ones that a looser limit would bring back.

Input: every scored document of a stage (`<run>/filter_scores` for the filters; the classify
output and `rejected/classify` together for the classifiers) and its rules (thresholds.py),
narrowed to id, language and the score columns (the text is never read). The per-row work is
tuning.py's batch functions under mapInArrow: a plan of a few nodes however many rules and
columns there are. Only aggregates and the few sampled rows reach the driver: min/max per column,
counts per (language group, column, bin), a few rows per rule of what-if counts, and k rows per
(rule, side).
"""
from __future__ import annotations

import math
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from pipeline.report import tuning as T
from pipeline.report.thresholds import Rule, shifted
from pipeline.spark import map_batches

BINS = 30
TOP_LANGS = 6
OTHER = "other"
WHAT_IF_STEPS = 4
LOG_ABOVE = 1000.0     # a non-negative column reaching past this is binned as log10(1 + x)
TEXT_CHARS = 4000       # characters of a sampled document's text brought to the driver


def seeded_order(seed: int, *keys: str) -> Column:
    """A reproducible pseudo-random order of rows: a hash of the seed and the row's own keys, so the
    sample does not depend on partitioning or on the order rows were read in."""
    return F.xxhash64(F.lit(int(seed)), *[F.coalesce(F.col(k).cast("string"), F.lit("")) for k in keys])


def lang_groups(frame: DataFrame, top: int = TOP_LANGS) -> tuple[list[str], dict[str, int]]:
    """The `top` most frequent languages (one row per language to the driver) and every count."""
    counts = {(r["lang"] or "null"): r["count"] for r in frame.groupBy("lang").count().collect()}
    ranked = sorted(counts, key=lambda l: (-counts[l], l))
    return ranked[:top], counts


def narrow(frame: DataFrame, columns: list[str], seed: int, other_fail: str | None = None,
           dropped: str | None = None, rejected_ids: DataFrame | None = None) -> DataFrame:
    """What tuning.py reads: _key, lang, _h, _x, _dropped, _s<i> (columns[i] as double). `other_fail`
    and `dropped` are SQL on `frame`; `rejected_ids` marks the dropped rows by id (a join of ids)."""
    key = "id" if "id" in frame.columns else "url"
    cols = [F.col(key).cast("string").alias("_key"), F.col("lang").cast("string").alias("lang"),
            seeded_order(seed, key).alias("_h"),
            F.coalesce(F.expr(other_fail or "false"), F.lit(False)).alias("_x"),
            F.coalesce(F.expr(dropped or "false"), F.lit(False)).alias("_dropped")]
    cols += [F.col(c).cast("double").alias(f"_s{i}") for i, c in enumerate(columns)]
    out = frame.select(*cols)
    if rejected_ids is not None:
        ids = rejected_ids.select(F.col("id").cast("string").alias("_key")).distinct().withColumn("_rej", F.lit(True))
        out = (out.join(ids, "_key", "left")
                  .withColumn("_dropped", F.col("_dropped") | F.coalesce(F.col("_rej"), F.lit(False))).drop("_rej"))
    return out


# --- histograms -------------------------------------------------------------------------------------

def distributions(scored: DataFrame, columns: list[str], rules: list[Rule], top: list[str],
                  bins: int = BINS) -> dict[str, dict[str, Any]]:
    """{column: {edges, log10, count, missing, groups: {lang group: counts}, thresholds: [...]}} over
    `narrow(...)` rows whose _s<i> are `columns`: one pass for the ranges, one for the counts, both
    over (language, column, value) rows, so the plan stays small however many columns there are."""
    if not columns:
        return {}
    values = ", ".join(f"_s{i}" for i in range(len(columns)))
    long = scored.selectExpr("lang", f"posexplode(array({values})) AS (c, v)")
    ok = "(v IS NOT NULL AND NOT isnan(v))"
    ranges = {r["c"]: r for r in long.groupBy("c").agg(
        F.expr(f"min(CASE WHEN {ok} THEN v END)").alias("lo"), F.expr(f"max(CASE WHEN {ok} THEN v END)").alias("hi"),
        F.expr(f"count(CASE WHEN {ok} THEN 1 END)").alias("n"),
        F.expr(f"count(CASE WHEN NOT {ok} THEN 1 END)").alias("m")).collect()}   # a row per column
    by_column: dict[str, list[Rule]] = {}
    for r in rules:
        by_column.setdefault(r.column, []).append(r)
    specs, binning = {}, []
    for i, c in enumerate(columns):
        row = ranges.get(i)
        lo, hi, n = (row["lo"], row["hi"], int(row["n"] or 0)) if row else (None, None, 0)
        limits = _limits(by_column.get(c, []))
        entry = {"column": c, "count": n, "missing": int(row["m"] or 0) if row else 0, "log10": False, "edges": [],
                 "groups": {}, "thresholds": limits, "min": lo, "max": hi}
        specs[c] = entry
        if not n:
            binning.append(None)
            continue
        log = lo >= 0 and hi > LOG_ABOVE
        tlo, thi = (math.log10(1 + lo), math.log10(1 + hi)) if log else (lo, hi)
        span = (thi - tlo) or 1.0
        for t in limits:   # a limit near the data widens the range so that it shows
            v = t["value"]
            if v is None or (log and v < 0):
                continue
            tv = math.log10(1 + v) if log else v
            if thi - 2 * span <= tv < tlo:
                tlo = tv
            elif thi < tv <= tlo + 2 * span:
                thi = tv
        if thi <= tlo:      # one value: a unit-wide range around it
            tlo, thi = tlo - 0.5, tlo + 0.5
        width = (thi - tlo) / bins
        entry.update(log10=log, edges=[round(10 ** (tlo + j * width) - 1 if log else tlo + j * width, 6)
                                       for j in range(bins + 1)])
        binning.append((tlo, width, log))
    if any(binning):
        def array(values) -> str:
            return "array(" + ", ".join(values) + ")"
        los = array(_sql_double(b[0] if b else None) for b in binning)
        widths = array(_sql_double(b[1] if b else None) for b in binning)
        logs = array("true" if b and b[2] else "false" for b in binning)
        x = f"(CASE WHEN element_at({logs}, c + 1) THEN log10(v + 1.0) ELSE v END)"
        index = (f"CAST(least(greatest(floor(({x} - element_at({los}, c + 1)) / element_at({widths}, c + 1)), 0), "
                 f"{bins - 1}) AS INT)")
        group = _group_sql(top)
        counts = (long.where(ok).selectExpr(f"{group} AS g", "c", f"{index} AS b").where("b IS NOT NULL")
                      .groupBy("g", "c", "b").count().collect())
        for r in counts:   # at most columns x (top + 1) x bins rows
            groups = specs[columns[r["c"]]]["groups"]
            groups.setdefault(r["g"], [0] * bins)[r["b"]] = int(r["count"])
    for spec in specs.values():
        order = [g for g in [*top, OTHER] if g in spec["groups"]]
        spec["groups"] = {g: spec["groups"][g] for g in order}
    return specs


def _sql_double(value) -> str:
    return "CAST(NULL AS DOUBLE)" if value is None else f"CAST('{float(value)!r}' AS DOUBLE)"


def _group_sql(top: list[str]) -> str:
    """SQL: the row's language when among `top`, else "other"."""
    lang = "COALESCE(lang, 'null')"
    if not top:
        return f"'{OTHER}'"
    names = ", ".join("'" + l.replace("\\", "\\\\").replace("'", "\\'") + "'" for l in top)
    return f"CASE WHEN {lang} IN ({names}) THEN {lang} ELSE '{OTHER}' END"


def _limits(rules: list[Rule]) -> list[dict]:
    out = []
    for r in rules:
        if r.default is not None:
            out.append({"reason": r.reason, "lang": "default", "value": r.default, "op": r.op})
        for lang, value in sorted(r.by_lang.items()):
            if value is not None and value != r.default:
                out.append({"reason": r.reason, "lang": lang, "value": value, "op": r.op})
    return out


# --- what-if ----------------------------------------------------------------------------------------

def step_plan(rule: Rule, steps: int = WHAT_IF_STEPS) -> list[int]:
    """The steps of the what-if rows, 0 first (bit 0), a step dropped when it gives the same limits
    as a nearer one (a limit of 0 cannot go lower)."""
    seen, plan = set(), []
    for k in sorted(range(-steps, steps + 1), key=lambda k: (abs(k), k)):
        limits = (shifted(rule.default, k), tuple(sorted((l, shifted(v, k)) for l, v in rule.by_lang.items())))
        if limits not in seen:
            seen.add(limits)
            plan.append(k)
    return plan


def what_if(scored: DataFrame, rules: list[Rule], steps: int = WHAT_IF_STEPS) -> dict[str, Any]:
    """Documents the stage would keep if one rule's limits moved k nice steps (every language's limit
    by its own step), the other rules as they are; `scored` is narrow(...) with _s<i> = rules[i].column.
    The k = 0 row is the stage's own count."""
    if not rules:
        return {"kept_now": None, "rules": {}}
    plans = [step_plan(r, steps) for r in rules]
    rows = (map_batches(scored, T.what_if_batches, T.WHAT_IF_SCHEMA, rules=rules, plans=plans)
            .groupBy("r", "o", "m").agg(F.sum("count").alias("count")).collect())   # a few rows per rule
    rows = [(r["r"], r["o"], r["m"], int(r["count"])) for r in rows]
    documents = sum(n for r, o, m, n in rows if r == 0)
    kept_now = sum(n for r, o, m, n in rows if r == 0 and o and m & 1)
    out: dict[str, Any] = {"documents": documents, "kept_now": kept_now, "rules": {}}
    for i, rule in enumerate(rules):
        mine = [(o, m, n) for r, o, m, n in rows if r == i]
        entry = out["rules"][rule.reason] = {
            "column": rule.column, "op": rule.op, "rows": [],
            "only_this_rule": sum(n for o, m, n in mine if o and not m & 1)}
        for j, k in sorted(enumerate(plans[i]), key=lambda jk: jk[1]):
            kept = sum(n for o, m, n in mine if o and m >> j & 1)
            entry["rows"].append({"step": k, "default": shifted(rule.default, k),
                                  "by_lang": {l: shifted(v, k) for l, v in sorted(rule.by_lang.items())},
                                  "kept": kept, "change": kept - kept_now,
                                  "failing_this_rule": sum(n for o, m, n in mine if not m >> j & 1),
                                  "current": k == 0})
    return out


# --- near the limit -----------------------------------------------------------------------------------

def near_limits(scored: DataFrame, source: DataFrame, rules: list[Rule], per_rule: int = 8
                ) -> dict[str, dict[str, list[dict]]]:
    """{reason: {"borderline_kept": [...], "would_come_back": [...]}}: the kept documents closest to each
    limit, and the documents dropped by this rule alone that are closest to passing it (what a looser
    limit brings back first). `scored` is narrow(...) with _s<i> = rules[i].column; `source` gives
    the sampled documents' URL and text. k rows per (rule, side)."""
    if not rules:
        return {}
    candidates = map_batches(scored, T.near_batches, T.NEAR_SCHEMA, rules=rules, per_rule=per_rule)
    rank = F.row_number().over(Window.partitionBy("r", "side").orderBy("d", "_h", "_key"))
    picked = candidates.withColumn("_rank", rank).where(F.col("_rank") <= per_rule).collect()   # <= 2 k a rule
    docs = documents(source, sorted({r["_key"] for r in picked}))
    out: dict[str, dict[str, list[dict]]] = {}
    for row in sorted(picked, key=lambda r: (r["r"], r["side"], r["_rank"])):
        rule = rules[row["r"]]
        doc = docs.get(row["_key"], {})
        out.setdefault(rule.reason, {"borderline_kept": [], "would_come_back": []})[row["side"]].append({
            "id": row["_key"], "url": doc.get("url"), "lang": row["lang"], "source": doc.get("source"),
            "value": _clean(row["v"]), "limit": _clean(row["l"]), "distance": _clean(row["d"]),
            "excerpt": (doc.get("text") or "")[:300]})
    return out


def documents(frame: DataFrame, keys: list[str]) -> dict[str, dict]:
    """url, source and the start of the text of a few documents, by id (a filter on the id; no join)."""
    if not keys:
        return {}
    key = "id" if "id" in frame.columns else "url"
    cols = [F.col(key).alias("_key")] + [F.col(c) for c in ("url", "source") if c in frame.columns]
    if "text" in frame.columns:
        cols.append(F.substring("text", 1, TEXT_CHARS).alias("text"))
    rows = frame.where(F.col(key).isin(keys)).select(*cols).collect()
    return {r["_key"]: r.asDict() for r in rows}


def _clean(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), 6)
