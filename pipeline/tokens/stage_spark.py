"""The tokenize stage on Spark: documents -> mixed, shuffled, fixed-size token shards.

Every step is keyed by a seeded hash, so the same input and seed give byte-identical shards
whatever the partitioning:
  1. held-out split by document (tokenize.valid_fraction of the ids go to valid/);
  2. mix weights per (lang, source): weight w gives floor(w) copies plus one more for a
     seeded-hash fraction w - floor(w) of the documents (w < 1 down-samples); valid gets at most one;
  3. tokens in mapInArrow (pipeline/tokens/stage.py, the tokenizer loaded once per
     Python worker): [BOS] ids EOS, carried as shard-dtype bytes;
  4. a global shuffle: only a light table (id, copy, sizes) is sorted by a seeded hash of
     (id, copy); token offsets come from partition prefix sums, shard = offset // shard_tokens;
  5. executors write their shards in parallel (one task per shard), the driver only assembles
     manifest.json from the per-shard rows.
Counts come from aggregations (exact under task retries). The per-batch work is
pipeline/tokens/stage.py; the command is jobs/tokens.py.

Where the shards go (executors write them from Python, through pipeline/storage.py):
  - a local or mounted path, or HDFS: into <output>/_staging.shards, then renamed into place with
    the old shards (pipeline.spark.replace_directory): atomic, a reader sees the old or the new set.
  - an object store (s3a://, gs://, ...: no rename): straight into <output>/shards, each object
    whole when its upload completes. The stage's stats file is deleted first and written last
    (pipeline/stage_spark.execute), so an interrupted rewrite never passes for complete: on object
    stores completeness rests on that run key, and each split's manifest.json (written after every
    shard of the run, naming each one's sha256) is what a reader checks the files against.
The tokenizer may be a URI too: executors fetch it once per machine (pipeline.storage.local_copy).
"""
from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from pipeline import outputs, storage
from pipeline.config import ConfigError, RunConfig, resolve_mix
from pipeline.io import InputError, is_remote, join, staging_path
from pipeline.stage_spark import read_documents
from pipeline.tokens.shards import TMP_MARK, dtype_for_vocab, write_manifest
from pipeline.spark import arrow_schema, map_batches, persist_on_disk, replace_directory, write_parquet
from pipeline.tokens.stage import assign_shard_batches, shard_meta_schema, tokenize_batches, write_shard_batches
from pipeline.tokens.tokenizer import load_tokenizer

STAGE = "tokenize"
REQUIRED = ("id", "text", "lang", "source")
SPLITS = ("train", "valid")
# Stores without an atomic rename: shards are written in place there (see the module's docstring).
OBJECT_STORES = ("s3", "s3a", "s3n", "gs", "gcs", "abfs", "abfss", "wasb", "wasbs", "oss", "cos", "cosn", "obs")


def is_object_store(uri: str) -> bool:
    return is_remote(uri) and urlsplit(uri).scheme.lower() in OBJECT_STORES


def run_tokenize(spark: SparkSession, config: RunConfig, inputs: list[str]) -> dict:
    """Write <output>/shards/{train,valid} and <output>/rejected/tokenize; returns the stage stats."""
    settings = config.tokenize
    mix = resolve_mix(settings, "config")
    options = storage.storage_options(config.spark.conf)   # what executors open the store with
    tokenizer_path = settings.tokenizer if is_remote(settings.tokenizer) else os.path.abspath(settings.tokenizer)
    # on the driver too: fails early, gives the manifest's fields
    tokenizer = load_tokenizer(tokenizer_path, options=options)
    if settings.add_bos and tokenizer.bos_id is None:
        raise ConfigError(f"key 'tokenize.add_bos': {tokenizer.name} has no begin-of-text token")
    paths = inputs
    docs = read_documents(spark, paths)
    missing = [c for c in REQUIRED if c not in docs.columns]
    if missing:
        raise InputError(f"{', '.join(paths)}: no column(s) {', '.join(missing)} (expected the document contract)")
    print(f"[tokenize] {tokenizer} ({tokenizer.backend}) on {', '.join(paths)}", flush=True)

    decided = _decide(docs, mix, settings.seed, settings.valid_fraction)
    rejected_path = outputs.rejected(config.output, STAGE)
    write_parquet(decided.where(F.col("drop_reason").isNotNull()).drop("split", "copies", "thash"), rejected_path)
    kept = (decided.where(F.col("drop_reason").isNull())
            .select("id", "lang", "source", "split", "copies", "thash", "text"))
    dtype = dtype_for_vocab(tokenizer.vocab_size).name
    shards = outputs.shards(config.output)
    in_place = is_object_store(shards)
    staging = shards if in_place else staging_path(shards)
    tokenized = persist_on_disk(map_batches(kept, tokenize_batches, _tokenized_schema(kept), path=tokenizer_path,
                                            add_bos=settings.add_bos, batch_size=settings.batch_size, dtype=dtype,
                                            options=options))
    try:
        ordered = _shuffled(tokenized, settings.seed)
        try:
            groups = _group_sums(ordered)
            placed, totals = _place(ordered, groups, settings.shard_tokens)
            if in_place:   # no earlier run's stats may vouch for shards being rewritten
                storage.delete(outputs.stats_file(config.output, STAGE), options)
            shard_rows = _write_shards(placed, tokenized, totals, settings.shard_tokens, staging, dtype, options)
        finally:
            ordered.unpersist()
    finally:
        tokenized.unpersist()
    if not is_remote(staging):
        drop_torn_files(staging)
    manifests = _manifests(groups, shard_rows, tokenizer, settings, mix, staging, options)
    if not in_place:
        # The shards and their manifests appear together. Local paths as file:// because they are
        # local files even where Spark's default filesystem is HDFS.
        if is_remote(shards):
            replace_directory(spark, staging, shards)
        else:
            replace_directory(spark, _local_uri(staging), _local_uri(shards))
    stats = _stats(spark.read.parquet(rejected_path), groups, manifests)
    stats.update({"tokenizer": {"name": tokenizer.name, "sha256": tokenizer.sha256,
                                "vocab_size": tokenizer.vocab_size, "backend": tokenizer.backend},
                  "outputs": {"kept": shards, "rejected": rejected_path,
                              **{split: outputs.shards(config.output, split) for split in SPLITS}}})
    return stats


