"""The LSH batch functions: band rows per document, exact-Jaccard verification of pairs."""
import random

import numpy as np
import pyarrow as pa
import pytest

from dedup.lsh import (DOCUMENT_ROW, GROUP_SCHEMA, PAIR_ROW, PAIR_SCHEMA, band_rows, verified_groups,
                       verified_pairs)
from dedup.minhash import jaccard, shingle_hashes
from pipeline.config import MinHashConfig
from tests.dedup.corpus import substitute, text_of, words

SEGMENTATION = {"default": "whitespace", "zh": "chars"}


def test_band_rows_one_row_per_band_and_none_for_empty_documents():
    rng = random.Random(1)
    base = words(rng, 200)
    texts = [text_of(base), text_of(substitute(rng, base, [50])), "", text_of(words(rng, 200)), "!!! ..."]
    batch = pa.record_batch({"node": pa.array([10, 11, 12, 13, 14], pa.int64()), "text": texts,
                             "lang": ["en", "en", "en", "en", "en"]})
    out = pa.Table.from_batches(list(band_rows([batch], MinHashConfig(), bands=14, rows=9,
                                               segmentation=SEGMENTATION)))
    nodes = out.column("node").to_numpy()
    assert sorted(set(nodes)) == [10, 11, 13]          # the two documents without words have no rows
    assert all((nodes == n).sum() == 14 for n in (10, 11, 13))
    keys = {n: dict(zip(out.column("band").to_numpy()[nodes == n], out.column("key").to_numpy()[nodes == n]))
            for n in (10, 11, 13)}
    shared = sum(keys[10][b] == keys[11][b] for b in range(14))
    assert shared >= 1                                  # J ~0.95: nearly every band agrees
    assert sum(keys[10][b] == keys[13][b] for b in range(14)) == 0


def test_verification_keeps_pairs_at_or_above_the_threshold_only():
    rng = random.Random(2)
    base = words(rng, 300)
    close = text_of(substitute(rng, base, [30, 200]))
    far = text_of(base[:150] + words(rng, 150))
    expected_close = jaccard(shingle_hashes(text_of(base)), shingle_hashes(close))
    batch = pa.record_batch({"src": pa.array([2, 3], pa.int64()), "dst": pa.array([1, 1], pa.int64()),
                             "src_text": [close, far], "src_lang": ["en", "en"],
                             "dst_text": [text_of(base)] * 2, "dst_lang": ["en", "en"]})
    out = pa.Table.from_batches(list(verified_pairs([batch], MinHashConfig(threshold=0.8), SEGMENTATION)))
    assert out.column("src").to_pylist() == [2] and out.column("dst").to_pylist() == [1]
    assert np.isclose(out.column("jaccard")[0].as_py(), expected_close, atol=1e-6)
    assert expected_close > 0.85


def _group_rows(documents: dict[int, tuple[str, str]], pairs: list[tuple[int, int]]) -> pa.RecordBatch:
    """verified_groups' input: every document once, then the pairs."""
    nodes = list(documents)
    return pa.record_batch({
        "kind": pa.array([DOCUMENT_ROW] * len(nodes) + [PAIR_ROW] * len(pairs), pa.int8()),
        "src": pa.array(nodes + [a for a, _ in pairs], pa.int64()),
        "dst": pa.array([None] * len(nodes) + [b for _, b in pairs], pa.int64()),
        "text": [documents[n][0] for n in nodes] + [None] * len(pairs),
        "lang": [documents[n][1] for n in nodes] + [None] * len(pairs)}, schema=GROUP_SCHEMA)


def test_grouped_verification_equals_the_per_pair_one():
    rng = random.Random(4)
    base, han = words(rng, 300), "".join(chr(0x4E00 + rng.randrange(3000)) for _ in range(300))
    documents = {1: (text_of(base), "en"), 2: (text_of(substitute(rng, base, [30, 200])), "en"),
                 3: (text_of(base[:150] + words(rng, 150)), "en"), 4: (text_of(substitute(rng, base, [5])), "en"),
                 5: (han, "zh"), 6: (han[:100] + "的" + han[101:], "zh"), 7: ("", "en")}
    pairs = [(2, 1), (3, 1), (4, 1), (4, 2), (6, 5), (7, 1), (5, 1)]
    config = MinHashConfig(threshold=0.8)
    per_pair = pa.record_batch({
        "src": pa.array([a for a, _ in pairs], pa.int64()), "dst": pa.array([b for _, b in pairs], pa.int64()),
        "src_text": [documents[a][0] for a, _ in pairs], "src_lang": [documents[a][1] for a, _ in pairs],
        "dst_text": [documents[b][0] for _, b in pairs], "dst_lang": [documents[b][1] for _, b in pairs]})
    expected = pa.Table.from_batches(list(verified_pairs([per_pair], config, SEGMENTATION)))
    # Documents and pairs spread over several batches, a document sent twice: the same pairs and values.
    rows = _group_rows(documents, pairs)
    batches = [rows.slice(0, 3), rows.slice(3, 4), _group_rows({1: documents[1]}, []), rows.slice(7)]
    grouped = pa.Table.from_batches(list(verified_groups(batches, config, SEGMENTATION)), schema=PAIR_SCHEMA)
    assert grouped.to_pylist() == expected.to_pylist()
    assert sorted(grouped.column("src").to_pylist()) == [2, 4, 4, 6]


def test_grouped_verification_refuses_a_pair_without_its_documents():
    rows = _group_rows({1: ("some words here and there again", "en")}, [(2, 1)])
    with pytest.raises(RuntimeError, match="never arrived"):
        list(verified_groups([rows], MinHashConfig(), SEGMENTATION))
