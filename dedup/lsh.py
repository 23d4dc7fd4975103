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

    Input columns: src, dst, src_text, src_lang, dst_text, dst_lang.
    """
    for batch in batches:
        count = batch.num_rows
        texts = batch.column("src_text").to_pylist() + batch.column("dst_text").to_pylist()
        langs = batch.column("src_lang").to_pylist() + batch.column("dst_lang").to_pylist()
        segmentations = [segmentation_for(lang, segmentation) for lang in langs]
        hashes, offsets = batch_shingle_hashes([t or "" for t in texts], segmentations,
                                               config.word_ngram, config.char_ngram)
        similarity = np.array([jaccard(hashes[offsets[i]:offsets[i + 1]],
                                        hashes[offsets[count + i]:offsets[count + i + 1]])
                               for i in range(count)], dtype=np.float32)
        keep = similarity >= config.threshold
        yield pa.record_batch([batch.column("src").filter(pa.array(keep)), batch.column("dst").filter(pa.array(keep)),
                               pa.array(similarity[keep])], schema=PAIR_SCHEMA)

