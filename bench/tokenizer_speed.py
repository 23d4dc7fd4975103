"""Tokenize benchmark: the tokenize job's tokens/s per core against raw `tokenizers`, and shard writes.

    python bench/tokenizer_speed.py [DATA] [--mb 40] [--vocab-size 32000] [--cores 2]

DATA defaults to ../shared/data beside the repository: the UDHR translations (lang/udhr/txt, ~500
languages), the article bodies of html/scrapinghub-article-extraction-benchmark/ground-truth.json
and the CC documents of cc-text/dolma (SOURCES.md), repeated with new ids up to --mb of text.
A byte-level BPE of --vocab-size is trained on the unrepeated texts first (untimed); both sides
use it, ours through pipeline/tokens/tokenizer (tiktoken ranks), raw through the same tokenizer.json.

  raw      `tokenizers.Tokenizer.encode_batch(texts, add_special_tokens=False)` over all texts,
           1,024 per call, its Rust thread pool on --cores cores: tokens / s / cores, best of --repeats.
  encoder  pipeline.tokens.tokenizer.Tokenizer.encode_batch in this process, one thread: tokens / s
           (one core); `encoder_ratio` = encoder / raw per core.
  job      pipeline.stage_spark.execute("tokenize") on local[--cores] (session started and its Python workers
           warmed by a 64-document run before, untimed; input Parquet in row groups of 64
           documents written before, untimed): read, split, mix, tokenize, shuffle, shard, write,
           manifests. tokens / s / cores, best of --repeats (a shared machine's load varies);
           `ratio` = job / raw per core (the issue's target >= 0.8).
  shards   pipeline.tokens.shards.write_shard of the encoder's documents (+EOS) to a temporary
           directory, sha256 included: MB (of .ds + .ds.index) / s on one core.
Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data"


def log(message: str) -> None:
    print(message, flush=True)


def load_texts(data: Path) -> list[dict]:
    docs = []
    for path in sorted((data / "lang" / "udhr" / "txt").glob("*.txt")):
        docs.append({"lang": path.stem.split("_")[0], "text": path.read_text(encoding="utf-8", errors="replace")})
    truth = data / "html" / "scrapinghub-article-extraction-benchmark" / "ground-truth.json"
    if truth.is_file():
        docs += [{"lang": "en", "text": v["articleBody"]} for v in json.loads(truth.read_text()).values()
                 if v.get("articleBody")]
    for path in sorted((data / "cc-text" / "dolma").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            docs += [{"lang": "en", "text": json.loads(line)["text"]} for line in lines if line.strip()]
    if not docs:
        raise SystemExit(f"no texts under {data} (expected lang/udhr/txt, html/..., cc-text/dolma)")
    return docs


def repeated(docs: list[dict], megabytes: float) -> list[dict]:
    out, size, k = [], 0, 0
    while size < megabytes * 1e6:
        for i, doc in enumerate(docs):
            out.append({"id": f"{k}-{i}", "source": "bench", **doc})
            size += len(doc["text"].encode("utf-8"))
        k += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    parser.add_argument("--mb", type=float, default=40, help="MB of text (default: 40)")
    parser.add_argument("--vocab-size", type=int, default=32_000)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2,
                        help="timed runs of raw and job; the best counts (default: 2)")
    args = parser.parse_args()
    os.environ["RAYON_NUM_THREADS"] = str(args.cores)      # before tokenizers starts its pool

    from tokenizers import Tokenizer as HFTokenizer

    from pipeline.tokens.shards import write_shard
    from pipeline.tokens.tokenizer import load_tokenizer, train_bpe

    base = load_texts(Path(args.data))
    work = Path(tempfile.mkdtemp(prefix="bench-tokenize-"))
    try:
        started = time.perf_counter()
        train_bpe((d["text"] for d in base), str(work / "tok"), vocab_size=args.vocab_size)
        log(f"trained a {args.vocab_size}-token BPE on {len(base)} texts in {time.perf_counter() - started:.1f}s")
        docs = repeated(base, args.mb)
        texts = [d["text"] for d in docs]
        megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
        log(f"{len(texts)} documents, {megabytes:.1f} MB of text")

        raw = HFTokenizer.from_file(str(work / "tok" / "tokenizer.json"))
        raw.encode_special_tokens = True
        raw_s = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            raw_tokens = sum(len(e.ids) for lo in range(0, len(texts), 1024)
                             for e in raw.encode_batch(texts[lo:lo + 1024], add_special_tokens=False))
            raw_s = min(raw_s, time.perf_counter() - start)
        raw_per_core = raw_tokens / raw_s / args.cores
        log(f"raw tokenizers: {raw_tokens} tokens in {raw_s:.1f}s = {raw_per_core:,.0f} tokens/s/core")

        ours = load_tokenizer(str(work / "tok" / "tokenizer.json"))
        start = time.perf_counter()
        encoded = [ids for lo in range(0, len(texts), 1024) for ids in ours.encode_batch(texts[lo:lo + 1024])]
        enc_s = time.perf_counter() - start
        our_tokens = sum(len(x) for x in encoded)
        if our_tokens != raw_tokens:
            raise AssertionError(f"the encoders disagree: {our_tokens} vs {raw_tokens} tokens")
        log(f"encoder ({ours.backend}): {our_tokens / enc_s:,.0f} tokens/s on one core")

        eos = np.array([ours.eos_id], dtype=np.uint32)
        start = time.perf_counter()
        meta = write_shard(work / "shards", 0, (np.concatenate([ids, eos]) for ids in encoded), np.uint16
                           if ours.vocab_size <= 65_536 else np.uint32)
        write_s = time.perf_counter() - start
        written = sum(f.stat().st_size for f in (work / "shards").iterdir()) / 1e6
        log(f"write_shard: {written:.1f} MB ({meta['documents']} documents) in {write_s:.2f}s")
        del encoded

        job = run_job(docs, work, args.cores, args.repeats)
        job_per_core = job["tokens"] / job["seconds"] / args.cores
        log(f"job: {job['tokens']} tokens (EOS included) in {job['seconds']:.1f}s = {job_per_core:,.0f} tokens/s/core")
        result = {
            "ratio": round(job_per_core / raw_per_core, 3),
            "shard_write_mb_per_s": round(written / write_s, 1),
            "encoder_ratio": round(our_tokens / enc_s / raw_per_core, 3),
            "job_tokens_per_s_per_core": round(job_per_core), "raw_tokens_per_s_per_core": round(raw_per_core),
            "encoder_tokens_per_s": round(our_tokens / enc_s), "job_seconds": job["all_seconds"],
            "documents": len(texts), "text_mb": round(megabytes, 1), "tokens": raw_tokens,
            "vocab_size": ours.vocab_size, "backend": ours.backend, "cores": args.cores,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


def run_job(docs: list[dict], work: Path, cores: int, repeats: int) -> dict:
    from pipeline.stage_spark import execute
    from pipeline.config import SparkConfig, load_config
    from pipeline.spark import build_session

    # row groups of 64 documents, so Spark splits the file over every core as it would its own output
    pq.write_table(pa.Table.from_pylist(docs), work / "docs.parquet", row_group_size=64)
    pq.write_table(pa.Table.from_pylist(docs[:64]), work / "warmup.parquet")
    spark = build_session(SparkConfig(master=f"local[{cores}]", shuffle_partitions=cores * 4, driver_memory="4g",
                                      conf={"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false"}),
                          app_name="bench-tokenize")
    config = load_config(None, [f"output={work / 'out'}", f"tokenize.tokenizer={work / 'tok' / 'tokenizer.model'}",
                                "tokenize.shard_tokens=4000000"])
    try:
        execute(spark, config, "tokenize", [str(work / "warmup.parquet")])  # start the Python workers, untimed
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            stats = execute(spark, config, "tokenize", [str(work / "docs.parquet")])
            times.append(time.perf_counter() - start)
    finally:
        spark.stop()
    return {"seconds": min(times), "all_seconds": [round(t, 1) for t in times],
            "tokens": sum(s["tokens"] for s in stats["splits"].values())}


if __name__ == "__main__":
    main()
