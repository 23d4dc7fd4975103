import numpy as np
import pytest

from dedup import minhash
from dedup.minhash import (EMPTY_HASH, MERSENNE_61, SCHEMES, MinHasher, band_keys, batch_shingle_hashes,
                           collision_probability, jaccard, optimal_bands, shingle_hashes)

BANDS, ROWS = 9, 13                       # optimal_bands(0.8) for 128 permutations
ZH = ("北京是中华人民共和国的首都，也是全国的政治、文化和国际交往中心。这座城市有三千多年的建城史，"
      "拥有众多的历史古迹和现代建筑。每年都有大量的游客来到这里参观故宫、长城和天坛等著名景点。")

LONG_ZH = ("春天来了，公园里的花都开了，红的、黄的、白的，一片连着一片，非常好看。孩子们在草地上放风筝，"
           "老人们坐在长椅上聊天晒太阳。河边的柳树长出了嫩绿的新叶，微风吹过，枝条轻轻摆动。"
           "学校组织学生去博物馆参观，同学们认真听讲解员介绍古代的青铜器、瓷器和书画作品，"
           "还做了详细的笔记。回到教室以后，老师让大家写一篇作文，谈谈自己的感受和收获。")


def random_text(rng, n_words=300, vocab=5000):
    return " ".join(f"w{i}" for i in rng.integers(0, vocab, n_words))


def planted_pairs(rng, j, trials, union=1000):
    """`trials` pairs of shingle-hash sets at Jaccard ~j, as (hashes, offsets) of 2*trials docs,
    and the exact Jaccard of each pair."""
    docs, truth = [], []
    for _ in range(trials):
        values = rng.choice(1 << 32, union, replace=False).astype(np.uint32)
        inter = round(j * union)
        only_a = (union - inter) // 2
        docs += [values[:inter + only_a], np.concatenate([values[:inter], values[inter + only_a:]])]
        truth.append(inter / union)
    offsets = np.concatenate([[0], np.cumsum([len(d) for d in docs])])
    return np.concatenate(docs), offsets, np.array(truth)


def agreement(signatures):
    """Per pair (rows 2k, 2k+1): the share of equal signature values, MinHash's Jaccard estimate."""
    return (signatures[0::2] == signatures[1::2]).mean(axis=1)


def any_band_shared(signatures):
    keys = band_keys(signatures, BANDS, ROWS)
    return (keys[0::2] == keys[1::2]).any(axis=1)


# ---------------------------------------------------------------- optimal_bands

def test_optimal_bands_defaults_to_128_permutations_and_datasketch_choice():
    from datasketch.lsh import _optimal_param
    assert optimal_bands() == (128, BANDS, ROWS)
    assert optimal_bands(0.7, 256)[1:] == _optimal_param(0.7, 256, 0.5, 0.5)


@pytest.mark.parametrize("threshold, num_perm", [(0.5, 64), (0.8, 128), (0.9, 256)])
def test_optimal_bands_fit_and_put_the_threshold_on_the_s_curve_slope(threshold, num_perm):
    perms, bands, rows = optimal_bands(threshold, num_perm)
    assert perms == num_perm and bands * rows <= num_perm
    assert collision_probability(threshold - 0.2, bands, rows) < 0.5 < collision_probability(
        min(threshold + 0.1, 1.0), bands, rows)


def test_false_negative_weight_buys_recall():
    _, bands, rows = optimal_bands(0.8, 128, false_positive_weight=0.1, false_negative_weight=0.9)
    assert collision_probability(0.8, bands, rows) > collision_probability(0.8, BANDS, ROWS)


# ---------------------------------------------------------------- shingles

@pytest.mark.parametrize("text, n, count", [
    ("one two three four five six seven", 5, 3),
    ("one two three four five", 5, 1),
    ("one two", 5, 1),                       # shorter than n: one shingle of the whole text
    ("word", 5, 1),
    ("", 5, 0),
    (" ,;!? -- ", 5, 0),                     # no words at all
    ("one two three four five six seven", 1, 7),
])
def test_shingle_counts(text, n, count):
    assert len(shingle_hashes(text, n)) == count


def test_shingles_ignore_case_spacing_and_punctuation_but_not_word_order():
    base = shingle_hashes("the quick brown fox jumps over the lazy dog")
    assert np.array_equal(base, shingle_hashes("The  QUICK brown fox,\njumps over -- the lazy dog!"))
    assert not np.array_equal(base, shingle_hashes("quick the brown fox jumps over the lazy dog"))
    assert shingle_hashes("a b c d e f", 5)[0] != shingle_hashes("ab c d e f g", 5)[0]


def test_chars_segmentation_shingles_characters_of_chinese():
    han = sum(1 for c in ZH if "\u4e00" <= c <= "\u9fff")
    assert len(shingle_hashes(ZH, 5, "chars")) == han - 4      # punctuation is no character
    assert len(shingle_hashes(ZH, 5, "whitespace")) == 3       # 7 clause-long 'words': useless
    edited = ZH.replace("三千", "四千")          # one character: the 5 shingles holding it change
    assert jaccard(shingle_hashes(ZH, 5, "chars"), shingle_hashes(edited, 5, "chars")) == 74 / 84


