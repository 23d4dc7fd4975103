"""MinHash signatures and LSH band keys for near-duplicate detection, a batch at a time.

Shingles are n-grams of pipeline.text.words() over the lowercased text: word 5-grams for spaced
languages, 5-grams of characters for 'chars' languages (each CJK/Thai character is one word
there). Each shingle hashes to 32 bits. A document with fewer than n words gets one shingle of
all its words, so short documents still get a signature; one with no words gets none: its
signature is all 0xFFFFFFFF and it is flagged in the `empty` mask (it must not join duplicate
clusters: every empty document would collide with every other).

A signature holds, per permutation i, the minimum of h_i(x) over the document's shingle hashes
x, so P[sig_a[i] == sig_b[i]] = Jaccard(a, b). The whole batch goes through numpy at once: one
(permutations x shingles) matrix per chunk, reduced by document offsets. LSH cuts a signature
into `bands` bands of `rows` rows; two documents become candidates when any band's key agrees,
which happens with probability 1 - (1 - J^rows)^bands (the S-curve `optimal_bands` tunes).

numpy only: the Spark job (and its groupBy on (band, key)) lives elsewhere.
"""
from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Sequence

import numpy as np

from pipeline.config import MINHASH_SCHEMES
from pipeline.text import words

MERSENNE_61 = (1 << 61) - 1
EMPTY_HASH = np.uint32(0xFFFFFFFF)   # signature value of a document without shingles
DEFAULT_NUM_PERM = 128
SCHEMES = MINHASH_SCHEMES
_SEP = "\x01"                        # joins words; never part of one (words are \w runs)
_U64 = np.uint64
_MASK32 = _U64(0xFFFFFFFF)
_P = _U64(MERSENNE_61)


def optimal_bands(threshold: float = 0.8, num_perm: int | None = None,
                  false_positive_weight: float = 0.5,
                  false_negative_weight: float = 0.5) -> tuple[int, int, int]:
    """(num_perm, bands, rows) minimising the weighted false positive/negative areas under the
    S-curve, by datasketch's own search (MinHashLSH's choice, so results compare)."""
    # 128 permutations (datasketch's default; FineWeb uses 112): the Jaccard estimate's standard
    # error is at most 0.044, plenty to separate 0.8 from 0.5, while the 128 x 4-byte
    # signature (512 B per document) keeps the shuffle small.
    num_perm = DEFAULT_NUM_PERM if num_perm is None else num_perm
    bands, rows = _optimal_param(threshold, num_perm, false_positive_weight, false_negative_weight)
    return num_perm, bands, rows


@lru_cache(maxsize=64)
def _optimal_param(threshold: float, num_perm: int, fp_weight: float, fn_weight: float):
    from datasketch.lsh import _optimal_param as search  # scipy-backed, so imported on demand
    return search(threshold, num_perm, fp_weight, fn_weight)


def collision_probability(jaccard_value: float, bands: int, rows: int) -> float:
    """The S-curve: probability that two documents at this Jaccard share at least one band."""
    return 1.0 - (1.0 - jaccard_value ** rows) ** bands


# ---------------------------------------------------------------- shingles

