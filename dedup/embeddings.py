"""Document embeddings for semantic dedup: pluggable embedders, each turning a batch of texts into
a float32 (n, dim) matrix of L2-normalised rows, plus a mask of the empty documents (no words),
whose rows are all zero: they have no meaning to compare and must never be called duplicates.

Two backends (key `dedup.semantic.backend`):
- `hashing`: no model. Hashed n-gram counts, randomly projected to `dim` dimensions. It finds
  lightly edited copies (cosine ~ the share of n-grams two texts have in common) but not
  paraphrases or translations: a fallback that runs anywhere, deterministically.
- `sentence_transformers`: a sentence-transformers model loaded from a local directory (key
  `dedup.semantic.model`; never downloaded), on CUDA when there is one. This is what SemDeDup
  (Abbas et al. 2023) means by semantic duplicates.

`embedding_rows` is the batch function the Spark step applies with mapInArrow; embedders load
once per Python worker (`load_embedder`'s cache). No pyspark here.
"""
from __future__ import annotations

import inspect
import math
from collections import Counter
from pathlib import Path
from typing import Iterable, Iterator, Protocol, Sequence

import numpy as np
import pyarrow as pa

from pipeline.config import SEMANTIC_BACKENDS, ConfigError, SemanticDedupConfig
from pipeline.text import segmentation_for, words

EMBEDDING_SCHEMA = pa.schema([pa.field("id", pa.string()), pa.field("embedding", pa.list_(pa.float32())),
                              pa.field("empty", pa.bool_())])
HASHED_FEATURES = 1 << 20
_NGRAMS = {"whitespace": (1, 2), "chars": (1, 2, 3)}  # token n-gram sizes per segmentation (1 first)
_SEP = "\x01"                                           # joins the tokens of an n-gram; never in a word
_U64 = np.uint64


class Embedder(Protocol):
    dim: int

    def embed(self, texts: Sequence[str], segmentations: str | Sequence[str] = "whitespace"
              ) -> tuple[np.ndarray, np.ndarray]:
        """(float32 (n, dim) L2-normalised rows, bool empty mask); empty rows are all zero."""


def _segmentations(texts: Sequence[str], segmentations: str | Sequence[str]) -> list[str]:
    if isinstance(segmentations, str):
        return [segmentations] * len(texts)
    if len(segmentations) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(segmentations)} segmentations")
    return list(segmentations)


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0).astype(np.float32, copy=False)


# ---------------------------------------------------------------- hashing (no model)