def test_word_and_char_n_apply_per_document_segmentation():
    hashes, offsets = batch_shingle_hashes(["a b c d e f g", ZH], ["whitespace", "chars"], word_n=3, char_n=2)
    assert np.array_equal(hashes[offsets[0]:offsets[1]], shingle_hashes("a b c d e f g", 3))
    assert np.array_equal(hashes[offsets[1]:offsets[2]], shingle_hashes(ZH, 2, "chars"))


def test_shingle_hashes_do_not_depend_on_the_batch():
    rng = np.random.default_rng(0)
    texts = [random_text(rng, int(k)) for k in rng.integers(0, 40, 30)] + [ZH, ""]
    hashes, offsets = batch_shingle_hashes(texts, ["whitespace"] * 30 + ["chars", "chars"])
    for i, text in enumerate(texts):
        alone = shingle_hashes(text, 5, "chars" if i >= 30 else "whitespace")
        assert np.array_equal(hashes[offsets[i]:offsets[i + 1]], alone)


def test_unknown_segmentation_raises():
    with pytest.raises(ValueError, match="segmentation"):
        shingle_hashes("some text", 5, "syllables")


# ---------------------------------------------------------------- jaccard

@pytest.mark.parametrize("a, b, expected", [
    ([1, 2, 3], [2, 3, 4], 0.5),
    ([1, 2, 3], [3, 2, 1], 1.0),
    ([1, 2], [3, 4], 0.0),
    ([1, 1, 2], [1, 2, 2], 1.0),            # sets: repeats do not count
    ([], [1], 0.0),
    ([], [], 0.0),                          # two empty documents are not duplicates
    (["a b", "b c"], ["b c"], 0.5),
])
def test_jaccard(a, b, expected):
    assert jaccard(a, b) == expected


# ---------------------------------------------------------------- signatures

def test_permutations_compute_their_formulas_exactly():
    rng = np.random.default_rng(1)
    x = np.concatenate([[0, 1, (1 << 32) - 1], rng.integers(0, 1 << 32, 50)]).astype(np.uint64)
    a = np.array([1, MERSENNE_61 - 1, *rng.integers(1, MERSENNE_61, 6)], dtype=np.uint64)
    b = np.array([0, MERSENNE_61 - 1, *rng.integers(0, MERSENNE_61, 6)], dtype=np.uint64)
    got = minhash._permute_mersenne61(x, a, b, np.empty((len(a), len(x)), np.uint64))
    assert got.tolist() == [[(int(ai) * int(xi) + int(bi)) % MERSENNE_61 for xi in x] for ai, bi in zip(a, b)]
    a32, b32, x32 = a.astype(np.uint32) | np.uint32(1), b.astype(np.uint32), x.astype(np.uint32)
    got = minhash._permute_affine32(x32, a32, b32, np.empty((len(a), len(x)), np.uint32))
    assert got.tolist() == [[(int(ai) * int(xi) + int(bi)) % (1 << 32) for xi in x32] for ai, bi in zip(a32, b32)]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("j", [0.3, 0.5, 0.8, 0.9, 0.95])
def test_jaccard_estimate_is_unbiased_with_binomial_spread(scheme, j):
    trials = 150
    hashes, offsets, truth = planted_pairs(np.random.default_rng(int(j * 100)), j, trials)
    signatures, empty = MinHasher(128, seed=7, scheme=scheme).signatures(hashes, offsets)
    assert not empty.any()
    errors = agreement(signatures) - truth
    sd = np.sqrt(truth.mean() * (1 - truth.mean()) / 128)      # one estimate's binomial spread
    assert abs(errors.mean()) < 4 * sd / np.sqrt(trials)
    # Dependent permutations would widen the spread beyond the binomial one.
    assert 0.75 * sd < errors.std() < 1.25 * sd


@pytest.mark.parametrize("scheme", SCHEMES)
def test_large_documents_are_not_overestimated(scheme):
    """datasketch's legacy scheme folded values to 32 bits before the min, which inflated
    estimates on large sets (datasketch issue #212)."""
    hashes, offsets, truth = planted_pairs(np.random.default_rng(3), 0.5, 6, union=40_000)
    signatures, _ = MinHasher(128, seed=3, scheme=scheme).signatures(hashes, offsets)
    assert abs(agreement(signatures).mean() - 0.5) < 4 * np.sqrt(0.25 / 128 / 6)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("j", [0.5, 0.7, 0.8, 0.9])
def test_band_collisions_follow_the_s_curve(scheme, j):
    trials = 400
    hashes, offsets, _ = planted_pairs(np.random.default_rng(int(j * 1000)), j, trials, union=600)
    signatures, _ = MinHasher(128, seed=11, scheme=scheme).signatures(hashes, offsets)
    expected = collision_probability(j, BANDS, ROWS)
    observed = any_band_shared(signatures).mean()
    assert abs(observed - expected) < 4 * np.sqrt(expected * (1 - expected) / trials) + 0.01