def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: every output bit depends on every input bit."""
    h = h ^ (h >> _U64(33))
    h *= _U64(0xFF51AFD7ED558CCD)
    h ^= h >> _U64(33)
    h *= _U64(0xC4CEB93FE53B8A63)
    return h ^ (h >> _U64(33))


_BASE = 0x9E3779B97F4A7C15                   # odd, so it is invertible modulo 2^64
_BASE_INV = pow(_BASE, -1, 1 << 64)


def _powers(base: int, count: int) -> np.ndarray:
    """base^0 .. base^(count-1) modulo 2^64 (numpy's uint64 products wrap, which is the modulo)."""
    out = np.full(count, base, dtype=_U64)
    out[:1] = 1
    return np.cumprod(out, dtype=_U64)


def _power_tables(base: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """base^(p mod 1024) and (base^1024)^(p div 1024) for p < count: two short cumprods instead of
    one as long as the batch's text (a sequential scan, the slowest step when it was one)."""
    return _powers(base, 1024), _powers(pow(base, 1024, 1 << 64), (count >> 10) + 1)


def _all_powers(base: int, count: int) -> np.ndarray:
    """base^0 .. base^(count-1) modulo 2^64, as the ravelled outer product of the two tables."""
    low, high = _power_tables(base, count)
    return (high[:, None] * low[None, :]).ravel()[:count]


def _powers_at(base: int, positions: np.ndarray, count: int) -> np.ndarray:
    """base^p modulo 2^64 for each p in positions (all below count)."""
    low, high = _power_tables(base, count)
    return low[positions & 1023] * high[positions >> 10]


def batch_shingle_hashes(texts: Sequence[str], segmentations: str | Sequence[str] = "whitespace",
                         word_n: int = 5, char_n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """32-bit shingle hashes of every document, concatenated, and offsets (len(texts) + 1).

    Python only lowercases and splits (one regex pass per text); the hashing is vectorised over
    the whole batch. A shingle's hash is a polynomial hash of its characters (words joined by
    \\x01) normalised to its own start, H = sum c_j B^(j - start) mod 2^64 taken from one prefix
    sum, then mixed and cut to its high 32 bits: it depends only on the shingle's text, never on
    the batch or the position (so signatures do not depend on how documents are batched).
    Memory: ~32 bytes per character of the batch; feed batches of bounded size (Arrow's).
    """
    if isinstance(segmentations, str):
        segmentations = [segmentations] * len(texts)
    doc_words = [words(text.lower(), seg) for text, seg in zip(texts, segmentations)]
    counts = np.fromiter((len(w) for w in doc_words), dtype=np.int64, count=len(doc_words))
    ns = np.array([char_n if seg == "chars" else word_n for seg in segmentations], dtype=np.int64)
    if min(word_n, char_n) < 1:
        raise ValueError("shingle sizes must be >= 1")
    joined = _SEP.join(itertools.chain.from_iterable(doc_words))
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(_U64)
    # Word i spans characters [starts[i], ends[i]) of `joined`.
    seps = np.flatnonzero(codes == ord(_SEP))
    starts = np.concatenate(([0], seps + 1)) if len(codes) else np.zeros(0, np.int64)
    ends = np.concatenate((seps, [len(codes)])) if len(codes) else np.zeros(0, np.int64)
    # Shingles per document: count - n + 1, or one (all words) when shorter than n, or none.
    widths = np.minimum(ns, counts)
    per_doc = np.where(counts > 0, counts - widths + 1, 0)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(per_doc, out=offsets[1:])
    first_word = np.repeat(np.cumsum(counts) - counts, per_doc)
    first_word += np.arange(offsets[-1]) - np.repeat(offsets[:-1], per_doc)
    last_word = first_word + np.repeat(widths, per_doc) - 1
    lo, hi = starts[first_word], ends[last_word]
    prefix = np.zeros(len(codes) + 1, dtype=_U64)
    np.cumsum(codes * _all_powers(_BASE, len(codes)), out=prefix[1:])
    span = (prefix[hi] - prefix[lo]) * _powers_at(_BASE_INV, lo, len(codes) + 1)
    return (_fmix64(span) >> _U64(32)).astype(np.uint32), offsets


def shingle_hashes(text: str, n: int = 5, segmentation: str = "whitespace") -> np.ndarray:
    """uint32 hashes of one text's n-gram shingles (n words, or n characters for 'chars'), in
    text order, duplicates kept; equal to that document's slice of batch_shingle_hashes."""
    hashes, _ = batch_shingle_hashes([text], segmentation, word_n=n, char_n=n)
    return hashes


def jaccard(a_shingles, b_shingles) -> float:
    """Exact Jaccard similarity of two shingle collections (hash arrays or any hashables), for
    verifying LSH candidates. Two empty documents score 0.0: nothing to call a duplicate."""
    a, b = np.unique(np.asarray(a_shingles)), np.unique(np.asarray(b_shingles))
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return inter / union if union else 0.0


# ---------------------------------------------------------------- signatures

def _permute_mersenne61(x: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """(a*x + b) mod (2^61 - 1) exactly into `out`, a (perm, shingle) uint64 matrix. x < 2^32 and
    a < 2^61 make a 93-bit product, so a is split at bit 32: a*x = a_hi*x*2^32 + a_lo*x, and
    multiplying by 2^32 modulo 2^61 - 1 rotates 61 bits. (datasketch's legacy scheme lets the
    uint64 product wrap and folds to 32 bits before the min: together they biased its
    estimates on large sets, datasketch issue #212.)"""
    a_lo, a_hi = (a & _MASK32)[:, None], (a >> _U64(32))[:, None]
    np.multiply(a_hi, x, out=out)                       # < 2^61
    low = a_lo * x                                      # < 2^64
    carry = out >> _U64(29)
    out <<= _U64(32)
    out &= _P
    out |= carry                                        # a_hi*x*2^32 mod p
    np.right_shift(low, _U64(61), out=carry)
    out += carry
    low &= _P
    out += low
    out += b[:, None]                                   # < 2^63: no wrap
    np.right_shift(out, _U64(61), out=carry)
    out &= _P
    out += carry                                        # < 2^61 + 3
    # Fold the last few non-canonical values; without it 0..2 could sort as p..p+2.
    np.subtract(out, _P, out=out, where=out >= _P)
    return out


def _permute_affine32(x: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """(a*x + b) mod 2^32 with odd a into `out`, a (perm, shingle) uint32 matrix: datasketch
    2.0's default scheme. An odd a makes each h_i a bijection of the 32-bit values, so distinct
    shingles never merge (the legacy fold to 32 bits did merge them); the inputs are already
    well-mixed hashes, so the min is equally likely to land on any shingle. uint32 lanes: ~10x
    faster than the two 64-bit products mersenne61 needs."""
    np.multiply(a[:, None], x, out=out)
    out += b[:, None]
    return out


class MinHasher:
    """MinHash signatures for batches. The same (num_perm, seed, scheme) gives the same
    signatures in any process and any batch split.

    scheme: 'affine32' (default) is h_i(x) = (a_i*x + b_i) mod 2^32, a_i odd; 'mersenne61' is
    the classic h_i(x) = (a_i*x + b_i) mod (2^61 - 1) (Broder; datasketch before 2.0), exact,
    ~10x slower. Both estimate Jaccard without bias and with binomial variance (see the tests);
    signatures of different schemes or seeds do not compare.
    """

    def __init__(self, num_perm: int = DEFAULT_NUM_PERM, seed: int = 1, scheme: str = "affine32",
                 chunk_shingles: int | None = None):
        if scheme not in SCHEMES:
            raise ValueError(f"unknown scheme {scheme!r} (known: {', '.join(SCHEMES)})")
        self.num_perm, self.seed, self.scheme = num_perm, seed, scheme
        # Chunks of ~2 MiB per (perm x shingle) temporary (mersenne61 holds several uint64 ones):
        # big enough to amortise numpy's per-call cost, small enough to stay in cache (measured:
        # 4x larger chunks run ~1.5x slower).
        elements = (1 << 19) if scheme == "affine32" else (1 << 17)
        self.chunk_shingles = chunk_shingles or max(1, elements // num_perm)
        # One stream per scheme: with a shared seed the schemes' a_i came out related.
        rng = np.random.default_rng([seed, SCHEMES.index(scheme)])
        if scheme == "affine32":
            self._dtype, self._permute = np.uint32, _permute_affine32
            self._a = rng.integers(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
            self._b = rng.integers(0, 1 << 32, num_perm, dtype=np.uint32, endpoint=False)
        else:
            self._dtype, self._permute = _U64, _permute_mersenne61
            self._a = rng.integers(1, MERSENNE_61, num_perm, dtype=_U64)
            self._b = rng.integers(0, MERSENNE_61, num_perm, dtype=_U64)

    def signatures(self, hashes: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(uint32 signatures (num_docs, num_perm), empty mask) from batch_shingle_hashes output.

        Shingles are processed in chunks of `chunk_shingles` across document boundaries; within
        a chunk each document is one contiguous segment, so one minimum.reduceat gives every
        document's partial minimum, merged into the running signature.
        """
        offsets = np.asarray(offsets, dtype=np.int64)
        starts, ends = offsets[:-1], offsets[1:]
        empty = ends == starts
        best = np.full((self.num_perm, len(starts)), np.iinfo(self._dtype).max, dtype=self._dtype)
        x_all = np.asarray(hashes).astype(self._dtype)
        # One work matrix per call, reused by every chunk: a fresh one per chunk costs ~30% in
        # page faults. Per call, not per instance, so threads may share a MinHasher.
        work = np.empty((self.num_perm, min(self.chunk_shingles, len(x_all))), dtype=self._dtype)
        for lo in range(0, len(x_all), self.chunk_shingles):
            hi = min(lo + self.chunk_shingles, len(x_all))
            # Documents overlapping [lo, hi): offsets are sorted, so two binary searches.
            docs = np.arange(np.searchsorted(ends, lo, "right"), np.searchsorted(starts, hi, "left"))
            docs = docs[~empty[docs]]
            values = self._permute(x_all[lo:hi], self._a, self._b, work[:, :hi - lo])
            mins = np.minimum.reduceat(values, np.maximum(starts[docs], lo) - lo, axis=1)
            best[:, docs] = np.minimum(best[:, docs], mins)
        # mersenne61 minima are uniform below 2^61: their low 32 bits are as good as any.
        signatures = np.ascontiguousarray((best & self._dtype(0xFFFFFFFF)).T.astype(np.uint32))
        signatures[empty] = EMPTY_HASH
        return signatures, empty

    def sign_texts(self, texts: Sequence[str], segmentations: str | Sequence[str] = "whitespace",
                   word_n: int = 5, char_n: int = 5) -> tuple[np.ndarray, np.ndarray]:
        """Shingle and sign a batch of texts: (signatures, empty mask)."""
        return self.signatures(*batch_shingle_hashes(texts, segmentations, word_n, char_n))


# ---------------------------------------------------------------- LSH bands

def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(num_docs, bands) uint64 keys, one per band of `rows` signature values; equal bands give
    equal keys, different ones collide with probability ~2^-64. Group on (band index, key).
    Signature values past bands*rows are unused, as in datasketch's MinHashLSH."""
    signatures = np.asarray(signatures)
    if bands * rows > signatures.shape[1]:
        raise ValueError(f"{bands} bands x {rows} rows need {bands * rows} permutations, "
                         f"signatures have {signatures.shape[1]}")
    cube = signatures[:, :bands * rows].reshape(len(signatures), bands, rows).astype(_U64)
    key = np.full(cube.shape[:2], rows, dtype=_U64)
    for row in range(rows):                # rows is small; each step is vectorised over docs
        key = _fmix64(key * _U64(_BASE) + cube[:, :, row])
    return key
