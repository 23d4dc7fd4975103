"""SemDeDup's decision inside one k-means cluster (Abbas et al. 2023, "SemDeDup: data-efficient
learning at web scale through semantic deduplication").

The documents of a cluster come sorted by keep priority (row 0 is the one most wanted). A
document is a semantic duplicate when some more-preferred document of its cluster has cosine
similarity above 1 - eps with it; it is then removed in favour of the most similar of those.
As in the paper, the test is against every earlier document, removed or not, so the outcome
does not depend on the order of removals: two documents at 0.96 with a third both go.

Also the numpy pieces of the k-means tree that makes the clusters (semantic_spark.py): a seeded
spherical k-means fitted on a sample, and the nearest-centroid assignment.

numpy only: the Spark step (embedding, the tree, grouping by cluster) lives in semantic_spark.py.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse


def near_duplicates(embeddings: np.ndarray, eps: float, block: int = 1024
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(is_duplicate, duplicate_of, max_similarity) of rows sorted by keep priority.

    Row j is a duplicate when max over i < j of cos(i, j) > 1 - eps; duplicate_of[j] is the
    first row reaching that maximum (-1 when j is not a duplicate), max_similarity[j] the
    maximum itself (NaN when j has no earlier row to compare with). Rows are normalised here; an
    all-zero row (an empty document) is never a duplicate nor anyone's target, and its
    max_similarity is NaN. Rows are compared `block` at a time against all rows before them:
    O(block * n) memory and n^2 / 2 multiply-adds.
    """
    vectors = np.asarray(embeddings, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"embeddings must be a (documents, dim) matrix, got shape {vectors.shape}")
    if block < 1:
        raise ValueError(f"block must be >= 1, got {block}")
    n = len(vectors)
    norms = np.linalg.norm(vectors, axis=1)
    present = norms > 0
    unit = np.divide(vectors, norms[:, None], out=np.zeros_like(vectors), where=present[:, None])
    # Compared in float32, as the similarities are: 1 - eps in float64 would put a similarity
    # that equals it in float32 on the wrong side.
    threshold = np.float32(1.0 - eps)
    best = np.full(n, np.nan, dtype=np.float32)
    target = np.full(n, -1, dtype=np.int64)
    for lo in range(0, n, block):
        hi = min(lo + block, n)
        similarity = unit[lo:hi] @ unit[:hi].T                     # (rows lo..hi) x (rows 0..hi)
        # Only earlier, non-empty rows count: row lo + r sees columns < lo + r.
        later = np.arange(hi)[None, :] >= np.arange(lo, hi)[:, None]
        similarity[later | ~present[None, :hi]] = -np.inf
        first = np.argmax(similarity, axis=1)                      # the first of equal maxima
        top = similarity[np.arange(hi - lo), first]
        seen = np.isfinite(top) & present[lo:hi]
        best[lo:hi][seen] = top[seen]
        target[lo:hi][seen] = first[seen]
    is_duplicate = best > threshold                                # NaN compares False
    duplicate_of = np.where(is_duplicate, target, -1)
    return is_duplicate, duplicate_of, best


# ---------------------------------------------------------------- the k-means tree's pieces

def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (all-zero rows stay zero), float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def fit_kmeans(vectors: np.ndarray, k: int, max_iter: int, seed: int | list[int]) -> np.ndarray:
    """Spherical k-means (cosine) of the rows: (k', dim) unit centroids, k' = min(k, rows).

    k-means++ seeding (Arthur and Vassilvitskii 2007, on 1 - cosine) with a numpy generator seeded
    by `seed`, then Lloyd iterations (assign each row to its most similar centroid, move each
    centroid to its members' normalised mean) until nothing moves or `max_iter`. A centroid left
    without members keeps its place. Deterministic: the same rows in the same order and the same
    seed give the same centroids.
    """
    unit = unit_rows(vectors)
    n = len(unit)
    if n == 0 or k < 1:
        return np.zeros((0, unit.shape[1] if unit.ndim == 2 else 0), dtype=np.float32)
    k = min(k, n)
    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(n))]
    distance = np.maximum(1.0 - unit @ unit[chosen[0]], 0.0).astype(np.float64)
    for _ in range(1, k):
        total = distance.sum()
        # All remaining rows equal to some centroid: any row will do (it adds an empty cell).
        pick = int(rng.choice(n, p=distance / total)) if total > 0 else int(rng.integers(n))
        chosen.append(pick)
        distance = np.minimum(distance, np.maximum(1.0 - unit @ unit[pick], 0.0))
    centroids = unit[chosen].copy()
    assignment = np.full(n, -1, dtype=np.int64)
    for _ in range(max_iter):
        nearest = np.argmax(unit @ centroids.T, axis=1)
        if np.array_equal(nearest, assignment):
            break
        assignment = nearest
        members = sparse.csr_matrix((np.ones(n, dtype=np.float64), (assignment, np.arange(n))), shape=(k, n))
        sums = np.asarray(members @ unit.astype(np.float64))
        moved = np.linalg.norm(sums, axis=1) > 0
        centroids[moved] = unit_rows(sums[moved].astype(np.float32))
    return centroids


def nearest_centroid(vectors: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of each row's most similar centroid (the first of equal ones)."""
    return np.argmax(unit_rows(vectors) @ np.asarray(centroids, dtype=np.float32).T, axis=1)
