"""Normalisation and matching, as tables: what must match, what must not."""
import json

import numpy as np
import pytest

from decontam.evalsets import build_index, lookup
from decontam.ngrams import NgramSpec, ngram_hashes
from decontam.stage import cut_text, find_matches

import pyarrow as pa

SPEC = NgramSpec(word_n=8, char_n=10)
QUESTION = "Which planet in our solar system has the largest number of confirmed moons orbiting it today?"


def _grams(text, spec=SPEC):
    return ngram_hashes(text, spec)


def _matched(document: str, example: str, spec=SPEC) -> bool:
    example_hashes = np.unique(_grams(example, spec)[0])
    return bool(lookup(_grams(document, spec)[0], example_hashes).any())


@pytest.mark.parametrize("document, expected", [
    (QUESTION, True),                                                            # verbatim
    ("Quiz: " + QUESTION.upper() + " Answer below.", True),                     # case
    ("which   planet in our\nsolar system,  has the LARGEST number of confirmed moons", True),  # whitespace, punctuation
    ("Trivia time. Which planet in our solar system has the largest number of rings?", True),  # partial: 8 words overlap
    ("Which planet in our solar system has the largest", True),                  # exactly n words: one n-gram
    ("Which planet within our solar system holds the largest count of confirmed moons orbiting it now", False),
    ("Planets of our solar system, ranked by the number of moons they have.", False),
])
def test_word_ngrams_match_through_case_space_and_punctuation(document, expected):
    assert _matched(document, QUESTION) is expected


def test_a_changed_word_breaks_only_the_windows_through_it():
    changed = QUESTION.replace("largest", "biggest")
    grams = _grams(changed)[0]
    found = lookup(grams, np.unique(_grams(QUESTION)[0]))
    words = len(QUESTION.split())
    assert len(grams) == words - SPEC.word_n + 1
    assert 0 < found.sum() < len(grams)                  # the windows without "largest" still match


def test_spans_point_into_the_original_text():
    text = "Intro. " + QUESTION + " Outro."
    hashes, starts, ends = _grams(text)
    assert text[starts[0]:ends[0]] == "Intro. Which planet in our solar system has"
    assert text[starts[1]:ends[1]] == "Which planet in our solar system has the"
    assert text[starts[-1]:ends[-1]] == "number of confirmed moons orbiting it today? Outro"


def test_chinese_text_uses_character_ngrams():
    example = "下列哪一个城市是中国的首都并且历史最悠久"
    document = "今天的题目：下列哪一个城市是中国的首都并且历史最悠久？请回答。"
    assert _matched(document, example)
    assert not _matched("上海是一个非常大的城市，人口很多，经济发达。", example)


def test_short_texts_have_no_ngrams():
    assert len(_grams("too short to check")[0]) == 0


def test_index_counts_examples_and_too_short(tmp_path):
    (tmp_path / "trivia.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"question": QUESTION, "choices": ["Saturn", "Jupiter"], "answer": "Saturn"},
        {"question": "Too short.", "answer": "no"},
    ]))
    (tmp_path / "reading").mkdir()
    (tmp_path / "reading" / "part1.txt").write_text("The committee postponed the vote on the new harbour bridge "
                                                     "until the engineers had finished their survey.\n\n")
    index = build_index(str(tmp_path), ["question", "choices", "answer"], SPEC)
    assert index.names == ["reading", "trivia"]
    assert index.examples("trivia") == 2 and index.too_short == {"reading": 0, "trivia": 1}
    assert np.all(np.diff(index.hashes.astype(np.float64)) >= 0)       # sorted: binary search works
    rates = index.contamination(_grams(QUESTION)[0])
    assert rates["trivia"]["examples_found"] == 1 and rates["trivia"]["contamination_rate"] == 0.5
    assert rates["reading"]["examples_found"] == 0


def test_find_matches_yields_one_row_per_occurrence_and_benchmark(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"question": QUESTION}) + "\n")
    (tmp_path / "b.txt").write_text(QUESTION + "\n")
    index = build_index(str(tmp_path), ["question"], SPEC)
    batch = pa.record_batch({"id": ["hit", "clean"], "text": ["Q: " + QUESTION, "Nothing to see here at all, "
                                                               "just an ordinary sentence about the weather today."]})
    rows = pa.Table.from_batches(list(find_matches([batch], index=(index.hashes, index.benchmarks), spec=SPEC)))
    windows = len(QUESTION.split()) - SPEC.word_n + 1
    assert set(rows.column("id").to_pylist()) == {"hit"}
    assert rows.num_rows == 2 * windows                                 # both benchmarks hold the question
    assert sorted(set(rows.column("benchmark").to_pylist())) == [0, 1]


