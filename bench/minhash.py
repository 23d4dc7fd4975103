"""MinHash benchmark: signature throughput, precision/recall and scaling of the whole MinHash stage.

    python bench/minhash.py [--data DIR] [--sizes 25000,100000,400000] [--quick] [--profile] [--no-compare-verify]

--data defaults to ../shared/data beside the repository. Three parts, one run:

(a) Signature throughput, one process (documents per second per core): ours =
    dedup.minhash.MinHasher.signatures (affine32, 128 permutations) over batch_shingle_hashes
    output, a batch of --batch documents per call; datasketch = `MinHash(num_perm=128)
    .update_batch(shingle_bytes)` per document, on exactly the same shingles (the shingle counts
    are checked equal), batch by batch in turn so load from other processes falls on both alike.
    Shingling is excluded from both figures (bench/minhash_signatures.py's definition; the
    end-to-end figures with shingling are reported too). `signature_ratio` = ours / datasketch.
    Documents: the first --signature-docs of the smallest generated corpus.

(b) Precision and recall of the whole MinHash stage, dedup.minhash_spark.minhash_clusters with
    the default MinHashConfig (threshold 0.8, verify on, 128 permutations, LSH bands/rows by
    datasketch's search weighing misses 9:1) and the pipeline's keep policy (keep_order: most
    recent fetched_at, then smallest id), on corpora from bench/dedup_corpus.py: real paragraphs
    of ../shared/data recombined into distinct background documents, plus planted near-duplicate
    groups (a base and 1-3 copies, each edited by word replacements, insertions and deletions to
    an exact 5-gram Jaccard with its base in [0.85, 0.98]; the base is the group's most recent
    fetch, so the keep policy keeps it) and hard negatives (pairs sharing about half their
    paragraphs, exact Jaccard in [0.3, 0.7]). Ground truth is exact Jaccard on the shingles the
    stage itself uses (dedup.minhash.batch_shingle_hashes + jaccard).
      recall    = planted copies (all at Jaccard >= 0.85 to their base) that end in the same
                  cluster as their base / planted copies.
      precision = removed documents (duplicate_of not null) whose exact Jaccard with the kept
                  document (duplicate_of) is >= 0.8 / removed documents. This is `precision`.
      precision_group = removed documents that are in the same planted near-duplicate group
                  as their kept document / removed documents (reported beside it; it also
                  accepts a copy kept against another copy below 0.8 through their base).
      hard_negatives_merged = hard pairs that ended in one cluster (should be 0).
    Measured at every size; the headline figures pool all sizes (the largest dominates).
    Targets: recall >= 0.95, precision >= 0.98.

(c) Scaling at --sizes documents (default 25k, 100k, 400k; --quick: 1k, 4k, 16k), each on a
    fresh local[2] session (pipeline.spark.build_session with SparkConfig(master="local[2]"),
    the pipeline defaults otherwise, UI off) in its own child process, one after the other. The
    corpus (10% planted copies, 2% hard negatives; columns id, url, domain, source, fetched_at,
    text, lang='en', lang_score) is written to Parquet in a temporary directory first, untimed;
    the timed stage is: read the Parquet, minhash_clusters(...), count the clusters. Step times
    come from the stage's own progress lines (signatures + LSH buckets + candidate pairs up to
    the candidate count; verification; connected components; clusters and keep policy).
    Memory, per size: the Python driver's peak RSS (VmHWM of the child process, which holds no
    data: everything runs in the JVM and the Python workers; resource.getrusage's ru_maxrss is
    reported beside it but inherits the parent's RSS across fork + exec on Linux), the JVM
    driver's heap in use (sampled through py4j's Runtime every 0.5 s; in local mode the JVM
    also hosts the executors, so it includes their shuffle and cache buffers), the JVM heap
    still in use after a System.gc() once the stage is done, and the JVM process's peak RSS
    (VmHWM). --profile additionally times, after the stage, reading the texts alone and the
    band_rows mapInArrow (signatures + band keys) alone.

(d) Shuffle bytes per document: the sum of every stage's shuffleWriteBytes (Spark's task
    metrics, from the driver's status store, the data behind the UI's REST API
    /api/v1/applications/<id>/stages) over the timed stage, divided by the documents. With the
    default verification (dedup.minhash.verify_by 'shingles': each text once per verification
    partition that needs it) and, unless --no-compare-verify, again at every size with the former
    one ('text': both texts joined onto every candidate pair), in a child of its own (timed too,
    not evaluated): `shuffle_bytes_per_doc` against `shuffle_bytes_per_doc_text`, and the
    verification step's seconds beside them. Both give the same clusters (tests/jobs/test_dedup_job.py).

Last line: one JSON object. `signature_ratio` (target >= 10); `precision`, `recall`;
`docs_per_s_per_core` = documents / stage seconds / 2 cores at the largest size (published peer:
text-dedup's Spark MinHash, ~110 docs/s/core; target >= 220); `time_growth` = stage seconds at
the largest size / at the smallest (sizes 16x apart by default: linear is ~16 once fixed costs
are amortised); `driver_mem_growth` = Python driver peak RSS at the largest size / at the
smallest (flat is ~1); per-size times, steps, pair counts, bands/rows and memory beside them.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))          # the repository's packages, ahead of bench/ (no bench script is named like a package)
if str(BENCH) not in sys.path:         # python -P (PYTHONSAFEPATH) leaves the script's folder off
    sys.path.insert(1, str(BENCH))

import numpy as np  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from dedup_corpus import CorpusSpec, load_paragraphs, write_corpus  # noqa: E402
from line_clock import LineClock  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data"
DEFAULT_SIZES = (25_000, 100_000, 400_000)
QUICK_SIZES = (1_000, 4_000, 16_000)
CORES = 2
NUM_PERM, N = 128, 5
PEER_DOCS_PER_S_PER_CORE = 110      # text-dedup's Spark MinHash, as published
TARGET_DOCS_PER_S_PER_CORE = 220


def log(message: str) -> None:
    print(message, flush=True)


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM), MiB. Not ru_maxrss: Linux carries the parent's RSS at
    fork into the child's ru_maxrss across exec, so a child started by a parent holding a large
    corpus would report the parent's size (measured: 359 MiB and 516 MiB here against a real
    peak of ~160 MiB)."""
    hwm = _vm_hwm_mb(os.getpid())
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- (a) signature throughput

