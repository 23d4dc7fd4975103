"""Document embedders for semantic dedup: the hashing fallback's geometry, empty documents, the
per-worker cache, the Arrow batch function and the sentence-transformers backend's errors."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from dedup import embeddings
from dedup.embeddings import (EMBEDDING_SCHEMA, HashingEmbedder, SentenceTransformerEmbedder, embedding_rows,
                              load_embedder)
from pipeline.config import ConfigError, SemanticDedupConfig

ROOT = Path(__file__).resolve().parents[2]

LIBRARY = ("The city council met on Tuesday evening to discuss the new budget for the public libraries of "
           "the northern district. Several residents spoke in favour of longer opening hours at weekends, "
           "while others worried about the cost of hiring additional staff and of heating the old buildings "
           "through the winter. A teacher described how her pupils use the reading rooms after school, and "
           "a retired engineer asked whether the roof of the main branch would finally be repaired. The mayor "
           "thanked everyone for coming and promised a final decision before the end of the month, after the "
           "finance committee has studied the figures and the proposals of the library staff.")
LIBRARY_EDITED = LIBRARY.replace("Tuesday", "Wednesday")
UNRELATED = [
    ("Photosynthesis converts light energy into chemical energy stored in glucose. In plants the process "
     "takes place in chloroplasts, where chlorophyll absorbs mostly red and blue light, and oxygen is "
     "released as a by-product when water molecules are split."),
    ("To bake a simple loaf, mix flour, water, salt and yeast, knead the dough for ten minutes, let it rise "
     "for an hour in a warm place, shape it, and bake it in a hot oven until the crust sounds hollow."),
    ("The match ended in a draw after the visiting striker scored a late equaliser from a corner kick, "
     "leaving both teams level on points at the top of the league table with three games to play."),
]
ZH = ("北京是中华人民共和国的首都，也是全国的政治、文化和国际交往中心。这座城市有三千多年的建城史，"
      "拥有众多的历史古迹和现代建筑。每年都有大量的游客来到这里参观故宫、长城和天坛等著名景点。")
ZH_EDITED = ZH.replace("大量", "很多")
ZH_OTHER = ("春天来了，公园里的花都开了，红的、黄的、白的，一片连着一片，非常好看。孩子们在草地上放风筝，"
            "老人们坐在长椅上聊天晒太阳。河边的柳树长出了嫩绿的新叶，微风吹过，枝条轻轻摆动。")


def cosine(a, b):
    return float(np.dot(a, b))


def test_two_instances_give_identical_vectors_of_unit_norm():
    texts = [LIBRARY, *UNRELATED, ZH]
    segs = ["whitespace"] * 4 + ["chars"]
    first, empty = HashingEmbedder(dim=256, seed=1).embed(texts, segs)
    second, _ = HashingEmbedder(dim=256, seed=1).embed(texts, segs)
    assert first.dtype == np.float32 and first.shape == (5, 256)
    assert np.array_equal(first, second)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-6)
    assert not empty.any()


def test_vectors_do_not_depend_on_the_batch_or_the_process():
    embedder = HashingEmbedder(dim=64, seed=7)
    together, _ = embedder.embed([LIBRARY, UNRELATED[0]])
    alone, _ = embedder.embed([UNRELATED[0]])
    assert np.array_equal(together[1], alone[0])
    # Another interpreter, with another str hash seed, computes the same bytes.
    code = ("import sys; from dedup.embeddings import HashingEmbedder; "
            "v, _ = HashingEmbedder(dim=64, seed=7).embed([sys.argv[1]]); sys.stdout.write(v.tobytes().hex())")
    out = subprocess.run([sys.executable, "-c", code, UNRELATED[0]], cwd=ROOT, check=True, capture_output=True,
                         text=True, env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout
    assert bytes.fromhex(out) == alone[0].tobytes()


def test_the_seed_and_the_dimension_change_the_projection():
    a, _ = HashingEmbedder(dim=128, seed=1).embed([LIBRARY])
    b, _ = HashingEmbedder(dim=128, seed=2).embed([LIBRARY])
    c, _ = HashingEmbedder(dim=100, seed=1).embed([LIBRARY])   # 100 is not a multiple of 8: 4 blocks
    assert not np.allclose(a, b)
    assert c.shape == (1, 100) and abs(np.linalg.norm(c) - 1) < 1e-6


def test_an_edited_copy_is_close_and_unrelated_texts_are_far():
    vectors, _ = HashingEmbedder().embed([LIBRARY, LIBRARY_EDITED, *UNRELATED])
    assert cosine(vectors[0], vectors[1]) > 0.95          # one word of ~100 changed: ~0.98
    for i in range(2, len(vectors)):
        assert cosine(vectors[0], vectors[i]) < 0.5       # measured: 0.11 to 0.25 (shared function words)
        for j in range(i + 1, len(vectors)):
            assert cosine(vectors[i], vectors[j]) < 0.5


def test_word_order_counts_through_bigrams():
    tokens = LIBRARY.split()
    shuffled = " ".join(tokens[::2] + tokens[1::2])     # same words, other order
    vectors, _ = HashingEmbedder().embed([LIBRARY, shuffled])
    # Unigrams alone would make them identical; the bigrams pull them well apart.
    assert 0.3 < cosine(vectors[0], vectors[1]) < 0.7     # measured: 0.45


def test_chinese_text_is_embedded_by_characters():
    embedder = HashingEmbedder()
    vectors, empty = embedder.embed([ZH, ZH_EDITED, ZH_OTHER], "chars")
    assert not empty.any() and np.all(np.abs(vectors).sum(axis=1) > 0)
    assert cosine(vectors[0], vectors[1]) > 0.95
    assert cosine(vectors[0], vectors[2]) < 0.5
    # Character n-grams, not one giant "word": under a whitespace split the whole sentence up to
    # a comma is a single token, and the one-word edit changes that whole token.
    features = embedder.features(ZH, "chars")
    assert "北" in features and "北\x01京" in features and "北\x01京\x01是" in features
    as_words, _ = embedder.embed([ZH, ZH_EDITED], "whitespace")
    assert cosine(as_words[0], as_words[1]) < cosine(vectors[0], vectors[1]) - 0.1


@pytest.mark.parametrize("text", ["", "   \n\t", "!!! ... ---"])
def test_a_text_without_words_is_a_flagged_zero_row(text):
    vectors, empty = HashingEmbedder().embed([LIBRARY, text, None], ["whitespace", "whitespace", "chars"])
    assert empty.tolist() == [False, True, True]
    assert np.all(vectors[1:] == 0) and abs(np.linalg.norm(vectors[0]) - 1) < 1e-6


def test_sublinear_weights_and_mismatched_segmentations():
    features = HashingEmbedder().features("a b a b a c")
    assert features["a"] == pytest.approx(1 + np.log(3)) and features["c"] == 1.0
    assert features["a\x01b"] == pytest.approx(1 + np.log(2))
    with pytest.raises(ValueError, match="2 texts but 1 segmentations"):
        HashingEmbedder().embed(["a", "b"], ["whitespace"])


def test_load_embedder_builds_each_configuration_once():
    first = load_embedder(SemanticDedupConfig(dim=32, seed=3))
    assert load_embedder(SemanticDedupConfig(dim=32, seed=3, eps=0.1)) is first   # eps is not the embedder's
    assert isinstance(first, HashingEmbedder) and first.dim == 32
    assert load_embedder(SemanticDedupConfig(dim=64, seed=3)) is not first
    with pytest.raises(ConfigError, match=r"dedup\.semantic\.backend.*'openai'.*hashing, sentence_transformers"):
        load_embedder(SemanticDedupConfig(backend="openai"))


def test_embedding_rows_cuts_batches_and_keeps_ids():
    config = SemanticDedupConfig(dim=16, batch_size=2)
    batch = pa.record_batch({"id": ["a", "b", "c", "d", "e"], "text": [LIBRARY, ZH, "", None, UNRELATED[0]],
                             "lang": ["en", "zh", "en", None, "en"]})
    out = list(embedding_rows([batch], config=config, segmentation={"zh": "chars", "default": "whitespace"}))
    assert [b.num_rows for b in out] == [2, 2, 1]          # batch_size documents at a time
    table = pa.Table.from_batches(out)
    assert table.schema == EMBEDDING_SCHEMA
    assert table.column("id").to_pylist() == ["a", "b", "c", "d", "e"]
    assert table.column("empty").to_pylist() == [False, False, True, True, False]
    vectors = np.array(table.column("embedding").to_pylist(), dtype=np.float32)
    expected, _ = HashingEmbedder(16, 1).embed([LIBRARY, ZH, "", "", UNRELATED[0]],
                                               ["whitespace", "chars", "whitespace", "whitespace", "whitespace"])
    assert np.array_equal(vectors, expected)


# ---------------------------------------------------------------- sentence-transformers

def test_a_missing_model_directory_names_the_key(tmp_path):
    with pytest.raises(ConfigError) as error:
        SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))
    message = str(error.value)
    assert "dedup.semantic.model" in message and "no-such-model" in message
    assert "local" in message and "never downloaded" in message
    with pytest.raises(ConfigError, match="dedup.semantic.model"):
        load_embedder(SemanticDedupConfig(backend="sentence_transformers", model=""))


def test_a_missing_package_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)   # import fails as if absent
    with pytest.raises(ConfigError) as error:
        SentenceTransformerEmbedder(str(tmp_path))
    message = str(error.value)
    assert "dedup.semantic.model" in message and "pip install sentence-transformers" in message


def test_sentence_transformers_model_from_a_local_directory():
    pytest.importorskip("sentence_transformers")
    model = os.environ.get("CURATE_ST_MODEL")
    if not model or not Path(model).is_dir():
        pytest.skip("set CURATE_ST_MODEL to a local sentence-transformers model directory")
    embeddings._EMBEDDERS.clear()
    embedder = load_embedder(SemanticDedupConfig(backend="sentence_transformers", model=model, batch_size=4))
    vectors, empty = embedder.embed([LIBRARY, LIBRARY_EDITED, UNRELATED[0], ""])
    assert vectors.dtype == np.float32 and vectors.shape == (4, embedder.dim)
    assert empty.tolist() == [False, False, False, True] and np.all(vectors[3] == 0)
    np.testing.assert_allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, atol=1e-5)
    assert cosine(vectors[0], vectors[1]) > 0.95 > cosine(vectors[0], vectors[2])


def test_sentence_transformers_embedder_with_a_stand_in_model(tmp_path, monkeypatch):
    """The wrapper's own logic, without the package: a fake module records how the model is
    loaded and called."""
    calls = {}

    class FakeModel:
        def __init__(self, path, device=None, local_files_only=False):
            calls.update(path=path, device=device, local_files_only=local_files_only)

        def get_sentence_embedding_dimension(self):
            return 3

        def encode(self, texts, batch_size, normalize_embeddings, convert_to_numpy, show_progress_bar):
            calls.update(texts=list(texts), batch_size=batch_size, normalize=normalize_embeddings)
            return np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float64)

    fake_torch = type(sys)("torch")
    fake_torch.cuda = type("cuda", (), {"is_available": staticmethod(lambda: False)})
    fake_st = type(sys)("sentence_transformers")
    fake_st.SentenceTransformer = FakeModel
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    monkeypatch.setitem(sys.modules, "sentence_transformers", fake_st)
    embedder = SentenceTransformerEmbedder(str(tmp_path), batch_size=7)
    vectors, empty = embedder.embed(["ab", "", "北京", "  "], ["whitespace", "whitespace", "chars", "chars"])
    assert calls == {"path": str(tmp_path), "device": "cpu", "local_files_only": True,
                     "texts": ["ab", "北京"], "batch_size": 7, "normalize": True}   # empty texts not encoded
    assert empty.tolist() == [False, True, False, True] and embedder.dim == 3
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, [[2 / np.sqrt(5), 1 / np.sqrt(5), 0], [0, 0, 0],
                                         [2 / np.sqrt(5), 1 / np.sqrt(5), 0], [0, 0, 0]], rtol=1e-6)
