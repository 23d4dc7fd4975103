"""Llama 3's token-distribution outlier filter: KL divergence of a document's tokens from the corpus.

Llama 3 (Dubey et al. 2024, §3.1.1) drops "documents containing excessive numbers of outlier
tokens compared to the training corpus distribution". Tokens here are lowercased words (or
characters for space-less scripts) hashed into `buckets` bins, so the corpus distribution is a
fixed-size vector: summed over the corpus by Spark (`token_histogram`), or loaded from a saved
reference (`options.reference`, a .npy file written by an earlier run).

score: `kl` = KL(document || corpus) in nats, with a small pseudo-count on the corpus bins.
keep: `max_kl` by value; the job turns a percentile (`drop_top_percent`) into a value with
Spark's approximate quantiles before calling keep.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from filters.base import Batch, DocumentFilter, FilterConfigError, Scores
from filters.registry import register
from pipeline.text import segmentation_for, words

DEFAULT_BUCKETS = 1 << 16
_PSEUDO_COUNT = 0.01


# Bucket of each token seen lately, per bucket count: most tokens of a document are frequent
# words, so a lookup replaces encoding and hashing them again. Cleared when it grows past the cap.
_BUCKET_CACHE: dict[int, dict[str, int]] = {}
_BUCKET_CACHE_TOKENS = 500_000


def token_buckets(text: str, segmentation: str, buckets: int) -> np.ndarray:
    """Bucket index of every token: crc32 is stable across processes, unlike hash()."""
    tokens = words(text.lower(), segmentation)
    known = _BUCKET_CACHE.setdefault(buckets, {})
    if len(known) > _BUCKET_CACHE_TOKENS:
        known.clear()
    for token in set(tokens).difference(known):
        known[token] = zlib.crc32(token.encode("utf-8")) % buckets
    return np.fromiter(map(known.__getitem__, tokens), dtype=np.int64, count=len(tokens))


def token_histogram(texts, langs, segmentation: dict[str, str], buckets: int = DEFAULT_BUCKETS) -> np.ndarray:
    """Summed bucket counts of a batch of documents; Spark adds these up over partitions."""
    ids = [token_buckets(text, segmentation_for(lang, segmentation), buckets)
           for text, lang in zip(texts, langs) if text]
    if not ids:
        return np.zeros(buckets, dtype=np.float64)
    return np.bincount(np.concatenate(ids), minlength=buckets).astype(np.float64)


def load_reference(path: str | Path) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise FilterConfigError(f"token_outlier_v1: reference distribution not found: {path}")
    counts = np.load(path)
    if counts.ndim != 1 or counts.size < 2:
        raise FilterConfigError(f"token_outlier_v1: {path} is not a 1-D token histogram")
    return counts.astype(np.float64)


@register
class TokenOutlierFilter(DocumentFilter):
    name = "token_outlier_v1"
    prefix = "token_outlier"

    @dataclass(frozen=True)
    class Thresholds:
        # Llama 3 publishes no value, so the rule is off by default: set a value, or prefer
        # options.drop_top_percent, which adapts to the corpus.
        max_kl: float | None = None

    OPTIONS = {"buckets": int, "reference": (str, Path), "distribution": object,
               "drop_top_percent": (int, float), "min_tokens": int}

    def __init__(self, options=None):
        super().__init__(options)
        # The raw table, not the base class's (defaults filled in): the job builds the corpus
        # histogram from the job's table as given, and both must bucket tokens alike.
        self.segmentation = self.options.get("segmentation", {})
        self.min_tokens = int(self.options.get("min_tokens", 20))
        distribution = self.options.get("distribution")
        if distribution is None and self.options.get("reference"):
            distribution = load_reference(self.options["reference"])
        self.log_q = None if distribution is None else _log_probabilities(np.asarray(distribution, np.float64))
        self.buckets = len(distribution) if distribution is not None else int(self.options.get("buckets",
                                                                                               DEFAULT_BUCKETS))

    def score(self, batch: Batch) -> Scores:
        if self.log_q is None:
            raise FilterConfigError("token_outlier_v1 needs a corpus distribution: the filter job computes one, "
                                    "or set filter.options.token_outlier_v1.reference to a saved .npy file")
        kl = np.full(len(batch), np.nan)
        for i, (text, lang) in enumerate(zip(batch.texts, batch.langs)):
            ids = token_buckets(text or "", segmentation_for(lang, self.segmentation), self.buckets)
            if len(ids) < self.min_tokens:
                continue  # too short for a meaningful distribution: NaN never fails a rule
            present, counts = np.unique(ids, return_counts=True)   # the buckets present, ascending
            p = counts / len(ids)
            kl[i] = float(np.sum(p * (np.log(p) - self.log_q[present])))
        return {"kl": kl}


def _log_probabilities(counts: np.ndarray) -> np.ndarray:
    # A small pseudo-count: bins never seen in the corpus are what make a document an outlier,
    # so they must stay improbable, yet finite.
    smoothed = counts + _PSEUDO_COUNT
    return np.log(smoothed / smoothed.sum())
