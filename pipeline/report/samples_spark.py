"""Examples for the report, drawn in Spark: the drop explorer (counts per stage and reason by language
and source, a seeded sample of the dropped documents with the score that tripped the rule and the
part of the text that matters), duplicate groups (the kept document and its removed copies), and the
lines that line-level dedup removed most often.

Sampling: each row's rank is a hash of (seed, id) inside its group (reason; reason and language),
so the same seed draws the same documents whatever the partitioning or the order rows are read in.
Only the sampled rows (their text cut to TEXT_CHARS) and aggregates reach the driver.
"""
from __future__ import annotations

from typing import Any, Iterable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from pipeline import outputs, storage
from pipeline.io import join
from pipeline.report import excerpts as X
from pipeline.report.thresholds import Rule
from pipeline.report.thresholds_spark import seeded_order

TEXT_CHARS = 8000          # characters of a sampled document's text brought to the driver
PER_REASON = 20
PER_LANG = 10
LINES_REASONS = ("chars_removed_ratio", "lines_removed", "line_dedup_empty")
LINES_REMOVED = "dedup__lines_removed"
LARGEST_GROUPS = 2        # duplicate groups shown first per reason: the largest, then a seeded sample


def complete(path: str) -> bool:
    return storage.exists(join(path, "_SUCCESS"))


def read(spark: SparkSession, path: str) -> DataFrame | None:
    return spark.read.parquet(path) if complete(path) else None


# --- drop explorer ------------------------------------------------------------------------------------

def drop_explorer(spark: SparkSession, run: str, stage_names: Iterable[str], rules: dict[str, Rule],
                  inputs: dict[str, str | None], seed: int, per_reason: int = PER_REASON, per_lang: int = PER_LANG,
                  top_langs: list[str] | None = None, short_line_length: int = 30) -> dict[str, Any]:
    """{stage: {"total", "reasons": {reason: {count, by_lang, by_source, rule, samples}}}} for every
    stage with a rejected/<stage>/ output."""
    out: dict[str, Any] = {}
    for stage in stage_names:
        frame = read(spark, outputs.rejected(run, stage))
        if frame is None or "drop_reason" not in frame.columns:
            continue
        out[stage] = _stage_drops(spark, frame, stage, rules, inputs.get(stage), seed, per_reason, per_lang,
                                  top_langs or [], short_line_length)
    return out


def _stage_drops(spark, frame: DataFrame, stage: str, rules: dict[str, Rule], input_path: str | None, seed: int,
                 per_reason: int, per_lang: int, top_langs: list[str], short_line_length: int) -> dict[str, Any]:
    lang = F.coalesce(F.col("lang"), F.lit("null")) if "lang" in frame.columns else F.lit("null")
    source = F.coalesce(F.col("source"), F.lit("null")) if "source" in frame.columns else F.lit("null")
    reason = F.coalesce(F.col("drop_reason"), F.lit("null"))
    counts = frame.groupBy(reason.alias("reason"), lang.alias("lang"), source.alias("source")).count().collect()
    reasons: dict[str, dict[str, Any]] = {}
    for r in counts:   # one row per (reason, language, source)
        entry = reasons.setdefault(r["reason"], {"count": 0, "by_lang": {}, "by_source": {}})
        entry["count"] += r["count"]
        entry["by_lang"][r["lang"]] = entry["by_lang"].get(r["lang"], 0) + r["count"]
        entry["by_source"][r["source"]] = entry["by_source"].get(r["source"], 0) + r["count"]
    for entry in reasons.values():
        entry["by_lang"] = dict(sorted(entry["by_lang"].items(), key=lambda kv: (-kv[1], kv[0])))
        entry["by_source"] = dict(sorted(entry["by_source"].items(), key=lambda kv: (-kv[1], kv[0])))
    columns = sorted({rules[r].column for r in reasons if r in rules and rules[r].column in frame.columns})
    rows = sample_rows(frame, seed, per_reason, per_lang, top_langs, columns)
    before = {}
    wants_lines = [r["id"] for r in rows if any(k in (r["drop_reason"] or "") for k in LINES_REASONS)]
    if wants_lines and input_path and complete(input_path):
        before = texts_by_id(spark.read.parquet(input_path), wants_lines)
    for r in rows:
        name = r["drop_reason"] or "null"
        rule = rules.get(name)
        removed = X.removed_lines(before[r["id"]], r["text"]) if r["id"] in before else None
        sample = {"id": r["id"], "url": r.get("url"), "lang": r.get("lang"), "source": r.get("source"),
                  "excerpt": X.excerpt(name, r.get("text"), r.get("lang"), removed, r.get("drop_detail"),
                                       short_line_length)}
        if rule is not None and rule.column in r:
            sample["score"] = {"column": rule.column, "value": _clean(r[rule.column]), "op": rule.op,
                               "limit": rule.limit(r.get("lang"))}
        if r.get("duplicate_of"):
            sample["duplicate_of"] = r["duplicate_of"]
        reasons[name].setdefault("samples", []).append(sample)
    ordered = sorted(reasons, key=lambda k: (-reasons[k]["count"], k))
    result = {"total": sum(e["count"] for e in reasons.values()), "reasons": {}}
    for name in ordered:
        entry = reasons[name]
        entry.setdefault("samples", [])
        entry["rule"] = rules[name].to_json() if name in rules else None
        result["reasons"][name] = entry
    return result