@pytest.mark.parametrize("spans, margin, min_piece, max_pieces, expected", [
    ([(10, 20)], 0, 1, 10, ("0123456789\n\n0123456789", 10)),
    ([(10, 20)], 5, 1, 10, ("01234\n\n56789", 20)),
    ([(10, 20)], 5, 6, 10, (None, 30)),                       # both pieces too short: nothing left
    ([(3, 5), (12, 14), (22, 24)], 0, 1, 2, (None, 30)),        # four pieces > max_pieces
    ([(10, 15), (14, 20)], 0, 1, 10, ("0123456789\n\n0123456789", 10)),   # overlapping spans merge
])
def test_cut_text(spans, margin, min_piece, max_pieces, expected):
    text = "0123456789" * 3
    assert cut_text(text, spans, margin, min_piece, max_pieces) == expected


def test_a_batch_mixing_scripts_gives_each_text_its_own_ngrams():
    """Space-less detection is per text: in one batch a Chinese text gets character n-grams and
    an English one word n-grams, exactly as each alone (and an empty text none)."""
    from decontam.ngrams import batch_ngrams

    chinese = "今天的题目：下列哪一个城市是中国的首都并且历史最悠久？请回答。"
    english = "Which planet in our solar system has the largest number of confirmed moons orbiting it today"
    hashes, docs, starts, ends = batch_ngrams([english, "", chinese, english], SPEC)
    for position, text in ((0, english), (2, chinese), (3, english)):
        alone = _grams(text)
        mine = docs == position
        assert hashes[mine].tolist() == alone[0].tolist() and len(alone[0]) > 0
        assert starts[mine].tolist() == alone[1].tolist() and ends[mine].tolist() == alone[2].tolist()
    assert not (docs == 1).any()
    assert (docs == 2).sum() == sum(ch.isalnum() for ch in chinese) - SPEC.char_n + 1   # characters, not words


def test_runs_of_text_do_not_change_the_ngrams(monkeypatch):
    """A batch is hashed in runs of about CHUNK_CHARS characters: with runs of a few texts each, every
    text still gets exactly the n-grams, spans and text index it gets alone."""
    from decontam import ngrams

    texts = [f"document {i} says " + " ".join(f"w{(i * 7 + j) % 23}" for j in range(5 + i % 17)) for i in range(60)]
    texts[7], texts[30] = "", "今天的题目：下列哪一个城市是中国的首都并且历史最悠久？请回答。"
    monkeypatch.setattr(ngrams, "CHUNK_CHARS", 200)
    assert len(list(ngrams.iter_ngrams(texts, SPEC))) > 10
    hashes, docs, starts, ends = ngrams.batch_ngrams(texts, SPEC)
    monkeypatch.setattr(ngrams, "CHUNK_CHARS", 1 << 30)
    assert len(list(ngrams.iter_ngrams(texts, SPEC))) == 1
    for i, text in enumerate(texts):
        alone = _grams(text)
        mine = docs == i
        assert hashes[mine].tolist() == alone[0].tolist()
        assert starts[mine].tolist() == alone[1].tolist() and ends[mine].tolist() == alone[2].tolist()
    assert len(hashes) == sum(len(_grams(t)[0]) for t in texts) > 0


def test_the_bloom_filter_passes_every_member_and_few_others():
    """_candidates finds exactly the document n-grams in the index (the filter has no false negatives),
    and lets few absent ones through to the binary search."""
    from decontam import stage

    rng = np.random.default_rng(5)
    index = np.unique(rng.integers(0, 2**63, 100_000, dtype=np.int64).astype(np.uint64) * np.uint64(2))
    absent = rng.integers(0, 2**63, 200_000, dtype=np.int64).astype(np.uint64) * np.uint64(2) + np.uint64(1)
    grams = np.concatenate([absent, index[::50]])
    found = stage._candidates(grams, index)
    assert found.tolist() == list(range(len(absent), len(grams)))
    table, shift = stage._bloom(index)
    bits = stage._bits(absent)
    passed = ((table.take((absent >> shift).astype(np.intp)) & bits) == bits).mean()
    assert passed < 0.03, passed
