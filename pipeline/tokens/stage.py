"""The tokenize job's executor-side steps, on pyarrow record batches (mapInArrow; no pyspark here).

tokenize_batches turns documents into shard-ready token bytes, assign_shard_batches places each
sequence in the global token stream, write_shard_batches writes whole shards. The DataFrame code
that wires them is pipeline/tokens/stage_spark.py.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import storage
from pipeline.config import ConfigError, RunConfig, resolve_mix
from pipeline.io import is_remote
from pipeline.tokens.shards import shard_name, write_shard
from pipeline.tokens.tokenizer import encode_documents, load_tokenizer


def check_tokenize(config: RunConfig) -> None:
    """Before any Spark work: the mix, the tokenizer loads (a URI fetched as executors will fetch
    it), add_bos has a BOS token, and executors can open the output's filesystem from Python (they
    write the shards with pipeline/storage.py, not with Spark)."""
    resolve_mix(config.tokenize, "config")
    options = storage.storage_options(config.spark.conf)
    try:
        tokenizer = load_tokenizer(config.tokenize.tokenizer, options=options)
    except ConfigError as err:
        message = str(err)
        raise ConfigError(message if "tokenize.tokenizer" in message
                          else f"key 'tokenize.tokenizer': {message}") from None
    if config.tokenize.add_bos and tokenizer.bos_id is None:
        raise ConfigError(f"key 'tokenize.add_bos': {tokenizer.name} has no begin-of-text token")
    if is_remote(config.output):
        try:
            storage.filesystem(config.output, options)
        except (OSError, ValueError, ImportError) as err:
            raise ConfigError(f"key 'output': the tokenize stage writes its shards from Python (pyarrow), which "
                              f"cannot open {config.output} here ({' '.join(str(err).split())[:160]}); give an "
                              "object-store URI (s3a://) or a shared mount") from None


def tokenize_batches(batches, *, path: str, add_bos: bool, batch_size: int, dtype: str,
                     options: dict | None = None):
    """Input rows with `text` replaced by `tokens` ([BOS] ids EOS as little-endian `dtype` bytes: the
    shard encoding, which Spark moves as one binary value instead of an array of ints), `chars`
    (code points), `text_tokens` (ids without BOS/EOS) and `n_tokens` (all of them). `path` may be a
    URI (fetched once per machine with the storage settings `options`)."""
    dtype = np.dtype(dtype).newbyteorder("<")
    extra = int(add_bos) + 1
    for big in batches:
        for start in range(0, big.num_rows, batch_size):
            batch = big.slice(start, batch_size)
            values, offsets = encode_documents(batch.column("text").to_pylist(), path=path, add_bos=add_bos,
                                               options=options)
            if values.size and int(values.max()) > np.iinfo(dtype).max:
                raise ValueError(f"{path}: token id {int(values.max())} does not fit {dtype.name}")
            sizes = np.diff(offsets)
            tokens = pa.Array.from_buffers(pa.binary(), len(sizes), [
                None, pa.py_buffer((offsets * dtype.itemsize).astype(np.int32)), pa.py_buffer(values.astype(dtype))])
            keep = [name for name in batch.schema.names if name != "text"]
            yield pa.RecordBatch.from_arrays(
                [batch.column(name) for name in keep]
                + [pc.utf8_length(batch.column("text")).cast(pa.int64()), pa.array(sizes - extra), pa.array(sizes),
                   tokens],
                names=keep + ["chars", "text_tokens", "n_tokens", "tokens"])


def assign_shard_batches(batches, *, bases: dict, shard_tokens: int):
    """Shard and start offset of each row of one partition of the globally sorted sequences.

    Rows carry `pid` (their partition) and `split`; `bases[(pid, split)]` is the number of tokens of
    that split in earlier partitions (prefix sums collected on the driver: one number per partition).
    A document starts shard floor(start / shard_tokens), so shards hold about shard_tokens tokens and
    the cut depends only on the global order, never on the partitioning.
    """
    running: dict = {}
    for batch in batches:
        pids, splits = batch.column("pid").to_pylist(), batch.column("split").to_pylist()
        sizes = batch.column("n_tokens").to_numpy()
        starts = np.empty(batch.num_rows, dtype=np.int64)
        for i, key in enumerate(zip(pids, splits)):
            offset = running.get(key, bases.get(key, 0))
            starts[i] = offset
            running[key] = offset + int(sizes[i])
        columns = [batch.column(n) for n in batch.schema.names if n != "pid"]
        yield pa.RecordBatch.from_arrays(columns + [pa.array(starts), pa.array(starts // shard_tokens)],
                                         names=[n for n in batch.schema.names if n != "pid"] + ["start", "shard"])


def write_shard_batches(batches, *, directories: dict[str, str], dtype: str, options: dict | None = None):
    """Write the shards whose rows (split, shard, start, tokens) arrive sorted by (split, shard, start);
    yields one metadata row per shard written (write_shard's dict plus split, shard, first_start).
    `directories` ({split: directory}) are local paths or URIs (storage settings `options`).

    Every row of a shard must be in this partition (the job repartitions by shard) and the starts
    must follow each other without a gap: checked, since a gap would mean a lost or duplicated document.
    """
    target = np.dtype(dtype)

    def documents():
        for batch in batches:
            # `tokens` holds each document's ids as little-endian `dtype` bytes (binary), or a list of ids
            tokens = batch.column("tokens")
            if pa.types.is_binary(tokens.type) or pa.types.is_large_binary(tokens.type):
                _, offsets_buffer, data = tokens.buffers()
                width = np.int64 if pa.types.is_large_binary(tokens.type) else np.int32
                offsets = np.frombuffer(offsets_buffer, width, len(tokens) + 1,
                                        tokens.offset * np.dtype(width).itemsize)
                if np.any(offsets % target.itemsize):
                    raise ValueError(f"token bytes are not whole {target.name} ids")
                values = np.frombuffer(data, target, offsets[-1] // target.itemsize)
                offsets = offsets // target.itemsize
            else:
                values, offsets = tokens.values.to_numpy(zero_copy_only=False), tokens.offsets.to_numpy()
                if values.size and (values.min() < 0 or values.max() > np.iinfo(target).max):
                    raise ValueError(f"token ids outside {target.name} in a shard batch")
                values = values.astype(target, copy=False)  # one conversion per batch, not per document
            for i, (split, shard, start) in enumerate(zip(batch.column("split").to_pylist(),
                                                          batch.column("shard").to_pylist(),
                                                          batch.column("start").to_pylist())):
                yield split, shard, start, values[offsets[i]:offsets[i + 1]]

    rows = []
    stream = documents()
    pending = next(stream, None)
    while pending is not None:
        split, shard, first_start = pending[0], pending[1], pending[2]
        position = [first_start]

        def one_shard():
            nonlocal pending
            while pending is not None and pending[0] == split and pending[1] == shard:
                if pending[2] != position[0]:
                    raise ValueError(f"shard {split}/{shard_name(shard)}: document starts at {pending[2]}, "
                                     f"expected {position[0]} (rows lost or duplicated: are the document ids unique?)")
                position[0] += pending[3].size
                yield pending[3]
                pending = next(stream, None)

        meta = write_shard(directories[split], shard, one_shard(), target, options=options)
        rows.append({"split": split, "shard": shard, "first_start": first_start, **meta})
    if rows:
        yield pa.RecordBatch.from_pylist(rows, schema=shard_meta_schema())


def shard_meta_schema() -> pa.Schema:
    """The rows write_shard_batches yields."""
    return pa.schema([("split", pa.string()), ("shard", pa.int64()), ("first_start", pa.int64()),
                      ("name", pa.string()), ("tokens", pa.int64()), ("documents", pa.int64()),
                      ("sha256", pa.string()), ("index_sha256", pa.string())])