def test_exact_and_near_copies_share_band_keys():
    rng = np.random.default_rng(5)
    text = random_text(rng, 400)
    words = text.split()
    copy = "  " + text.upper().replace(" ", " \n ") + " ."
    near = " ".join(words[:200] + ["changed"] + words[201:])
    signatures, _ = MinHasher().sign_texts([text, copy, near, random_text(rng, 400)])
    keys = band_keys(signatures, BANDS, ROWS)
    assert np.array_equal(signatures[0], signatures[1]) and (keys[0] == keys[1]).all()
    assert (keys[0] == keys[2]).any()          # J ~ 0.975: at least one band agrees (P ~ 1 - 1e-6)
    assert not (keys[0] == keys[3]).any()


def test_unrelated_documents_rarely_share_a_band():
    rng = np.random.default_rng(6)
    signatures, _ = MinHasher().sign_texts([random_text(rng, 200) for _ in range(400)])
    keys = band_keys(signatures, BANDS, ROWS)
    shared = sum(len(col) - len(np.unique(col)) for col in keys.T)
    assert shared == 0


def test_chinese_near_copies_collide_and_different_texts_do_not():
    text = ZH + LONG_ZH
    other = "上海位于长江入海口，是中国最大的经济中心城市之一，也是国际著名的港口城市和金融中心。"
    # One character in ~230 changed: J ~ 0.96, a shared band with P ~ 0.999 (seeded: stable).
    signatures, _ = MinHasher().sign_texts([text, text.replace("三千", "三万"), other], "chars")
    keys = band_keys(signatures, BANDS, ROWS)
    assert (keys[0] == keys[1]).any() and not (keys[0] == keys[2]).any()
    assert (signatures[0] == signatures[1]).mean() > 0.75


@pytest.mark.parametrize("scheme", SCHEMES)
def test_signatures_do_not_depend_on_batching_or_instance(scheme):
    rng = np.random.default_rng(8)
    texts = [random_text(rng, int(k)) for k in rng.integers(0, 300, 40)] + ["", "tiny"]
    whole, empty = MinHasher(64, seed=2, scheme=scheme).sign_texts(texts)
    tiny_chunks, _ = MinHasher(64, seed=2, scheme=scheme, chunk_shingles=7).sign_texts(texts)
    reversed_, _ = MinHasher(64, seed=2, scheme=scheme).sign_texts(texts[::-1])
    one_by_one = np.vstack([MinHasher(64, seed=2, scheme=scheme).sign_texts([t])[0] for t in texts])
    for other in (tiny_chunks, reversed_[::-1], one_by_one):
        assert np.array_equal(whole, other)
    assert whole.dtype == np.uint32 and whole.shape == (42, 64)
    assert empty.tolist() == [len(t.split()) == 0 for t in texts]
    different_seed, _ = MinHasher(64, seed=3, scheme=scheme).sign_texts(texts)
    assert (different_seed[:-2] != whole[:-2]).mean() > 0.9


def test_empty_documents_are_flagged_and_short_ones_signed():
    texts = ["", "  ...  ", "hello there", "hello there", "general kenobi"]
    signatures, empty = MinHasher().sign_texts(texts)
    assert empty.tolist() == [True, True, False, False, False]
    assert (signatures[:2] == EMPTY_HASH).all()
    assert np.array_equal(signatures[2], signatures[3])
    assert (signatures[2] != signatures[4]).mean() > 0.9
    assert (signatures[2:] != EMPTY_HASH).all()


def test_an_empty_batch():
    signatures, empty = MinHasher().sign_texts([])
    assert signatures.shape == (0, 128) and empty.shape == (0,)


def test_unknown_scheme_raises():
    with pytest.raises(ValueError, match="scheme"):
        MinHasher(scheme="sha1")


# ---------------------------------------------------------------- band keys

def test_band_keys_change_only_in_the_band_that_changed():
    signatures = np.random.default_rng(9).integers(0, 1 << 32, (3, 128), dtype=np.uint32)
    signatures[1] = signatures[0]
    signatures[1, ROWS * 4 + 2] ^= 1                      # one value in band 4
    signatures[2] = signatures[0]
    signatures[2, BANDS * ROWS:] ^= 1                     # only values past the last band
    keys = band_keys(signatures, BANDS, ROWS)
    assert keys.shape == (3, BANDS) and keys.dtype == np.uint64
    assert (keys[0] != keys[1]).tolist() == [b == 4 for b in range(BANDS)]
    assert np.array_equal(keys[0], keys[2])
    assert len(np.unique(keys[0])) == BANDS


def test_band_keys_reject_more_rows_than_permutations():
    with pytest.raises(ValueError, match="permutations"):
        band_keys(np.zeros((1, 64), np.uint32), 9, 13)