def signature_throughput(texts: list[str], batch: int) -> dict:
    from datasketch import MinHash
    from minhash_signatures import datasketch_shingles

    from dedup.minhash import MinHasher, batch_shingle_hashes

    hasher = MinHasher(NUM_PERM, seed=1, scheme="affine32")
    seconds = dict.fromkeys(("ours_shingle", "ours_sign", "ds_shingle", "ds_sign"), 0.0)
    ours_counts, ds_counts = [], []
    hasher.sign_texts(texts[:10])                                       # warm-up
    for lo in range(0, len(texts), batch):
        chunk = texts[lo:lo + batch]
        start = time.perf_counter()
        hashes, offsets = batch_shingle_hashes(chunk, "whitespace", N, N)
        seconds["ours_shingle"] += time.perf_counter() - start
        start = time.perf_counter()
        hasher.signatures(hashes, offsets)
        seconds["ours_sign"] += time.perf_counter() - start
        start = time.perf_counter()
        shingles = [datasketch_shingles(text, "whitespace") for text in chunk]
        seconds["ds_shingle"] += time.perf_counter() - start
        start = time.perf_counter()
        for doc in shingles:
            MinHash(num_perm=NUM_PERM).update_batch(doc)
        seconds["ds_sign"] += time.perf_counter() - start
        ours_counts += np.diff(offsets).tolist()
        ds_counts += [len(s) for s in shingles]
    if ours_counts != ds_counts:
        raise AssertionError("the two sides shingle differently")
    docs = len(texts)
    ours_e2e = seconds["ours_shingle"] + seconds["ours_sign"]
    ds_e2e = seconds["ds_shingle"] + seconds["ds_sign"]
    return {
        "docs": docs, "shingles_per_doc": round(sum(ours_counts) / docs, 1),
        "ours_docs_per_s_per_core": round(docs / seconds["ours_sign"], 1),
        "datasketch_docs_per_s_per_core": round(docs / seconds["ds_sign"], 1),
        "signature_ratio": round(seconds["ds_sign"] / seconds["ours_sign"], 2),
        "ours_shingling_docs_per_s": round(docs / seconds["ours_shingle"], 1),
        "ours_end_to_end_docs_per_s_per_core": round(docs / ours_e2e, 1),
        "datasketch_end_to_end_docs_per_s_per_core": round(docs / ds_e2e, 1),
        "end_to_end_ratio": round(ds_e2e / ours_e2e, 2),
    }