def sample_rows(frame: DataFrame, seed: int, per_reason: int, per_lang: int, top_langs: list[str],
                columns: list[str]) -> list[dict]:
    """The seeded sample of one rejected output: the first `per_reason` rows of each reason in hash
    order, plus the first `per_lang` of each (reason, top language)."""
    has = set(frame.columns)
    key = "id" if "id" in has else "url"
    order = seeded_order(seed, key)
    lang = F.coalesce(F.col("lang"), F.lit("null")) if "lang" in has else F.lit("null")
    by_reason = Window.partitionBy("drop_reason").orderBy("_h", key)
    by_lang = Window.partitionBy("drop_reason", "_lang").orderBy("_h", key)
    wanted = [c for c in ("id", "url", "lang", "source", "drop_reason", "duplicate_of", "drop_detail") if c in has]
    text = [F.substring("text", 1, TEXT_CHARS).alias("text")] if "text" in has else [F.lit(None).alias("text")]
    ranked = (frame.select(*wanted, *[F.col(c) for c in columns if c not in wanted], *text,
                           order.alias("_h"), lang.alias("_lang"))
                   .withColumn("_rr", F.row_number().over(by_reason))
                   .withColumn("_rl", F.row_number().over(by_lang)))
    keep = (F.col("_rr") <= per_reason) | (F.col("_lang").isin(top_langs) & (F.col("_rl") <= per_lang)) \
        if top_langs and per_lang else F.col("_rr") <= per_reason
    rows = ranked.where(keep).collect()   # <= per_reason + per_lang x top languages rows per reason
    rows = sorted(rows, key=lambda r: (r["drop_reason"] or "", r["_rr"]))
    return [{k: v for k, v in r.asDict().items() if not k.startswith("_")} | {"id": r[key]} for r in rows]


def texts_by_id(frame: DataFrame, ids: list[str], chars: int = TEXT_CHARS, columns: tuple[str, ...] = ()) -> dict:
    """{id: text} of a few documents (a filter on id: no join, no shuffle)."""
    if not ids or "id" not in frame.columns:
        return {}
    rows = frame.where(F.col("id").isin(list(ids))).select("id", F.substring("text", 1, chars).alias("text"),
                                                           *columns).collect()
    if columns:
        return {r["id"]: r.asDict() for r in rows}
    return {r["id"]: r["text"] for r in rows}


# --- dedup -------------------------------------------------------------------------------------------