def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of uint64 in which every output bit depends on every
    input bit (so nearby feature indices get unrelated projections)."""
    x = (x ^ (x >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> _U64(27))) * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


class HashingEmbedder:
    """Hashed n-gram counts, randomly projected to `dim` dimensions and L2-normalised.

    Features: the lowercased tokens of pipeline.text.words() under each document's own
    segmentation, as n-grams. 'whitespace' documents use word unigrams and bigrams: the bigrams
    keep word order, so two unrelated texts sharing only frequent words stay far apart. 'chars'
    documents (zh, ja, th...: no spaces between words) would be one giant 'word' each under a
    whitespace split; there every character of a space-less script is a token, and its n-grams
    of 1 to 3 characters stand in for words (a Chinese word is mostly one or two characters, and
    character bigrams are how IR systems such as Lucene's CJK analyzer index these scripts; the
    trigrams play the word bigrams' part). Runs of Latin letters or digits inside such text stay
    whole words. One tokenizer per document, rather than a character analyzer for every
    language: word n-grams are fewer and more telling than character n-grams where words exist.

    Weights are sublinear term frequencies, 1 + log(count) (no IDF: it would need a pass over
    the corpus, and the result would depend on which corpus). The n-grams are hashed into 2^20
    signed features by scikit-learn's FeatureHasher (HashingVectorizer's own hashing, MurmurHash3
    with alternate_sign; fed per document here because its analyzers are per vectorizer).

    Projection: a sparse Johnson-Lindenstrauss transform (Kane and Nelson's block construction)
    computed from the feature index, never stored: each of the 2^20 features adds +-w/sqrt(s) to
    one output dimension in each of s blocks of dim/s dimensions, its dimension and sign taken
    from a seeded 64-bit hash of (feature, block). Like a dense Gaussian projection it keeps
    inner products unbiased and distances to a relative error of ~sqrt(2/dim) (measured at dim
    256: 1 - cos of edited copies off by 12% rms, cosines of unrelated texts by 0.03), costs
    O(s) per feature, and holds no matrix: sklearn's SparseRandomProjection at its default
    density (1/sqrt(2^20)) gives ~78% of the features no output dimension at dim 256, and one
    dense enough to see them all would be a ~100 MB matrix per worker. Same (dim, seed): the
    same vectors in any process, batch split or order.
    """

    def __init__(self, dim: int = 256, seed: int = 1):
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        from sklearn.feature_extraction import FeatureHasher

        self.dim, self.seed = dim, seed
        self.blocks = math.gcd(dim, 8)          # s: 8 nonzeros per feature where dim allows
        self._hasher = FeatureHasher(HASHED_FEATURES, input_type="dict", alternate_sign=True)
        self._salt = _mix64(np.array([seed], dtype=_U64) + _U64(0x9E3779B97F4A7C15))[0]

    def features(self, text: str, segmentation: str = "whitespace") -> dict[str, float]:
        """The n-grams of one text with their weights, 1 + log(count)."""
        tokens = words(text.lower(), segmentation)
        counts = Counter(tokens)
        for n in _NGRAMS[segmentation][1:]:
            counts.update(map(_SEP.join, zip(*(tokens[k:] for k in range(n)))))
        return {gram: 1.0 + math.log(count) if count > 1 else 1.0 for gram, count in counts.items()}

    def embed(self, texts: Sequence[str], segmentations: str | Sequence[str] = "whitespace"
              ) -> tuple[np.ndarray, np.ndarray]:
        segmentations = _segmentations(texts, segmentations)
        grams = [self.features(text or "", seg) for text, seg in zip(texts, segmentations)]
        empty = np.array([not g for g in grams], dtype=bool)
        hashed = self._hasher.transform(grams).tocsr()
        return _normalise_rows(self._project(hashed)), empty

    def _project(self, hashed) -> np.ndarray:
        rows = np.repeat(np.arange(hashed.shape[0], dtype=np.int64), np.diff(hashed.indptr))
        features = hashed.indices.astype(_U64)
        values = hashed.data / math.sqrt(self.blocks)
        width = self.dim // self.blocks
        out = np.zeros(hashed.shape[0] * self.dim, dtype=np.float64)
        for block in range(self.blocks):
            h = _mix64((features * _U64(self.blocks) + _U64(block)) ^ self._salt)
            column = (h >> _U64(1)) % _U64(width) + _U64(block * width)
            signed = np.where((h & _U64(1)) == 1, -values, values)
            out += np.bincount(rows * self.dim + column.astype(np.int64), weights=signed, minlength=out.size)
        return out.reshape(hashed.shape[0], self.dim)


# ---------------------------------------------------------------- sentence-transformers

class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local directory, on CUDA when available.

    Texts longer than the model's max_seq_length are truncated by the model (the head of a
    document decides). Empty documents (no words) are not encoded: their rows stay zero.
    """

    def __init__(self, model_path: str, batch_size: int = 256):
        path = Path(model_path) if model_path else None
        if path is None or not path.is_dir():
            raise ConfigError(
                f"key 'dedup.semantic.model': no local sentence-transformers model directory at "
                f"'{model_path}'; set it to a model saved on disk (e.g. all-MiniLM-L6-v2 saved with "
                "SentenceTransformer.save()); models are never downloaded. Or use dedup.semantic.backend 'hashing'")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise ConfigError(
                f"key 'dedup.semantic.model' ('{model_path}') needs the sentence-transformers package, "
                f"which is not importable ({error}): pip install sentence-transformers, "
                "or set dedup.semantic.backend to 'hashing'") from error
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.batch_size = batch_size
        # local_files_only (sentence-transformers >= 2.3) also stops remote code or a hub lookup.
        accepted = inspect.signature(SentenceTransformer).parameters
        offline = {"local_files_only": True} if "local_files_only" in accepted else {}
        self.model = SentenceTransformer(str(path), device=self.device, **offline)
        dim = self.model.get_sentence_embedding_dimension()
        self.dim = int(dim) if dim else int(self.model.encode(["x"], convert_to_numpy=True).shape[1])

    def embed(self, texts: Sequence[str], segmentations: str | Sequence[str] = "whitespace"
              ) -> tuple[np.ndarray, np.ndarray]:
        segmentations = _segmentations(texts, segmentations)
        empty = np.array([not words(text or "", seg) for text, seg in zip(texts, segmentations)], dtype=bool)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        todo = np.flatnonzero(~empty)
        if len(todo):
            vectors = self.model.encode([texts[i] for i in todo], batch_size=self.batch_size,
                                        normalize_embeddings=True, convert_to_numpy=True,
                                        show_progress_bar=False)
            out[todo] = _normalise_rows(np.asarray(vectors, dtype=np.float32))
        return out, empty


# ---------------------------------------------------------------- per-worker cache and batches

_EMBEDDERS: dict[tuple, Embedder] = {}


def load_embedder(config: SemanticDedupConfig) -> Embedder:
    """The configured embedder, built once per Python process (a model loads once per worker)."""
    if config.backend not in SEMANTIC_BACKENDS:
        raise ConfigError(f"key 'dedup.semantic.backend': unknown backend '{config.backend}' "
                          f"(known: {', '.join(SEMANTIC_BACKENDS)})")
    if config.backend == "hashing":
        key: tuple = ("hashing", config.dim, config.seed)
    else:
        key = ("sentence_transformers", config.model, config.batch_size)
    if key not in _EMBEDDERS:
        _EMBEDDERS[key] = (HashingEmbedder(config.dim, config.seed) if config.backend == "hashing"
                           else SentenceTransformerEmbedder(config.model, config.batch_size))
    return _EMBEDDERS[key]


def embedding_rows(batches: Iterable[pa.RecordBatch], config: SemanticDedupConfig,
                   segmentation: dict[str, str]) -> Iterator[pa.RecordBatch]:
    """(id, embedding, empty) for every document, `config.batch_size` documents at a time.

    Input columns: id, text, lang; `segmentation` maps a language to 'whitespace' or 'chars'.
    """
    embedder = load_embedder(config)
    for batch in batches:
        for start in range(0, batch.num_rows, config.batch_size):
            part = batch.slice(start, config.batch_size)
            texts = [text or "" for text in part.column("text").to_pylist()]
            segmentations = [segmentation_for(lang, segmentation) for lang in part.column("lang").to_pylist()]
            vectors, empty = embedder.embed(texts, segmentations)
            dim = vectors.shape[1]
            offsets = pa.array(np.arange(0, (len(texts) + 1) * dim, dim, dtype=np.int32))
            embedding = pa.ListArray.from_arrays(offsets, pa.array(vectors.ravel(), type=pa.float32()))
            yield pa.record_batch([part.column("id"), embedding, pa.array(empty)], schema=EMBEDDING_SCHEMA)
