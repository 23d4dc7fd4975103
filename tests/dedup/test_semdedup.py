"""SemDeDup's in-cluster decision on hand-made vectors, and its blocked computation against a
brute-force reference."""
import numpy as np
import pytest

from dedup.semdedup import fit_kmeans, near_duplicates, nearest_centroid


def unit(*values):
    v = np.array(values, dtype=np.float64)
    return v / np.linalg.norm(v)


def at_angle(cos):
    """A unit vector in the (x, y) plane at cosine `cos` to (1, 0, 0)."""
    return np.array([cos, np.sqrt(1 - cos * cos), 0.0])


def brute_force(vectors, eps):
    """The definition, pair by pair in float64."""
    n = len(vectors)
    norms = np.linalg.norm(vectors, axis=1)
    dup, of, best = np.zeros(n, bool), np.full(n, -1), np.full(n, np.nan)
    for j in range(n):
        if norms[j] == 0:
            continue
        sims = [(vectors[i] @ vectors[j] / (norms[i] * norms[j]), i) for i in range(j) if norms[i] > 0]
        if sims:
            top = max(s for s, _ in sims)
            best[j] = top
            if top > 1 - eps:
                dup[j], of[j] = True, min(i for s, i in sims if s == top)
    return dup, of, best


def test_known_duplicates_point_at_their_most_similar_earlier_row():
    x, y, z = np.eye(3)
    vectors = np.array([x, y, at_angle(0.99), at_angle(0.97), y * 3.0, unit(1, -1, 0), z])
    dup, of, best = near_duplicates(vectors, eps=0.05)
    assert dup.tolist() == [False, False, True, True, True, False, False]
    # Row 3 (0.97 to x) is closer still to row 2 (cos ~0.9995) and points there; row 4 is y
    # scaled: rows are normalised, so it duplicates row 1 exactly.
    assert of.tolist() == [-1, -1, 0, 2, 1, -1, -1]
    assert np.isnan(best[0])
    np.testing.assert_allclose(best[1:], [0.0, 0.99, 0.99 * 0.97 + np.sqrt((1 - 0.99**2) * (1 - 0.97**2)),
                                          1.0, np.sqrt(0.5), 0.0], atol=1e-6)
    assert best.dtype == np.float32 and of.dtype.kind == "i"


def test_ties_go_to_the_most_preferred_row():
    x = np.array([1.0, 0.0])
    dup, of, _ = near_duplicates(np.array([x, x, x, x]), eps=0.01)
    assert dup.tolist() == [False, True, True, True]
    assert of.tolist() == [-1, 0, 0, 0]


@pytest.mark.parametrize("eps, duplicate", [(0.5, False), (0.5001, True), (0.4999, False), (0.6, True)])
def test_the_threshold_is_strict(eps, duplicate):
    # cos = 0.5 exactly (in float32 too): a duplicate only when 0.5 > 1 - eps.
    vectors = np.array([[1.0, 0.0], [0.5, np.sqrt(0.75)]])
    dup, of, best = near_duplicates(vectors, eps)
    assert best[1] == np.float32(0.5)
    assert dup.tolist() == [False, duplicate]
    assert of.tolist() == [-1, 0 if duplicate else -1]


def test_zero_rows_are_never_duplicates_nor_targets():
    x = np.array([1.0, 0.0, 0.0])
    zero = np.zeros(3)
    dup, of, best = near_duplicates(np.array([zero, x, zero, zero, x]), eps=0.05)
    assert dup.tolist() == [False, False, False, False, True]
    assert of.tolist() == [-1, -1, -1, -1, 1]
    # Row 1 has only an empty row before it: nothing to compare with, like row 0.
    assert np.isnan(best[:4]).all() and best[4] == pytest.approx(1.0)
    dup, of, best = near_duplicates(np.zeros((3, 4)), eps=0.5)
    assert not dup.any() and (of == -1).all() and np.isnan(best).all()