# ---------------------------------------------------------------- (b, c) the stage, in a child

class JvmHeapSampler(threading.Thread):
    """Peak of the JVM's heap in use (total - free), polled through py4j."""

    def __init__(self, jvm, interval: float = 0.5):
        super().__init__(daemon=True)
        self.runtime, self.interval, self.peak = jvm.java.lang.Runtime.getRuntime(), interval, 0
        self._halt = threading.Event()

    def sample(self) -> int:
        used = int(self.runtime.totalMemory()) - int(self.runtime.freeMemory())
        self.peak = max(self.peak, used)
        return used

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            try:
                self.sample()
            except Exception:          # the gateway went away: nothing more to sample
                return

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


def _steps(lines: list[tuple[float, str]], minhash_end: float, end: float) -> dict:
    """Seconds per step of minhash_clusters, from the times its progress lines came out."""
    def first(marker: str):
        return next((t for t, line in lines if marker in line), None)
    candidates = first("candidate pair(s)")
    verified = first("pair(s) at Jaccard")
    rounds = [t for t, line in lines if "components round" in line]
    steps = {}
    if candidates is not None:
        steps["signatures_buckets_candidates"] = candidates
        previous = candidates
        if verified is not None:
            steps["verify"] = verified - previous
            previous = verified
        if rounds:
            steps["components_rounds"] = rounds[-1] - previous
            previous = rounds[-1]
        steps["components_final_clusters_keep"] = minhash_end - previous
    steps["final_count"] = end - minhash_end
    steps["components_round_count"] = len(rounds)
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in steps.items()}


def shuffle_write_bytes(spark) -> int:
    """Bytes every stage of this application has written to shuffle files so far (compressed, as
    spark.shuffle.compress leaves them): the status store's StageData.shuffleWriteBytes, summed."""
    context = spark.sparkContext._jsc.sc()
    context.listenerBus().waitUntilEmpty()          # stage-completed events are delivered asynchronously
    store = context.statusStore()
    stages = store.stageList(None, False, False, getattr(store, "stageList$default$4")(), None)
    return sum(int(stages.apply(i).shuffleWriteBytes()) for i in range(stages.size()))


