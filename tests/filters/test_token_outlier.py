import numpy as np
import pytest

from filters.base import Batch, FilterConfigError, ThresholdTable
from filters.token_outlier import TokenOutlierFilter, token_histogram

PROSE = ("the river runs past the old mill and the farmers bring their grain to the town market "
         "where the miller weighs each sack and writes the price in his book ") * 3
LOGS = " ".join(f"ERR0x{i:04x} segfault at 0x{i * 7919:08x} ip 0x{i * 104729:08x}" for i in range(20))


def make(texts, langs=None):
    langs = langs or ["en"] * len(texts)
    corpus = token_histogram([PROSE] * 50 + texts, ["en"] * 50 + langs, {}, buckets=4096)
    return TokenOutlierFilter({"distribution": corpus, "min_tokens": 10}), Batch(texts, langs)


def test_outlier_document_scores_far_above_prose():
    f, batch = make([PROSE, LOGS])
    kl = f.score(batch)["kl"]
    assert kl[0] < 0.5 < 3.0 < kl[1]


def test_threshold_by_value_drops_the_outlier():
    f, batch = make([PROSE, LOGS])
    keep, reasons = f.keep(f.score(batch), batch.langs, ThresholdTable(f.Thresholds, {"default": {"max_kl": 2.0}}))
    assert list(keep) == [True, False]
    assert reasons[1] == "token_outlier_max_kl"


def test_short_documents_are_not_scored():
    f, batch = make(["just a few words"])
    assert np.isnan(f.score(batch)["kl"][0])


def test_histogram_uses_character_tokens_for_spaceless_languages():
    counts = token_histogram(["我们在学习中文"], ["zh"], {"zh": "chars"}, buckets=1024)
    assert counts.sum() == 7


def test_reference_file_round_trip_and_missing_reference(tmp_path):
    corpus = token_histogram([PROSE], ["en"], {}, buckets=512)
    np.save(tmp_path / "ref.npy", corpus)
    f = TokenOutlierFilter({"reference": str(tmp_path / "ref.npy"), "min_tokens": 5})
    assert f.score(Batch([PROSE], ["en"]))["kl"][0] < 0.5
    with pytest.raises(FilterConfigError, match="reference distribution not found"):
        TokenOutlierFilter({"reference": str(tmp_path / "absent.npy")})
    with pytest.raises(FilterConfigError, match="needs a corpus distribution"):
        TokenOutlierFilter().score(Batch([PROSE], ["en"]))


def test_buckets_are_crc32_of_the_lowercased_words_however_often_seen():
    """token_buckets remembers the buckets of tokens it has seen: the same answer as hashing each
    token afresh, for tokens met the first time, met again, and after the memory was cleared."""
    import zlib

    from filters import token_outlier
    from pipeline.text import words

    def fresh(text, buckets):
        return [zlib.crc32(t.encode("utf-8")) % buckets for t in words(text.lower())]

    for buckets in (97, 4096):
        for text in (PROSE, LOGS, PROSE + " Über café naïve", ""):
            assert token_outlier.token_buckets(text, "whitespace", buckets).tolist() == fresh(text, buckets)
    token_outlier._BUCKET_CACHE.clear()
    assert token_outlier.token_buckets(LOGS, "whitespace", 97).tolist() == fresh(LOGS, 97)


def test_histogram_of_a_batch_is_the_sum_of_its_documents():
    texts, langs = [PROSE, LOGS, "", "我们在学习中文"], ["en", "en", "en", "zh"]
    whole = token_histogram(texts, langs, {"zh": "chars"}, buckets=512)
    parts = sum(token_histogram([t], [l], {"zh": "chars"}, buckets=512) for t, l in zip(texts, langs))
    assert whole.dtype == np.float64 and whole.sum() > 0
    assert np.array_equal(whole, parts)