def _local_uri(path: str) -> str:
    return path if path.startswith("file://") else "file://" + os.path.abspath(path)


def unit_hash(seed: int, salt: str, *columns: str) -> Column:
    """A uniform double in [0, 1) from (seed, salt, columns): the same row draws the same number anywhere."""
    return (F.xxhash64(F.lit(seed), F.lit(salt), *columns).bitwiseAND(F.lit((1 << 53) - 1))
            / F.lit(float(1 << 53)))


def mix_weight(mix: dict[str, float]) -> Column:
    """The weight of each row's (lang, source): exact key, then lang/*, then */source, then */*, else 1."""
    def specificity(key: str) -> int:
        lang, _, source = key.partition("/")
        return (lang != "*") * 2 + (source != "*")

    weight = F.lit(1.0)
    for key in sorted(mix, key=specificity):  # least specific first: the most specific match wins
        lang, _, source = key.partition("/")
        condition = F.lit(True)
        if lang != "*":
            condition = condition & (F.col("lang") == lang)
        if source != "*":
            condition = condition & (F.col("source") == source)
        weight = F.when(condition, F.lit(float(mix[key]))).otherwise(weight)
    return weight


def _decide(docs: DataFrame, mix: dict[str, float], seed: int, valid_fraction: float) -> DataFrame:
    """Each document's split, copies and drop_reason (empty_text, mix_sampled_out)."""
    weight = mix_weight(mix)
    whole = F.floor(weight)
    copies = (whole + (unit_hash(seed, "mix", "id") < weight - whole).cast("int")).cast("int")
    split = F.when(unit_hash(seed, "valid", "id") < F.lit(valid_fraction), F.lit("valid")).otherwise(F.lit("train"))
    frame = (docs.select("id", "text", F.coalesce("lang", F.lit("und")).alias("lang"),
                         F.coalesce("source", F.lit("unknown")).alias("source"))
             .withColumn("id", F.coalesce(F.col("id"), F.sha1(F.coalesce(F.col("text"), F.lit("")))))
             .withColumn("split", split)
             .withColumn("copies", F.when(F.col("split") == "valid", F.least(copies, F.lit(1))).otherwise(copies))
             .withColumn("thash", F.xxhash64("text")))  # orders two documents that share an id
    empty = F.col("text").isNull() | ~F.col("text").rlike(r"\S")  # rlike stops at the first visible character
    return frame.withColumn("drop_reason", F.when(empty, F.lit("empty_text"))
                            .when(F.col("copies") <= 0, F.lit("mix_sampled_out")))


def _tokenized_schema(kept: DataFrame):
    import pyarrow as pa

    base = [f for f in arrow_schema(kept) if f.name != "text"]
    return pa.schema(base + [pa.field("chars", pa.int64()), pa.field("text_tokens", pa.int64()),
                             pa.field("n_tokens", pa.int64()), pa.field("tokens", pa.binary())])


