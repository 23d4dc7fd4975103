"""The run report's content: the stages' stats files and Spark aggregates of the run's outputs.

report.json keys (version 1): version, run, stages, funnel, languages, sources, domains,
domain_labels, dedup, histograms{doc_chars, scores{col}, dedup_cluster_size}, tokenize, mix.
The aggregations are statistics_spark.py; the rendering is render.py.
"""
from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from pipeline.report import statistics_spark as S

REPORT_VERSION = 1
TOP_DOMAINS = 25


def build_report(spark: SparkSession, run: str, top_domains: int = TOP_DOMAINS) -> dict[str, Any]:
    stages = S.stage_stats(run)
    cpt = S.chars_per_token(run)
    report: dict[str, Any] = {"version": REPORT_VERSION, "run": run, "stages": list(stages)}
    report["funnel"] = _funnel(stages)
    docs_path = S.final_documents_path(run)
    report["documents_from"] = docs_path
    dedup = stages.get("dedup", {})
    hist: dict[str, Any] = {"doc_chars": None, "scores": {}, "dedup_cluster_size": None}
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
    sizes = dedup.get("minhash_cluster_sizes") or {}
    if sizes:
        keys = sorted(sizes, key=int)
        hist["dedup_cluster_size"] = {"sizes": [int(k) for k in keys], "clusters": [sizes[k] for k in keys]}
    report["histograms"] = hist
    report["dedup"] = {"rejected_by_reason": dedup.get("rejected_by_reason", {}),
                       "duplicate_rate_by_lang": (dedup.get("duplicate_rate") or {}).get("lang", {}),
                       "cluster_sizes": sizes} if dedup else {}
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
    return report


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