def run_stage(corpus: Path, result_path: Path, profile: bool, verify_by: str = "shingles",
              evaluate: bool = True) -> int:
    """One size: time the whole MinHash stage on a fresh local[2] session, then evaluate it."""
    from pyspark.sql import functions as F

    from dedup.keep_spark import keep_order
    from dedup.lsh import BAND_SCHEMA, PAIR_SCHEMA, band_rows, verified_pairs
    from dedup.minhash_spark import lsh_parameters, minhash_clusters, node_id
    from pipeline.config import FilterConfig, MinHashConfig, SparkConfig
    from pipeline.spark import build_session, map_batches

    segmentation = FilterConfig().segmentation
    config = MinHashConfig(verify_by=verify_by)
    spark = build_session(SparkConfig(master=f"local[{CORES}]", app_name="bench-minhash",
                                      conf={"spark.ui.enabled": "false", "spark.ui.retainedStages": "100000",
                                            "spark.ui.showConsoleProgress": "false"}))
    jvm = spark.sparkContext._jvm
    jvm_pid = int(jvm.java.lang.ProcessHandle.current().pid())
    heap_pools = [pool for pool in jvm.java.lang.management.ManagementFactory.getMemoryPoolMXBeans()
                  if str(pool.getType()) == "Heap memory"]
    for pool in heap_pools:
        pool.resetPeakUsage()
    rss_before = peak_rss_mb()
    sampler = JvmHeapSampler(jvm)
    sampler.sample()
    sampler.start()
    real_stdout = sys.stdout
    shuffled_before = shuffle_write_bytes(spark)
    start = time.perf_counter()
    clock = sys.stdout = LineClock(real_stdout, start)
    try:
        docs = spark.read.parquet(str(corpus / "docs"))
        run = minhash_clusters(docs, config, segmentation, keep_order(docs, None))
        minhash_end = time.perf_counter() - start
        cluster_rows = run.clusters.count()
        seconds = time.perf_counter() - start
    finally:
        sys.stdout = real_stdout
    shuffled = shuffle_write_bytes(spark) - shuffled_before
    heap_peak = sampler.stop()
    rss_after = peak_rss_mb()
    ru_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pool_peaks = {str(pool.getName()): int(pool.getPeakUsage().getUsed()) for pool in heap_pools}
    jvm.java.lang.System.gc()
    heap_after_gc = int(jvm.java.lang.Runtime.getRuntime().totalMemory()) - int(
        jvm.java.lang.Runtime.getRuntime().freeMemory())
    jvm_hwm = _vm_hwm_mb(jvm_pid)
    docs_count = pq.ParquetDataset(str(corpus / "docs")).read(columns=["id"]).num_rows
    log(f"    stage ({verify_by}): {docs_count} documents in {seconds:.1f} s "
        f"({docs_count / seconds / CORES:.1f} docs/s/core); {cluster_rows} clustered rows; "
        f"Python driver peak RSS {rss_after:.0f} MiB, JVM heap peak {heap_peak / 2**20:.0f} MiB; "
        f"shuffle {shuffled / docs_count:.0f} bytes/doc")
    if not evaluate:
        result_path.write_text(json.dumps({
            "docs": docs_count, "seconds": round(seconds, 2), "verify_by": verify_by,
            "steps_s": _steps(clock.lines, minhash_end, seconds), "shuffle_bytes": shuffled,
            "shuffle_bytes_per_doc": round(shuffled / docs_count, 1), "candidate_pairs": run.candidate_pairs,
            "verified_pairs": run.verified_pairs, "clustered_docs": cluster_rows}))
        spark.stop()
        return 0

    # ---- evaluation (after the memory readings: it collects rows to the driver)
    log("    evaluating against the planted truth ...")
    eval_start = time.perf_counter()
    truth = spark.read.parquet(str(corpus / "truth"))
    clusters = run.clusters.select("id", "minhash_cluster", "duplicate_of")
    removed = clusters.where(F.col("duplicate_of").isNotNull()).select("id", "duplicate_of")
    side = docs.select("id", "text", "lang")
    pairs = (removed
             .join(side.withColumnsRenamed({"text": "src_text", "lang": "src_lang"}), "id")
             .join(side.withColumnsRenamed({"id": "duplicate_of", "text": "dst_text", "lang": "dst_lang"}),
                   "duplicate_of")
             .select(node_id("id").alias("src"), node_id("duplicate_of").alias("dst"),
                     "src_text", "src_lang", "dst_text", "dst_lang"))
    exact = map_batches(pairs, verified_pairs, PAIR_SCHEMA, config=MinHashConfig(threshold=0.0),
                        segmentation=segmentation)
    removed_eval = (removed.select("id", "duplicate_of", node_id("id").alias("src"),
                                   node_id("duplicate_of").alias("dst"))
                           .join(exact, ["src", "dst"], "left")
                           .join(truth.select("id", "role", "group"), "id", "left")
                           .join(truth.select(F.col("id").alias("duplicate_of"), F.col("role").alias("kept_role"),
                                              F.col("group").alias("kept_group")), "duplicate_of", "left")
                           .select("jaccard", "role", "group", "kept_role", "kept_group")).toPandas()
    by_id = clusters.select("id", "minhash_cluster")
    by_partner = clusters.select(F.col("id").alias("partner"), F.col("minhash_cluster").alias("partner_cluster"))
    planted = (truth.where(F.col("role").isin("copy", "hard_a"))
                    .select("id", "role", "partner", "jaccard")
                    .join(by_id, "id", "left").join(by_partner, "partner", "left")).toPandas()
    near = removed_eval["role"].isin(["base", "copy"]) & removed_eval["kept_role"].isin(["base", "copy"])
    removed_count = len(removed_eval)
    true_exact = int((removed_eval["jaccard"] >= config.threshold).sum())
    true_group = int((near & (removed_eval["group"] == removed_eval["kept_group"])).sum())
    together = planted["minhash_cluster"].notna() & (planted["minhash_cluster"] == planted["partner_cluster"])
    copies = planted["role"] == "copy"
    hard = planted["role"] == "hard_a"
    recall_bins = {}
    for lo, hi in ((0.85, 0.90), (0.90, 0.95), (0.95, 0.99)):
        in_bin = copies & (planted["jaccard"] >= lo) & (planted["jaccard"] < hi)
        recall_bins[f"{lo:.2f}-{min(hi, 0.98):.2f}"] = [int((together & in_bin).sum()), int(in_bin.sum())]
    false_jaccards = removed_eval.loc[removed_eval["jaccard"] < config.threshold, "jaccard"]
    num_perm, bands, rows = lsh_parameters(config)
    result = {
        "docs": docs_count, "seconds": round(seconds, 2), "verify_by": verify_by,
        "shuffle_bytes": shuffled, "shuffle_bytes_per_doc": round(shuffled / docs_count, 1),
        "docs_per_s_per_core": round(docs_count / seconds / CORES, 1),
        "steps_s": _steps(clock.lines, minhash_end, seconds),
        "num_perm": num_perm, "bands": bands, "rows": rows, "threshold": config.threshold,
        "candidate_pairs": run.candidate_pairs, "verified_pairs": run.verified_pairs,
        "clustered_docs": cluster_rows, "removed": removed_count,
        "true_removed_exact": true_exact, "true_removed_group": true_group,
        "precision": round(true_exact / removed_count, 5) if removed_count else None,
        "precision_group": round(true_group / removed_count, 5) if removed_count else None,
        "removed_background": int((removed_eval["role"] == "background").sum()),
        "removed_hard": int(removed_eval["role"].isin(["hard_a", "hard_b"]).sum()),
        "removed_below_threshold_jaccards": sorted(round(float(j), 3) for j in false_jaccards)[:20],
        "copies": int(copies.sum()), "copies_found": int((together & copies).sum()),
        "recall": round(float((together & copies).sum() / copies.sum()), 5) if copies.any() else None,
        "recall_by_jaccard": recall_bins,
        "hard_pairs": int(hard.sum()), "hard_negatives_merged": int((together & hard).sum()),
        "python_driver_rss_mb_before": round(rss_before, 1), "python_driver_peak_rss_mb": round(rss_after, 1),
        "python_driver_ru_maxrss_mb": round(ru_maxrss, 1),
        "jvm_heap_peak_mb": round(heap_peak / 2**20, 1),
        "jvm_heap_pool_peaks_mb": {name: round(v / 2**20, 1) for name, v in pool_peaks.items()},
        "jvm_heap_after_gc_mb": round(heap_after_gc / 2**20, 1), "jvm_peak_rss_mb": jvm_hwm,
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "eval_seconds": round(time.perf_counter() - eval_start, 1),
    }
    log(f"    recall {result['recall']} ({result['copies_found']}/{result['copies']}), precision "
        f"{result['precision']} (group {result['precision_group']}; {removed_count} removed), "
        f"hard negatives merged {result['hard_negatives_merged']}/{result['hard_pairs']}")
    if profile:
        result["profile_s"] = _profile(spark, corpus, config, segmentation, bands, rows, map_batches,
                                       band_rows, BAND_SCHEMA, node_id)
    result_path.write_text(json.dumps(result))
    spark.stop()
    return 0