def _shuffled(tokenized: DataFrame, seed: int) -> DataFrame:
    """One light row per sequence (a document copy), sorted by split then a seeded hash of (id, copy):
    the global shuffle. Only this table is sorted; the tokens join it afterwards. `pid` is the
    partition of the sorted (and cached) table, whose partitions follow the global order."""
    light = (tokenized.select("id", "thash", "split", "lang", "source", "n_tokens", "chars", "text_tokens",
                              F.explode(F.sequence(F.lit(0), F.col("copies") - 1)).alias("copy"))
             .withColumn("key", F.xxhash64(F.lit(seed), F.lit("shuffle"), "id", "copy")))
    return persist_on_disk(light.orderBy("split", "key", "id", "copy", "thash")
                           .withColumn("pid", F.spark_partition_id()))


def _group_sums(ordered: DataFrame) -> list[dict]:
    """Sequences, documents, tokens, chars per (partition, split, lang, source): a few rows, every
    count the manifests and stats need (documents = copy 0 of each)."""
    first = F.col("copy") == 0
    return [r.asDict() for r in ordered.groupBy("pid", "split", "lang", "source").agg(
        F.count(F.lit(1)).alias("sequences"), F.sum(first.cast("long")).alias("documents"),
        F.sum("n_tokens").alias("tokens"), F.sum(F.when(first, F.col("chars"))).alias("chars"),
        F.sum(F.when(first, F.col("text_tokens"))).alias("text_tokens")).collect()]


def _place(ordered: DataFrame, groups: list[dict], shard_tokens: int) -> tuple[DataFrame, dict[str, int]]:
    """(id, thash, split, ..., start, shard) per sequence, and the tokens of each split.

    Offsets are prefix sums: the tokens of each (partition, split) are known from `groups`, so every
    partition adds its base while it walks its rows in order (deterministic: `ordered` is cached).
    """
    import pyarrow as pa

    per_partition: dict[tuple[int, str], int] = {}
    for g in groups:
        per_partition[(g["pid"], g["split"])] = per_partition.get((g["pid"], g["split"]), 0) + g["tokens"]
    bases, totals = {}, {}
    for pid, split in sorted(per_partition):
        bases[(pid, split)] = totals.get(split, 0)
        totals[split] = totals.get(split, 0) + per_partition[(pid, split)]
    schema = pa.schema([f for f in arrow_schema(ordered) if f.name != "pid"]
                       + [pa.field("start", pa.int64()), pa.field("shard", pa.int64())])
    return map_batches(ordered, assign_shard_batches, schema, bases=bases, shard_tokens=shard_tokens), totals