def test_no_rows_and_one_row():
    dup, of, best = near_duplicates(np.zeros((0, 8), dtype=np.float32), eps=0.05)
    assert dup.shape == of.shape == best.shape == (0,)
    dup, of, best = near_duplicates(np.ones((1, 8)), eps=0.05)
    assert dup.tolist() == [False] and of.tolist() == [-1] and np.isnan(best[0])


@pytest.mark.parametrize("block", [1, 3, 7, 50, 1024])
def test_blocks_give_the_one_block_result_and_match_the_definition(block):
    rng = np.random.default_rng(0)
    base = rng.normal(size=(20, 16))
    # 20 random directions, 30 noisy copies of them at various distances, 5 empty rows, shuffled.
    copies = base[rng.integers(0, 20, 30)] + rng.normal(scale=rng.uniform(0.05, 0.4, (30, 1)), size=(30, 16))
    vectors = np.concatenate([base, copies, np.zeros((5, 16))])[rng.permutation(55)].astype(np.float32)
    whole = near_duplicates(vectors, eps=0.05, block=len(vectors))
    blocked = near_duplicates(vectors, eps=0.05, block=block)
    np.testing.assert_array_equal(blocked[0], whole[0])
    np.testing.assert_array_equal(blocked[1], whole[1])
    np.testing.assert_allclose(blocked[2], whole[2], atol=1e-6)
    dup, of, best = brute_force(vectors.astype(np.float64), 0.05)
    assert 5 <= dup.sum() < 30                          # the data plants some duplicates, not all
    np.testing.assert_array_equal(whole[0], dup)
    np.testing.assert_array_equal(whole[1], of)
    np.testing.assert_allclose(whole[2], best, atol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="matrix"):
        near_duplicates(np.ones(4), eps=0.1)
    with pytest.raises(ValueError, match="block"):
        near_duplicates(np.ones((2, 2)), eps=0.1, block=0)


def blobs(seed=0, per_blob=50, dim=16):
    """Three tight groups of unit vectors around orthogonal directions, shuffled; their labels."""
    rng = np.random.default_rng(seed)
    centres = np.eye(dim)[:3]
    labels = np.repeat(np.arange(3), per_blob)
    vectors = centres[labels] + 0.05 * rng.standard_normal((len(labels), dim))
    order = rng.permutation(len(labels))
    return vectors[order].astype(np.float32), labels[order]


def test_kmeans_finds_separated_groups_and_is_deterministic():
    vectors, labels = blobs()
    centroids = fit_kmeans(vectors, 3, max_iter=20, seed=[1, 0, 0])
    assert centroids.shape == (3, 16) and np.allclose(np.linalg.norm(centroids, axis=1), 1, atol=1e-5)
    assigned = nearest_centroid(vectors, centroids)
    # Each group goes to one centroid of its own.
    assert {(label, cell) for label, cell in zip(labels, assigned)} == {(l, assigned[labels == l][0]) for l in range(3)}
    assert len(set(assigned)) == 3
    assert np.array_equal(centroids, fit_kmeans(vectors, 3, max_iter=20, seed=[1, 0, 0]))
    assert not np.array_equal(centroids, fit_kmeans(vectors, 3, max_iter=20, seed=[2, 0, 0]))


def test_kmeans_with_fewer_rows_than_k_identical_rows_and_none():
    vectors, _ = blobs(per_blob=1)
    assert fit_kmeans(vectors, 10, max_iter=5, seed=1).shape == (3, 16)
    same = np.tile(unit(1, 2, 3), (20, 1))
    centroids = fit_kmeans(same, 4, max_iter=5, seed=1)                # k-means++ cannot spread: all equal
    assert set(nearest_centroid(same, centroids)) == {0}
    assert fit_kmeans(np.zeros((0, 4)), 3, max_iter=5, seed=1).shape == (0, 4)
