"""Classify benchmark: classifier scoring, in its own pass and ahead in the filter's write, against a bare fastText `predict` loop.

    python bench/classify.py [DATA] [--docs 40000] [--cores 2] [--batch 256]

DATA defaults to ../shared/data beside the repository: the gold article texts of
html/scrapinghub-article-extraction-benchmark (181 real articles, ~4.5 KB each) and the CCNet
documents of cc-text/dolma. Documents are those texts tiled to --docs, each given a distinct
first line so no two are equal. One run, untimed setup first:

- a fastText quality model (dim 64, 200,000 buckets, word bigrams) is trained with
  classifiers.model_files.train_model on the texts (articles hq, CCNet lq: the labels only make
  a realistic model; speed does not depend on them) and saved like jobs/train_classifier.py;
- the documents are written to Parquet (id, text, lang, url, domain) in --cores * 4 files.

Timed:
- bare: one process loads the model's .bin with `fasttext.load_model` and calls
  `model.predict(texts, k=-1, threshold=0.0)` on batches of --batch texts (newlines replaced by
  spaces, which fastText's predict requires), texts already in memory: documents / seconds is
  `bare_docs_per_s` (one core);
- ours: pipeline.stage_spark.execute("classify") on a local[--cores] session (warmed by an untimed run on 256
  documents: JVM, Python workers, their model cache; best of --repeats runs), reading the Parquet,
  normalising (classifiers/normalize.py), scoring with the worker-cached model, thresholding
  with {min_score: 0.5} and writing kept and rejected Parquet plus stats.json: documents /
  seconds / cores is `job_docs_per_s_per_core`.

- ahead: what a whole run pays for scoring (classify.score_ahead, the default): the filter stage
  (filter.filters=[c4_v1], a cheap chain) run as in a run of [filter] and as in a run of
  [filter, classify], where the models score the filter's kept documents in its decision pass. The
  two alternate, best of --repeats each; `ahead_added_us_per_doc` = the difference in seconds x
  cores / the documents scored (the filter's kept), CPU time per document on one core.

Last line: one JSON object; `ratio` = job_docs_per_s_per_core / bare_docs_per_s (the classify
stage's own pass); `scoring_ratio` = bare cost per document / `ahead_added_us_per_doc` (target
>= 0.8: scoring adds at most 1.25x the bare predict). `normalize_docs_per_s` (one core,
normalize_texts alone) says how much of the gap is normalisation rather than Spark.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def load_texts(data: Path) -> tuple[list[str], list[str]]:
    """(hq article texts, lq CCNet texts) from DATA."""
    truth = data / "html" / "scrapinghub-article-extraction-benchmark" / "ground-truth.json"
    if not truth.is_file():
        sys.exit(f"error: {truth} not found; pass the shared data directory as DATA")
    articles = [row["articleBody"] for row in json.loads(truth.read_text(encoding="utf-8")).values()
                if row.get("articleBody")]
    ccnet = []
    for path in sorted((data / "cc-text" / "dolma").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            ccnet += [json.loads(line)["text"] for line in fh if line.strip()]
    return articles, ccnet


def corpus(articles: list[str], ccnet: list[str], n: int) -> list[str]:
    pool = articles + ccnet
    return [f"Document {i}.\n{pool[i % len(pool)]}" for i in range(n)]


def train(articles: list[str], ccnet: list[str], directory: Path) -> None:
    from classifiers.model_files import save_model, train_model

    texts, labels = articles + ccnet * 4, ["hq"] * len(articles) + ["lq"] * (len(ccnet) * 4)
    save_model(train_model("fasttext", texts, labels, dim=64, bucket=200_000, word_ngrams=2, epoch=5),
               directory)


def write_parquet(texts: list[str], directory: Path, files: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    directory.mkdir(parents=True)
    for k in range(files):
        part = texts[k::files]
        ids = [f"d{k}-{i}" for i in range(len(part))]
        pq.write_table(pa.table({"id": ids, "text": part, "lang": ["en"] * len(part),
                                 "url": [f"https://site{j % 97}.example/{i}" for j, i in enumerate(ids)],
                                 "domain": [f"site{i % 97}.example" for i in range(len(part))]}),
                       directory / f"part-{k:05d}.parquet")


def bare(model_dir: Path, texts: list[str], batch: int) -> float:
    import fasttext

    model = fasttext.load_model(str(model_dir / "model.bin"))
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        model.predict([t.replace("\n", " ") for t in texts[i:i + batch]], k=-1, threshold=0.0)
    return len(texts) / (time.perf_counter() - start)


def normalize_rate(texts: list[str], batch: int) -> float:
    from classifiers.normalize import normalize_texts

    normalize_texts(texts[:1])          # untimed: builds the code-point tables, once per process
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        normalize_texts(texts[i:i + batch])
    return len(texts) / (time.perf_counter() - start)


def job(model_dir: Path, tmp: Path, cores: int, batch: int, n: int, repeats: int) -> tuple[float, dict, dict]:
    """(best docs/s/core of `repeats` timed classify runs, its stats, the scoring-ahead figures),
    after untimed warm-up runs on 256 documents that start the JVM, the Python workers and their
    model cache (bench/tokenizer_speed.py does the same)."""
    from pipeline.stage_spark import execute
    from pipeline.config import SparkConfig, load_config
    from pipeline.spark import build_session

    spark = build_session(SparkConfig(master=f"local[{cores}]", shuffle_partitions=cores * 4,
                                      conf={"spark.ui.enabled": "false",
                                            "spark.sql.execution.arrow.maxRecordsPerBatch": str(batch)}))
    settings = [f"classify.models={{quality: {model_dir}}}", "classify.thresholds={quality: {default: {min_score: 0.5}}}",
                "stages=[filter, classify]", "filter.filters=[c4_v1]"]

    def run(stage: str, docs: Path, out: Path, running: list[str] | None = None) -> tuple[float, dict]:
        config = load_config(None, [f"output={out}", *settings])
        start = time.perf_counter()
        stats = execute(spark, config, stage, [str(docs)], running=running)
        return time.perf_counter() - start, stats

    run("classify", tmp / "warmup", tmp / "out-warmup")
    run("filter", tmp / "warmup", tmp / "out-warmup-ahead", ["filter", "classify"])
    best, stats = min((run("classify", tmp / "docs", tmp / f"out-{k}") for k in range(repeats)), key=lambda r: r[0])
    if stats["records_in"] != n:
        sys.exit(f"error: the job read {stats['records_in']} documents, expected {n}")
    alone, ahead = [], []
    for k in range(repeats):     # alternating, so that drift in the machine's speed hits both alike
        alone.append(run("filter", tmp / "docs", tmp / f"filter-{k}", ["filter"]))
        ahead.append(run("filter", tmp / "docs", tmp / f"ahead-{k}", ["filter", "classify"]))
    spark.stop()
    (t_alone, stats_alone), (t_ahead, stats_ahead) = min(alone, key=lambda r: r[0]), min(ahead, key=lambda r: r[0])
    if stats_ahead.get("scored_ahead") != ["classify"] or "scored_ahead" in stats_alone:
        sys.exit("error: the filter runs did not score ahead as configured")
    scored = stats_ahead["kept"]
    figures = {"filter_s": round(t_alone, 2), "filter_with_scoring_s": round(t_ahead, 2), "scored_docs": scored,
               "ahead_added_us_per_doc": round(max(t_ahead - t_alone, 1e-9) * cores / scored * 1e6, 1)}
    return n / best / cores, stats, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--docs", type=int, default=40_000)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3, help="timed job runs of each kind; the best counts (default: 3)")
    args = parser.parse_args()
    articles, ccnet = load_texts(args.data)
    texts = corpus(articles, ccnet, args.docs)
    with tempfile.TemporaryDirectory(prefix="curate-bench-classify-") as tmp:
        tmp = Path(tmp)
        print(f"[bench] {len(texts):,} documents, {sum(map(len, texts)) / len(texts):,.0f} chars on average; "
              "training the model", flush=True)
        train(articles, ccnet, tmp / "model")
        write_parquet(texts, tmp / "docs", args.cores * 4)
        bare_rate = bare(tmp / "model", texts, args.batch)
        print(f"[bench] bare fastText predict: {bare_rate:,.0f} docs/s", flush=True)
        norm_rate = normalize_rate(texts, args.batch)
        print(f"[bench] normalize_texts alone: {norm_rate:,.0f} docs/s", flush=True)
        write_parquet(texts[:256], tmp / "warmup", 1)
        ours, stats, ahead = job(tmp / "model", tmp, args.cores, args.batch, len(texts), args.repeats)
        print(f"[bench] classify job: {ours:,.0f} docs/s/core ({stats['kept']} kept, {stats['rejected']} rejected)",
              flush=True)
        print(f"[bench] filter stage {ahead['filter_s']} s alone, {ahead['filter_with_scoring_s']} s scoring its "
              f"{ahead['scored_docs']:,} kept documents ahead: {ahead['ahead_added_us_per_doc']} us per document "
              f"and core (bare predict: {1e6 / bare_rate:.0f} us)", flush=True)
    print(json.dumps({"docs": len(texts), "cores": args.cores, "bare_docs_per_s": round(bare_rate, 1),
                      "job_docs_per_s_per_core": round(ours, 1), "normalize_docs_per_s": round(norm_rate, 1),
                      "ratio": round(ours / bare_rate, 3), **ahead,
                      "scoring_ratio": round(1e6 / bare_rate / ahead["ahead_added_us_per_doc"], 3)}))


if __name__ == "__main__":
    main()
