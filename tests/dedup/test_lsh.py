"""The LSH batch functions: band rows per document, exact-Jaccard verification of pairs."""
import random

import numpy as np
import pyarrow as pa

from dedup.lsh import band_rows, verified_pairs
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