def _profile(spark, corpus, config, segmentation, bands, rows, map_batches, band_rows, band_schema,
             node_id) -> dict:
    """Parts of the stage alone, after it: reading the texts, and the band_rows mapInArrow."""
    from dedup.minhash import MinHasher, band_keys

    out = {}
    docs = spark.read.parquet(str(corpus / "docs"))
    start = time.perf_counter()
    docs.select("id", "text", "lang").write.format("noop").mode("overwrite").save()
    out["read_texts"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    buckets = map_batches(docs.select(node_id().alias("node"), "text", "lang"), band_rows, band_schema,
                          config=config, bands=bands, rows=rows, segmentation=segmentation)
    buckets.write.format("noop").mode("overwrite").save()
    out["band_rows_mapInArrow"] = round(time.perf_counter() - start, 2)
    # The same work in this one process, one core, on a sample: what band_rows costs without Spark.
    first = sorted((corpus / "docs").glob("*.parquet"))[0]
    sample = pq.read_table(first, columns=["text"]).slice(0, 5000).column("text").to_pylist()
    hasher = MinHasher(config.num_perm, config.seed, config.scheme)
    hasher.sign_texts(sample[:10])                                      # warm-up
    start = time.perf_counter()
    for lo in range(0, len(sample), 1000):
        signatures, empty = hasher.sign_texts(sample[lo:lo + 1000], "whitespace", config.word_ngram,
                                              config.char_ngram)
        band_keys(signatures[~empty], bands, rows)
    out["python_sign_band_docs_per_s_one_core"] = round(len(sample) / (time.perf_counter() - start), 1)
    log(f"    profile: {out}")
    return out


def _vm_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


# ---------------------------------------------------------------- driver

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sizes", default=None, help="comma-separated corpus sizes (default 25000,100000,400000)")
    parser.add_argument("--quick", action="store_true", help="sizes 1000,4000,16000 and a smaller signature sample")
    parser.add_argument("--dup-fraction", type=float, default=0.10, help="share of documents that are planted copies")
    parser.add_argument("--hard-fraction", type=float, default=0.02, help="share of documents in hard-negative pairs")
    parser.add_argument("--signature-docs", type=int, default=None,
                        help="documents for part (a) (default 4000; quick 1000)")
    parser.add_argument("--batch", type=int, default=1000, help="documents per MinHasher call in part (a)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None, help="where corpora go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated corpora")
    parser.add_argument("--profile", action="store_true", help="time stage parts alone after each stage")
    parser.add_argument("--no-compare-verify", dest="compare_verify", action="store_false",
                        help="skip the second run of each size with the former verification (verify_by text)")
    parser.add_argument("--stage", type=Path, help=argparse.SUPPRESS)     # internal: one size, in a child
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--verify-by", default="shingles", help=argparse.SUPPRESS)
    parser.add_argument("--no-evaluate", dest="evaluate", action="store_false", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        return run_stage(args.stage, args.result, args.profile, args.verify_by, args.evaluate)

    sizes = ([int(s) for s in args.sizes.split(",")] if args.sizes
             else list(QUICK_SIZES if args.quick else DEFAULT_SIZES))
    sizes = sorted(sizes)
    signature_docs = args.signature_docs or (1000 if args.quick else 4000)
    paragraphs = load_paragraphs(args.data)
    if not paragraphs:
        print(f"bench/minhash.py: no paragraphs under {args.data} (expected cc-text/dolma, html/...)", file=sys.stderr)
        return 2
    log(f"[bench] {len(paragraphs)} paragraphs from {args.data}; sizes {sizes}; local[{CORES}]")
    work = Path(tempfile.mkdtemp(prefix="bench-minhash-", dir=args.workdir))
    results, corpora, signature = [], [], None
    try:
        for size in sizes:
            corpus = work / f"docs-{size}"
            start = time.perf_counter()
            stats = write_corpus(corpus, paragraphs,
                                 CorpusSpec(size, args.dup_fraction, args.hard_fraction, seed=args.seed),
                                 progress=log if size >= 100_000 else None)
            stats["seconds"] = round(time.perf_counter() - start, 1)
            corpora.append(stats)
            log(f"[bench] corpus of {size}: {stats['seconds']} s, roles {stats['roles']}, "
                f"{stats['words_per_doc']} words/doc")
            if signature is None:
                texts = pq.read_table(str(corpus / "docs"), columns=["text"]).column("text").to_pylist()
                texts = texts[:signature_docs]
                log(f"[bench] (a) signatures: {len(texts)} documents, ours vs datasketch ...")
                signature = signature_throughput(texts, args.batch)
                log(f"[bench]     ours {signature['ours_docs_per_s_per_core']} docs/s/core, datasketch "
                    f"{signature['datasketch_docs_per_s_per_core']}: x{signature['signature_ratio']}")
            log(f"[bench] (b, c) MinHash stage on {size} documents (child process, local[{CORES}]) ...")
            result_path = work / f"result-{size}.json"
            command = [sys.executable, str(Path(__file__).resolve()), "--stage", str(corpus),
                       "--result", str(result_path)] + (["--profile"] if args.profile else [])
            code = subprocess.run(command, cwd=ROOT).returncode
            if code or not result_path.exists():
                print(f"bench/minhash.py: the stage on {size} documents failed (exit {code})", file=sys.stderr)
                return 1
            results.append(json.loads(result_path.read_text()))
            if args.compare_verify:
                log(f"[bench] (d) the same with the former verification (verify_by text), for shuffle bytes ...")
                text_path = work / f"result-{size}-text.json"
                code = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--stage", str(corpus),
                                       "--result", str(text_path), "--verify-by", "text", "--no-evaluate"],
                                      cwd=ROOT).returncode
                if code or not text_path.exists():
                    print(f"bench/minhash.py: the text-verification stage on {size} documents failed (exit {code})",
                          file=sys.stderr)
                    return 1
                text_run = json.loads(text_path.read_text())
                if (text_run["verified_pairs"], text_run["clustered_docs"]) != (results[-1]["verified_pairs"],
                                                                                 results[-1]["clustered_docs"]):
                    print("bench/minhash.py: the two verifications disagree", file=sys.stderr)
                    return 1
                results[-1]["text_verify"] = text_run
            if not args.keep:
                shutil.rmtree(corpus, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"[bench] corpora kept in {work}")

    small, large = results[0], results[-1]
    removed = sum(r["removed"] for r in results)
    copies = sum(r["copies"] for r in results)
    marginal = ((large["docs"] - small["docs"]) / (large["seconds"] - small["seconds"]) / CORES
                if len(results) > 1 and large["seconds"] > small["seconds"] else None)
    per_size_keys = ("seconds", "docs_per_s_per_core", "shuffle_bytes_per_doc", "candidate_pairs", "verified_pairs",
                     "clustered_docs",
                     "removed", "precision", "precision_group", "recall", "hard_negatives_merged",
                     "python_driver_rss_mb_before", "python_driver_peak_rss_mb", "jvm_heap_peak_mb",
                     "jvm_heap_after_gc_mb", "jvm_peak_rss_mb",
                     "load_avg")
    texts = [r.get("text_verify") for r in results]
    summary = {
        "signature_ratio": signature["signature_ratio"],
        "shuffle_bytes_per_doc": large["shuffle_bytes_per_doc"],
        "shuffle_bytes_per_doc_text": texts[-1]["shuffle_bytes_per_doc"] if texts[-1] else None,
        "shuffle_bytes_per_doc_text_by_size": [t["shuffle_bytes_per_doc"] if t else None for t in texts],
        "seconds_text_by_size": [t["seconds"] if t else None for t in texts],
        "verify_s_by_size": [r["steps_s"].get("verify") for r in results],
        "verify_s_text_by_size": [t["steps_s"].get("verify") if t else None for t in texts],
        "precision": round(sum(r["true_removed_exact"] for r in results) / removed, 5) if removed else None,
        "recall": round(sum(r["copies_found"] for r in results) / copies, 5) if copies else None,
        "docs_per_s_per_core": large["docs_per_s_per_core"],
        "time_growth": round(large["seconds"] / small["seconds"], 2),
        "driver_mem_growth": round(large["python_driver_peak_rss_mb"] / small["python_driver_peak_rss_mb"], 3),
        "precision_group": round(sum(r["true_removed_group"] for r in results) / removed, 5) if removed else None,
        "hard_negatives_merged": sum(r["hard_negatives_merged"] for r in results),
        "hard_pairs": sum(r["hard_pairs"] for r in results),
        "size_ratio": round(large["docs"] / small["docs"], 2),
        "marginal_docs_per_s_per_core": round(marginal, 1) if marginal else None,
        "jvm_heap_peak_growth": round(large["jvm_heap_peak_mb"] / small["jvm_heap_peak_mb"], 3),
        "jvm_heap_after_gc_growth": round(large["jvm_heap_after_gc_mb"] / small["jvm_heap_after_gc_mb"], 3),
        "peer_docs_per_s_per_core": PEER_DOCS_PER_S_PER_CORE, "target_docs_per_s_per_core": TARGET_DOCS_PER_S_PER_CORE,
        "num_perm": large["num_perm"], "bands": large["bands"], "rows": large["rows"], "threshold": large["threshold"],
        "cores": CORES, "sizes": [r["docs"] for r in results],
        **{f"{key}_by_size": [r[key] for r in results] for key in per_size_keys},
        "steps_s_by_size": [r["steps_s"] for r in results],
        "recall_by_jaccard_by_size": [r["recall_by_jaccard"] for r in results],
        "removed_background_by_size": [r["removed_background"] for r in results],
        "removed_hard_by_size": [r["removed_hard"] for r in results],
        "removed_below_threshold_jaccards": [r["removed_below_threshold_jaccards"] for r in results],
        "profile_s_by_size": [r.get("profile_s") for r in results] if args.profile else None,
        "signature": signature,
        "corpus": {"words_per_doc": corpora[-1]["words_per_doc"], "chars_per_doc": corpora[-1]["chars_per_doc"],
                   "paragraphs": len(paragraphs), "dup_fraction": args.dup_fraction,
                   "hard_fraction": args.hard_fraction, "generate_s_by_size": [c["seconds"] for c in corpora],
                   "roles_by_size": [c["roles"] for c in corpora]},
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
