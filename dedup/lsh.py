"""Batch functions of the MinHash-LSH step: documents -> band rows, candidate pairs -> verified pairs.

They take and yield pyarrow record batches, so the Spark job applies them with mapInArrow and
tests call them directly. Documents are named by `node`, a 64-bit integer id (the dedup job
uses xxhash64 of the document id: connected components work on integers).

Two verifications, with the same result: `verified_groups` (the default, dedup.minhash.verify_by
'shingles') reads a partition holding each needed document's text once followed by the candidate
pairs of that partition, so a document's text travels once per partition that needs it however
many pairs it is in; `verified_pairs` ('text', the former path, kept for comparison) reads both
texts on every pair row.
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
# verified_groups' input: a document's text (kind 0: src = its node, dst null) or a candidate pair
# (kind 1: src, dst; text and lang null), every document row of a partition before its pairs.
GROUP_SCHEMA = pa.schema([pa.field("kind", pa.int8()), pa.field("src", pa.int64()), pa.field("dst", pa.int64()),
                          pa.field("text", pa.string()), pa.field("lang", pa.string())])
DOCUMENT_ROW, PAIR_ROW = 0, 1


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


def verified_groups(batches: Iterable[pa.RecordBatch], config: MinHashConfig,
                    segmentation: dict[str, str]) -> Iterator[pa.RecordBatch]:
    """The candidate pairs of one partition with their exact Jaccard similarity, keeping those at
    or above the threshold: the result `verified_pairs` gives for the same pairs.

    Input columns: GROUP_SCHEMA's, sorted so that the partition's document rows (the text of
    every document its pairs name, possibly more than once) come before its pair rows. Each
    document is shingled once as it arrives and kept as its set of shingle hashes; each pair is
    then compared from those sets. A pair naming a document the partition did not receive is a
    bug upstream (a lost document): it raises rather than pass for a non-duplicate.
    """
    shingles: dict[int, np.ndarray] = {}
    for batch in batches:
        kinds = batch.column("kind").to_numpy(zero_copy_only=False)
        documents = batch.filter(pa.array(kinds == DOCUMENT_ROW))
        if documents.num_rows:
            langs = documents.column("lang").to_pylist()
            hashes, offsets = batch_shingle_hashes([text or "" for text in documents.column("text").to_pylist()],
                                                   [segmentation_for(lang, segmentation) for lang in langs],
                                                   config.word_ngram, config.char_ngram)
            for k, node in enumerate(documents.column("src").to_pylist()):
                shingles[node] = np.unique(hashes[offsets[k]:offsets[k + 1]])
        pairs = batch.filter(pa.array(kinds == PAIR_ROW))
        if not pairs.num_rows:
            continue
        src, dst = pairs.column("src").to_pylist(), pairs.column("dst").to_pylist()
        missing = [node for node in {*src, *dst} if node not in shingles]
        if missing:
            raise RuntimeError(f"verification: {len(missing)} document(s) of this partition's candidate pairs "
                               f"never arrived (e.g. node {missing[0]}); rows must come documents first")
        similarity = np.array([_jaccard_of_sets(shingles[a], shingles[b]) for a, b in zip(src, dst)],
                              dtype=np.float32)
        keep = similarity >= config.threshold
        yield pa.record_batch([pairs.column("src").filter(pa.array(keep)), pairs.column("dst").filter(pa.array(keep)),
                               pa.array(similarity[keep])], schema=PAIR_SCHEMA)


def _jaccard_of_sets(a: np.ndarray, b: np.ndarray) -> float:
    """jaccard() of two arrays already unique and sorted (np.unique's output)."""
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return inter / union if union else 0.0
