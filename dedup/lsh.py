"""Batch functions of the MinHash-LSH step: documents -> band rows, candidate pairs -> verified pairs.

They take and yield pyarrow record batches, so the Spark job applies them with mapInArrow and
tests call them directly. Documents are named by `node`, a 64-bit integer id (the dedup job
uses xxhash64 of the document id: connected components work on integers).
"""
from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np
import pyarrow as pa

from dedup.minhash import MinHasher, band_keys, batch_shingle_hashes, jaccard
from pipeline.config import MinHashConfig
from pipeline.text import segmentation_for

BAND_SCHEMA = pa.schema([pa.field("node", pa.int64()), pa.field("band", pa.int32()), pa.field("key", pa.int64())])
PAIR_SCHEMA = pa.schema([pa.field("src", pa.int64()), pa.field("dst", pa.int64()),
                         pa.field("jaccard", pa.float32())])


def band_rows(batches: Iterable[pa.RecordBatch], config: MinHashConfig, bands: int, rows: int,
              segmentation: dict[str, str]) -> Iterator[pa.RecordBatch]:
    """(node, band, key) for every band of every document with at least one shingle.

    Input columns: node, text, lang. Documents without words have no signature and no rows: they
    cannot be near-duplicates of anything (exact dedup handles identical empty texts).
    """
    hasher = MinHasher(config.num_perm, config.seed, config.scheme)
    for batch in batches:
        segmentations = [segmentation_for(lang, segmentation) for lang in batch.column("lang").to_pylist()]
        texts = [text or "" for text in batch.column("text").to_pylist()]
        signatures, empty = hasher.sign_texts(texts, segmentations, config.word_ngram, config.char_ngram)
        keys = band_keys(signatures[~empty], bands, rows)
        nodes = batch.column("node").to_numpy(zero_copy_only=False)[~empty]
        yield pa.record_batch([
            pa.array(np.repeat(nodes, bands)),
            pa.array(np.tile(np.arange(bands, dtype=np.int32), len(nodes))),
            pa.array(keys.ravel().view(np.int64)),   # Spark has no unsigned type; equality is all we need
        ], schema=BAND_SCHEMA)


def verified_pairs(batches: Iterable[pa.RecordBatch], config: MinHashConfig,
                   segmentation: dict[str, str]) -> Iterator[pa.RecordBatch]:
    """Candidate pairs with their exact Jaccard similarity (on the same shingles the signatures
    saw), keeping those at or above the threshold.

    Input columns: src, dst, src_text, src_lang, dst_text, dst_lang. A document is shingled once
    per batch however many pairs it is in (the join feeds pairs grouped by dst, so a bucket's
    centre or a cluster's members recur).
    """
    for batch in batches:
        count = batch.num_rows
        nodes = np.concatenate([batch.column("src").to_numpy(), batch.column("dst").to_numpy()])
        unique, first, inverse = np.unique(nodes, return_index=True, return_inverse=True)
        texts = batch.column("src_text").to_pylist() + batch.column("dst_text").to_pylist()
        langs = batch.column("src_lang").to_pylist() + batch.column("dst_lang").to_pylist()
        hashes, offsets = batch_shingle_hashes([texts[i] or "" for i in first],
                                               [segmentation_for(langs[i], segmentation) for i in first],
                                               config.word_ngram, config.char_ngram)
        shingles = [hashes[offsets[k]:offsets[k + 1]] for k in range(len(unique))]
        similarity = np.array([jaccard(shingles[inverse[i]], shingles[inverse[count + i]]) for i in range(count)],
                              dtype=np.float32)
        keep = pa.array(similarity >= config.threshold)
        yield pa.record_batch([batch.column("src").filter(keep), batch.column("dst").filter(keep),
                               pa.array(similarity[similarity >= config.threshold])], schema=PAIR_SCHEMA)