def duplicate_groups(spark: SparkSession, run: str, input_path: str | None, seed: int, groups: int = 6,
                     copies: int = 4, word_n: int = 5, char_n: int = 5) -> dict[str, list[dict]]:
    """{reason: [{kept: {...}, copies: [{..., jaccard, differences}], size}]}: the largest duplicate
    groups and a seeded choice of the others (`groups` in all) per dedup reason (minhash, exact, url, semantic): the kept document (its text
    before dedup cut lines) and up to `copies` removed copies, with their Jaccard to it (word
    `word_n`-grams, character `char_n`-grams for space-less scripts) and where they differ."""
    rejected = read(spark, outputs.rejected(run, "dedup"))
    if rejected is None or "duplicate_of" not in rejected.columns:
        return {}
    dup = rejected.where(F.col("duplicate_of").isNotNull() & (F.col("drop_reason") != "duplicate_id"))
    heads = dup.groupBy("drop_reason", "duplicate_of").agg(F.count(F.lit(1)).alias("size"))
    pick = Window.partitionBy("drop_reason").orderBy(seeded_order(seed, "duplicate_of"), "duplicate_of")
    largest = Window.partitionBy("drop_reason").orderBy(F.desc("size"), "duplicate_of")
    chosen = (heads.withColumn("_r", F.row_number().over(pick)).withColumn("_big", F.row_number().over(largest))
                   .where((F.col("_big") <= LARGEST_GROUPS) | (F.col("_r") <= groups - LARGEST_GROUPS)).collect())
    chosen = sorted(chosen, key=lambda r: (r["drop_reason"], r["_big"] > LARGEST_GROUPS,
                                          r["_big"] if r["_big"] <= LARGEST_GROUPS else r["_r"]))
    if not chosen:
        return {}
    kept_ids = sorted({r["duplicate_of"] for r in chosen})
    extra = [c for c in ("dedup__semantic_similarity",) if c in dup.columns]
    order = Window.partitionBy("drop_reason", "duplicate_of").orderBy(seeded_order(seed, "id"), "id")
    copy_rows = (dup.where(F.col("duplicate_of").isin(kept_ids))
                    .select("id", "url", "lang", "drop_reason", "duplicate_of", *extra,
                            F.substring("text", 1, TEXT_CHARS).alias("text"))
                    .withColumn("_r", F.row_number().over(order)).where(F.col("_r") <= copies).collect())
    source = read(spark, input_path) if input_path else None
    if source is None:
        source = read(spark, outputs.kept(run, "dedup"))
    kept = texts_by_id(source, kept_ids, columns=("url", "lang")) if source is not None else {}
    out: dict[str, list[dict]] = {}
    for head in chosen:
        doc = kept.get(head["duplicate_of"]) or {}
        group = {"kept": {"id": head["duplicate_of"], "url": doc.get("url"), "lang": doc.get("lang"),
                          "excerpt": X._cut(doc.get("text") or "", 400)},
                 "size": head["size"] + 1, "copies": []}
        for row in sorted((r for r in copy_rows if r["duplicate_of"] == head["duplicate_of"]
                           and r["drop_reason"] == head["drop_reason"]), key=lambda r: r["_r"]):
            lang = row["lang"] or doc.get("lang")
            copy = {"id": row["id"], "url": row["url"], "lang": row["lang"],
                    "jaccard": X.jaccard(doc.get("text") or "", row["text"] or "", lang, word_n, char_n)
                    if doc else None,
                    "differences": X.differences(doc.get("text") or "", row["text"] or "", lang) if doc else [],
                    "excerpt": X._cut(row["text"] or "", 400)}
            if extra and row[extra[0]] is not None:
                copy["similarity"] = round(float(row[extra[0]]), 4)
            group["copies"].append(copy)
        out.setdefault(head["drop_reason"], []).append(group)
    return out


def frequent_removed_lines(spark: SparkSession, run: str, input_path: str | None, top: int = 25) -> list[dict]:
    """The lines line-level dedup cut most often: [{line (one example), documents}], lines grouped as
    dedup normalises them (lowercase, digits as 0, punctuation dropped, spaces collapsed). Only the
    documents it changed are compared with their input (a join on id of those documents)."""
    kept = read(spark, outputs.kept(run, "dedup"))
    if kept is None or LINES_REMOVED not in kept.columns or not input_path or not complete(input_path):
        return []
    changed = kept.where(F.col(LINES_REMOVED) > 0).select("id", F.col("text").alias("_after"))
    rejected = read(spark, outputs.rejected(run, "dedup"))
    if rejected is not None:
        changed = changed.unionByName(rejected.where(F.col("drop_reason") == "line_dedup_empty")
                                      .select("id", F.col("text").alias("_after")))
    before = spark.read.parquet(input_path).select("id", F.col("text").alias("_before"))
    lines = (changed.join(before, "id")
             .select("id", F.explode(F.array_except(F.split("_before", "\n"), F.split(F.coalesce("_after", F.lit("")),
                                                                                        "\n"))).alias("line"))
             .select("id", F.trim("line").alias("line")).where(F.length("line") > 0))
    normal = F.regexp_replace(F.lower("line"), r"\d", "0")
    normal = F.trim(F.regexp_replace(F.regexp_replace(normal, r"[\p{P}\p{S}]+", " "), r"\s+", " "))
    rows = (lines.groupBy(normal.alias("key")).agg(F.countDistinct("id").alias("documents"),
                                                   F.min("line").alias("line"))
                 .orderBy(F.desc("documents"), "key").limit(top).collect())
    return [{"line": X._cut(r["line"], 300), "documents": r["documents"]} for r in rows]


def _clean(value):
    import math
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), 6) if isinstance(value, float) else value
