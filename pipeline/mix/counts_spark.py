"""Token counts per bucket estimated from a run's documents, for the mix job (jobs/mix.py --run).

A Spark aggregation of the run's last complete document output by (lang, source, domain__label
when present); characters become tokens with the tokenize stage's measured chars per token
(<run>/stats/tokenize.json; else DEFAULT_CHARS_PER_TOKEN, with a note). Only aggregates come back
to the driver.
"""
from __future__ import annotations

from typing import Sequence

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from pipeline.mix.counts import DEFAULT_CHARS_PER_TOKEN, chars_per_token
from pipeline.mix.weights import Bucket, MixError
from pipeline.outputs import final_documents_path
from pipeline.stages import DOCUMENT_STAGES


def document_token_counts(spark: SparkSession, run: str,
                          stages: Sequence[str] = DOCUMENT_STAGES) -> tuple[list[Bucket], list[str]]:
    """Tokens per (lang, source, domain__label) estimated from characters; returns buckets and notes.
    stages: the document stages in flow order; the last with a complete output is counted."""
    path = final_documents_path(run, stages)
    if path is None:
        raise MixError(f"{run}: no complete document output ({', '.join(stages)} with _SUCCESS); "
                       "run the pipeline first or give --counts")
    docs = spark.read.parquet(path)
    keys = ["lang", "source"] + (["domain__label"] if "domain__label" in docs.columns else [])
    rows = docs.groupBy(*keys).agg(F.sum(F.length("text")).alias("chars")).collect()  # one row per bucket
    cpt = chars_per_token(run)
    notes = []
    missing = sorted({r["lang"] or "null" for r in rows} - set(cpt))
    if missing:
        notes.append(f"no measured chars/token for {missing} (no tokenize stats): assumed {DEFAULT_CHARS_PER_TOKEN}")
    buckets = []
    for r in rows:
        lang = r["lang"] or "und"
        tokens = int(round((r["chars"] or 0) / cpt.get(lang, DEFAULT_CHARS_PER_TOKEN)))
        buckets.append(Bucket(lang, r["source"] or "unknown", r["domain__label"] if "domain__label" in keys else None,
                              tokens))
    notes.append(f"token counts estimated from characters of {path}")
    return sorted(buckets, key=lambda b: (b.lang, b.source, b.domain or "")), notes
