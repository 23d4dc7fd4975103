"""Semantic dedup benchmark: time growth with the corpus, and precision/recall against exact cosine.

    python bench/semantic.py [--data DIR] [--sizes 25000,100000,400000] [--quick] [--eval-max-docs N]

--data defaults to ../shared/data beside the repository. The corpora come from bench/dedup_corpus.py:
real paragraphs of ../shared/data (cc-text/dolma CCNet documents and the scrapinghub article
texts) recombined into background documents, plus planted near-duplicate groups (a base and 1-3
copies edited by word replacements, insertions and deletions to a 5-gram Jaccard of 0.85-0.98 with
the base, which is the group's most recent fetch) and hard negatives (pairs sharing about half
their paragraphs). 10% of the documents are planted copies by default.

Per size, in a child process on a fresh local[2] session (pipeline.spark.build_session, UI off):
the corpus is written to Parquet first (untimed), then the timed stage is: read the Parquet,
dedup.semantic_spark.semantic_duplicates with the pipeline's defaults (SemanticDedupConfig():
hashing embeddings of dim 256, eps 0.05, the k-means tree with cluster_docs 1000, max_clusters
256, max_cluster_docs 2000) and the keep policy (keep_order: most recent fetched_at, then
smallest id), then count the result. Step times come from the stage's own progress lines
(embedding + count; the k-means tree; clusters + pairwise step).

Quality (untimed, at sizes up to --eval-max-docs): a sample of --sample documents (the smallest
seeded hashes of the id) is compared with every document of the corpus by exact cosine, on the
same embeddings (recomputed by the same embedder), in a Spark job: for each sampled document the
most similar more-preferred document (keep order) of the whole corpus, no clustering. A sampled
document is a true duplicate when that similarity exceeds 1 - eps (SemDeDup's rule without its
approximation).
    recall    = sampled true duplicates the stage removed / sampled true duplicates
    precision = sampled documents the stage removed that are true duplicates / sampled documents it removed
    target_agreement = of the sampled documents both remove, those whose duplicate_of is the exact
                best more-preferred match (the stage picks the best inside its cluster)
    planted_recall = planted copies removed / planted copies (some copies sit under cosine 0.95)
Headline precision and recall pool the evaluated sizes.

Last line: one JSON object: `time_growth` = stage seconds at the largest size / at the smallest
(16x the documents by default; target <= 18: linear, the k-means tree bounds k and every
cluster), precision, recall, per-size seconds, docs/s/core, tree levels, clusters, the largest
cluster, removed documents, step times. 400k documents take long on 2 shared cores: give
--sizes (e.g. 6250,25000,100000 is 16x too).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))          # the repository's packages, ahead of bench/
if str(BENCH) not in sys.path:         # python -P (PYTHONSAFEPATH) leaves the script's folder off
    sys.path.insert(1, str(BENCH))

import numpy as np  # noqa: E402

from line_clock import LineClock  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data"
DEFAULT_SIZES = (25_000, 100_000, 400_000)
QUICK_SIZES = (1_000, 4_000, 16_000)
CORES = 2


def log(message: str) -> None:
    print(message, flush=True)


def _steps(lines: list[tuple[float, str]], end: float) -> dict:
    def first(marker: str):
        return next((t for t, line in lines if marker in line), None)
    embedded = first("without words")
    levels = [t for t, line in lines if "k-means tree level" in line]
    done = first("duplicate(s) at cosine")
    steps = {}
    if embedded is not None:
        steps["embed_count"] = embedded
        tree_end = levels[-1] if levels else embedded
        steps["kmeans_tree"] = tree_end - embedded
        if done is not None:
            steps["assign_pairwise"] = done - tree_end
            steps["final_count"] = end - done
    return {k: round(v, 2) for k, v in steps.items()}


# ---------------------------------------------------------------- exact cosine on a sample

def _scan(batches, config, segmentation, sample, sample_time, sample_id):
    """For every sampled document (rows of `sample`), the most similar more-preferred document
    of these batches: (sample index, similarity, id). More preferred = keep order: a later
    fetched_at, or the same and a smaller id."""
    import pyarrow as pa

    from dedup.embeddings import load_embedder
    from pipeline.text import segmentation_for

    embedder = load_embedder(config)
    schema = pa.schema([pa.field("sample", pa.int32()), pa.field("similarity", pa.float32()),
                        pa.field("target", pa.string())])
    best = np.full(len(sample), -np.inf, dtype=np.float32)
    target = np.full(len(sample), None, dtype=object)
    for batch in batches:
        for lo in range(0, batch.num_rows, 2000):
            part = batch.slice(lo, 2000)
            texts = [t or "" for t in part.column("text").to_pylist()]
            segs = [segmentation_for(lang, segmentation) for lang in part.column("lang").to_pylist()]
            vectors, _ = embedder.embed(texts, segs)
            ids = np.array(part.column("id").to_pylist(), dtype=object)
            times = part.column("fetched_at").cast(pa.int64()).to_numpy(zero_copy_only=False)
            similarity = vectors @ sample.T                                  # (batch, sample)
            preferred = times[:, None] > sample_time[None, :]
            tied = np.argwhere(times[:, None] == sample_time[None, :])
            if len(tied):
                preferred[tied[:, 0], tied[:, 1]] = ids[tied[:, 0]] < sample_id[tied[:, 1]]
            similarity[~preferred] = -np.inf
            top = np.argmax(similarity, axis=0)
            value = similarity[top, np.arange(len(sample))]
            better = value > best
            best[better] = value[better]
            target[better] = ids[top[better]]
    found = np.isfinite(best)
    yield pa.record_batch([pa.array(np.flatnonzero(found).astype(np.int32)), pa.array(best[found]),
                           pa.array(list(target[found]), pa.string())], schema=schema)


def evaluate(spark, docs, result, truth, config, segmentation, sample_size: int, seed: int) -> dict:
    from pyspark.sql import functions as F

    from dedup.embeddings import load_embedder
    from pipeline.spark import map_batches
    from pipeline.text import segmentation_for

    picked = (docs.select("id", "text", "lang", F.unix_micros("fetched_at").alias("micros"),
                          F.xxhash64(F.lit(seed), "id").alias("h"))
                  .orderBy("h", "id").limit(sample_size).collect())
    embedder = load_embedder(config)
    sample, _ = embedder.embed([r["text"] or "" for r in picked], [segmentation_for(r["lang"], segmentation)
                                                                   for r in picked])
    sample_id = np.array([r["id"] for r in picked], dtype=object)
    sample_time = np.array([r["micros"] for r in picked], dtype=np.int64)      # UTC, as the scan reads them
    import pyarrow as pa
    schema = pa.schema([pa.field("sample", pa.int32()), pa.field("similarity", pa.float32()),
                        pa.field("target", pa.string())])
    partial = map_batches(docs.select("id", "text", "lang", "fetched_at"), _scan, schema, config=config,
                          segmentation=segmentation, sample=sample, sample_time=sample_time,
                          sample_id=sample_id).collect()
    best = np.full(len(picked), -np.inf)
    exact_target = [None] * len(picked)
    for row in partial:
        i = row["sample"]
        if row["similarity"] > best[i] or (row["similarity"] == best[i] and row["target"] < exact_target[i]):
            best[i], exact_target[i] = row["similarity"], row["target"]
    threshold = np.float32(1 - config.eps)
    truly = {sample_id[i]: exact_target[i] for i in range(len(picked)) if np.float32(best[i]) > threshold}
    decided = {r["id"]: r["duplicate_of"] for r in
               result.join(spark.createDataFrame([(str(i),) for i in sample_id], "id string"), "id").collect()}
    removed = {d: t for d, t in decided.items() if t is not None}
    both = set(truly) & set(removed)
    copies = (truth.where(F.col("role") == "copy").select("id").join(result, "id")
                   .agg(F.count(F.lit(1)).alias("copies"), F.count("duplicate_of").alias("removed")).first())
    return {"sample": len(picked), "true_duplicates": len(truly), "removed_in_sample": len(removed),
            "true_removed": len(both),
            "recall": round(len(both) / len(truly), 4) if truly else None,
            "precision": round(len(both) / len(removed), 4) if removed else None,
            "target_agreement": round(sum(removed[d] == truly[d] for d in both) / len(both), 4) if both else None,
            "planted_copies": copies["copies"], "planted_removed": copies["removed"],
            "planted_recall": round(copies["removed"] / copies["copies"], 4) if copies["copies"] else None}


# ---------------------------------------------------------------- one size, in a child

def run_stage(corpus: Path, result_path: Path, evaluate_it: bool, sample: int, seed: int) -> int:
    from pyspark.sql import functions as F

    from dedup.keep_spark import keep_order
    from dedup.semantic_spark import semantic_duplicates
    from pipeline.config import FilterConfig, SemanticDedupConfig, SparkConfig
    from pipeline.spark import build_session

    segmentation = FilterConfig().segmentation
    config = SemanticDedupConfig()
    spark = build_session(SparkConfig(master=f"local[{CORES}]", app_name="bench-semantic",
                                      conf={"spark.ui.enabled": "false",
                                            "spark.ui.showConsoleProgress": "false"}))
    real_stdout = sys.stdout
    start = time.perf_counter()
    clock = sys.stdout = LineClock(real_stdout, start)
    try:
        docs = spark.read.parquet(str(corpus / "docs"))
        result = semantic_duplicates(docs, config, keep_order(docs, None), segmentation)
        counts = result.agg(F.count(F.lit(1)).alias("rows"), F.count("duplicate_of").alias("removed"),
                            F.countDistinct("semantic_cluster").alias("clusters")).first()
        seconds = time.perf_counter() - start
    finally:
        sys.stdout = real_stdout
    largest = result.groupBy("semantic_cluster").count().agg(F.max("count")).first()[0]
    levels = [line for _, line in clock.lines if "k-means tree level" in line]
    out = {"docs": counts["rows"], "seconds": round(seconds, 2),
           "docs_per_s_per_core": round(counts["rows"] / seconds / CORES, 1),
           "removed": counts["removed"], "clusters": counts["clusters"], "largest_cluster": largest,
           "tree_levels": len(levels), "steps_s": _steps(clock.lines, seconds),
           "load_avg": [round(x, 2) for x in os.getloadavg()]}
    log(f"    stage: {out['docs']} documents in {seconds:.1f} s ({out['docs_per_s_per_core']} docs/s/core); "
        f"{out['clusters']} clusters (largest {largest}), {len(levels)} tree level(s), {out['removed']} removed")
    if evaluate_it:
        log(f"    evaluating a sample of {sample} documents against exact cosine ...")
        eval_start = time.perf_counter()
        truth = spark.read.parquet(str(corpus / "truth"))
        out["quality"] = evaluate(spark, docs, result, truth, config, segmentation, sample, seed)
        out["eval_seconds"] = round(time.perf_counter() - eval_start, 1)
        log(f"    {out['quality']}")
    result_path.write_text(json.dumps(out))
    spark.stop()
    return 0


# ---------------------------------------------------------------- driver

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sizes", default=None, help="comma-separated corpus sizes (default 25000,100000,400000)")
    parser.add_argument("--quick", action="store_true", help="sizes 1000,4000,16000")
    parser.add_argument("--sample", type=int, default=2000, help="documents compared by exact cosine (default 2000)")
    parser.add_argument("--eval-max-docs", type=int, default=100_000,
                        help="evaluate quality at sizes up to this (default 100000; it re-embeds the corpus)")
    parser.add_argument("--dup-fraction", type=float, default=0.10, help="share of documents that are planted copies")
    parser.add_argument("--hard-fraction", type=float, default=0.02, help="share of documents in hard-negative pairs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None, help="where corpora go (default: a temp dir)")
    parser.add_argument("--stage", type=Path, help=argparse.SUPPRESS)     # internal: one size, in a child
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--evaluate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        return run_stage(args.stage, args.result, args.evaluate, args.sample, args.seed)

    from dedup_corpus import CorpusSpec, load_paragraphs, write_corpus

    sizes = sorted([int(s) for s in args.sizes.split(",")] if args.sizes
                   else list(QUICK_SIZES if args.quick else DEFAULT_SIZES))
    paragraphs = load_paragraphs(args.data)
    if not paragraphs:
        print(f"bench/semantic.py: no paragraphs under {args.data} (expected cc-text/dolma, html/...)", file=sys.stderr)
        return 2
    log(f"[bench] {len(paragraphs)} paragraphs from {args.data}; sizes {sizes}; local[{CORES}]")
    work = Path(tempfile.mkdtemp(prefix="bench-semantic-", dir=args.workdir))
    results = []
    try:
        for size in sizes:
            corpus = work / f"docs-{size}"
            start = time.perf_counter()
            stats = write_corpus(corpus, paragraphs, CorpusSpec(size, args.dup_fraction, args.hard_fraction,
                                                                seed=args.seed))
            log(f"[bench] corpus of {size}: {time.perf_counter() - start:.1f} s, roles {stats['roles']}, "
                f"{stats['words_per_doc']} words/doc")
            result_path = work / f"result-{size}.json"
            evaluate_it = size <= args.eval_max_docs
            log(f"[bench] semantic dedup on {size} documents (child process, local[{CORES}]) ...")
            command = [sys.executable, str(Path(__file__).resolve()), "--stage", str(corpus), "--result",
                       str(result_path), "--sample", str(args.sample), "--seed", str(args.seed)]
            code = subprocess.run(command + (["--evaluate"] if evaluate_it else []), cwd=ROOT).returncode
            if code or not result_path.exists():
                print(f"bench/semantic.py: the stage on {size} documents failed (exit {code})", file=sys.stderr)
                return 1
            results.append({**json.loads(result_path.read_text()), "words_per_doc": stats["words_per_doc"]})
            shutil.rmtree(corpus, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    small, large = results[0], results[-1]
    evaluated = [r["quality"] for r in results if "quality" in r]
    truly = sum(q["true_duplicates"] for q in evaluated)
    removed = sum(q["removed_in_sample"] for q in evaluated)
    both = sum(q["true_removed"] for q in evaluated)
    summary = {
        "time_growth": round(large["seconds"] / small["seconds"], 2),
        "size_ratio": round(large["docs"] / small["docs"], 2),
        "precision": round(both / removed, 4) if removed else None,
        "recall": round(both / truly, 4) if truly else None,
        "docs_per_s_per_core": large["docs_per_s_per_core"],
        "cores": CORES, "sizes": [r["docs"] for r in results],
        **{f"{key}_by_size": [r[key] for r in results]
           for key in ("seconds", "docs_per_s_per_core", "removed", "clusters", "largest_cluster", "tree_levels",
                       "steps_s", "load_avg", "words_per_doc")},
        "quality_by_size": [r.get("quality") for r in results],
        "evaluated_sizes": [r["docs"] for r in results if "quality" in r],
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