def _write_shards(placed: DataFrame, tokenized: DataFrame, totals: dict[str, int], shard_tokens: int,
                  root: str, dtype: str, options: dict | None = None) -> list[dict]:
    """Executors write every shard into root/<split> (a local path or a URI) in parallel, one task
    per shard; returns their metadata rows."""
    directories = {split: join(root, split) if is_remote(root) else os.path.abspath(join(root, split))
                   for split in SPLITS}
    for directory in directories.values():  # no stale shard of an earlier, larger run may survive
        if not is_remote(directory):
            shutil.rmtree(directory, ignore_errors=True)
            os.makedirs(directory, exist_ok=True)
            continue
        storage.delete(directory, options)
        if not is_object_store(directory):   # object stores have no directories to make
            storage.makedirs(directory, options)
    # shards per split, an upper bound known without a job: starts are < tokens
    bounds = {split: -(-totals.get(split, 0) // shard_tokens) for split in SPLITS}
    count = sum(bounds.values())
    if not count:
        return []
    ordinal = F.when(F.col("split") == "train", F.col("shard")).otherwise(F.col("shard") + F.lit(bounds["train"]))
    parts = placed.sparkSession.createDataFrame(list(enumerate(partition_keys(count))), "ordinal long, part long")
    rows = (placed.join(tokenized.select("id", "thash", "tokens"), on=["id", "thash"])
            .withColumn("ordinal", ordinal)
            .join(F.broadcast(parts), on="ordinal")
            .repartition(count, "part")
            .sortWithinPartitions("split", "shard", "start")
            .select("split", "shard", "start", "tokens"))
    return [r.asDict() for r in map_batches(rows, write_shard_batches, shard_meta_schema(),
                                            directories=directories, dtype=dtype, options=options).collect()]


def drop_torn_files(staging: str) -> None:
    """Delete the temporary files of shard tasks killed mid-write (an executor lost to SIGKILL
    runs no cleanup): the retried task wrote its shard under the final name, and a stray
    `*.tmp-*` file would otherwise be renamed into shards/ with the rest."""
    folder = Path(urlsplit(staging).path if staging.startswith("file://") else staging)
    for path in folder.glob(f"*/*{TMP_MARK}*"):
        path.unlink(missing_ok=True)


def partition_keys(count: int) -> list[int]:
    """keys[k] is a number that repartition(count, <long column>) sends to partition k.

    Hash partitioning of the shard numbers themselves would put several shards in one task and
    leave others idle; range partitioning would sample (recompute) the joined tokens first. Spark
    sends a long x to pmod(murmur3(x, seed 42), count), so a short search finds a key per partition.
    """
    keys: dict[int, int] = {}
    candidate = 0
    while len(keys) < count:
        keys.setdefault(spark_hash_long(candidate) % count, candidate)
        candidate += 1
    return [keys[k] for k in range(count)]


def spark_hash_long(value: int, seed: int = 42) -> int:
    """Spark's hash() of a LongType value (Murmur3_x86_32.hashLong), a signed 32-bit int."""
    mask = 0xFFFFFFFF

    def rotl(x: int, r: int) -> int:
        return ((x << r) | (x >> (32 - r))) & mask

    def mix(h: int, k: int) -> int:
        k = rotl((k * 0xCC9E2D51) & mask, 15) * 0x1B873593 & mask
        return (rotl(h ^ k, 13) * 5 + 0xE6546B64) & mask

    h = mix(mix(seed, value & mask), (value >> 32) & mask) ^ 8
    h = ((h ^ (h >> 16)) * 0x85EBCA6B) & mask
    h = ((h ^ (h >> 13)) * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h - (1 << 32) if h >> 31 else h


def _manifests(groups: list[dict], shard_rows: list[dict], tokenizer, settings, mix: dict, root: str,
               options: dict | None = None) -> dict:
    manifests = {}
    for split in SPLITS:
        shards = sorted((r for r in shard_rows if r["split"] == split), key=lambda r: r["shard"])
        expected = 0
        for row in shards:  # shards tile the split's token stream: a gap means a lost document
            if row["first_start"] != expected:
                raise RuntimeError(f"{split} shard {row['name']} starts at token {row['first_start']}, "
                                   f"expected {expected}")
            expected += row["tokens"]
        totals: dict[str, dict[str, int]] = {}
        for g in sorted((g for g in groups if g["split"] == split), key=lambda g: (g["lang"], g["source"])):
            entry = totals.setdefault(f"{g['lang']}/{g['source']}",
                                      {"documents": 0, "unique_documents": 0, "tokens": 0})
            entry["documents"] += g["sequences"]
            entry["unique_documents"] += g["documents"]
            entry["tokens"] += g["tokens"]
        manifests[split] = write_manifest(
            join(root, split),
            [{k: r[k] for k in ("name", "tokens", "documents", "sha256", "index_sha256")} for r in shards],
            tokenizer_name=tokenizer.name, tokenizer_sha256=tokenizer.sha256, vocab_size=tokenizer.vocab_size,
            bos_id=tokenizer.bos_id, eos_id=tokenizer.eos_id, seed=settings.seed, totals=totals,
            mix={"weights": dict(sorted(mix.items())), "applied": {key: _weight_of(key, mix) for key in totals},
                 "copies": "at most one per document" if split == "valid"
                 else "floor(w) + a seeded fraction w - floor(w)"},
            extra={"split": split, "add_bos": settings.add_bos, "shard_tokens": settings.shard_tokens,
                   "validation": {"fraction": settings.valid_fraction, "by": "document id (seeded xxhash64)",
                                  "seed": settings.seed}},
            options=options)
    return manifests


def _weight_of(group: str, mix: dict[str, float]) -> float:
    lang, _, source = group.partition("/")
    for key in (f"{lang}/{source}", f"{lang}/*", f"*/{source}", "*/*"):
        if key in mix:
            return mix[key]
    return 1.0


def _stats(rejected: DataFrame, groups: list[dict], manifests: dict) -> dict:
    """Counts aggregated from what was written and tokenized: exact under task retries."""
    by_reason = {r["drop_reason"]: r["count"] for r in rejected.groupBy("drop_reason").count().collect()}
    per_lang: dict[str, Counter] = {}
    for g in groups:
        per_lang.setdefault(g["lang"], Counter()).update(
            {"documents": g["documents"], "chars": g["chars"] or 0, "tokens": g["text_tokens"] or 0})
    kept = sum(c["documents"] for c in per_lang.values())
    return {
        "records_in": kept + sum(by_reason.values()), "kept": kept, "rejected": sum(by_reason.values()),
        "rejected_by_reason": dict(sorted(by_reason.items())),
        "kept_by_lang": {lang: c["documents"] for lang, c in sorted(per_lang.items())},
        "chars_per_token_by_lang": {lang: round(c["chars"] / max(c["tokens"], 1), 3)
                                    for lang, c in sorted(per_lang.items())},
        "kept_chars": sum(c["chars"] for c in per_lang.values()),
        "kept_text_tokens": sum(c["tokens"] for c in per_lang.values()),
        "splits": {split: {"documents": m["num_documents"], "unique_documents":
                           sum(t["unique_documents"] for t in m["totals"].values()),
                           "tokens": m["num_tokens"], "shards": m["num_shards"]} for split, m in manifests.items()},
    }
