"""classifiers/scoring.py under classify.timeout_s: a document whose scoring hangs inside C code
(a catastrophically backtracking `re` pattern in the model's predict) is cut at the limit, gets
null scores and classify__timeout = 1; the other documents score exactly as without the limit."""
import re
import time

import numpy as np
import pyarrow as pa
import pytest

from classifiers import scoring
from classifiers.model_files import save_model, train_model
from tests.classifiers.data import multiclass_dataset, quality_dataset

LIMIT = 0.5
MARKER = "CATASTROPHIC"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    texts, labels = quality_dataset(100)
    save_model(train_model("fasttext", texts, labels, epoch=10, lr=0.5, dim=16, bucket=50_000), root / "quality")
    texts, labels = multiclass_dataset(60)
    save_model(train_model("sklearn", texts, labels), root / "domain")
    return {"quality": str(root / "quality"), "domain": str(root / "domain")}


@pytest.fixture
def fresh_sandboxes():
    """Each test forks its own child (it sees this test's patches), and kills it after."""
    def close():
        for sandbox in scoring._SANDBOXES.values():
            sandbox.close()
        scoring._SANDBOXES.clear()
    close()
    yield
    close()


@pytest.fixture
def hanging_predict(monkeypatch, models, fresh_sandboxes):
    model = scoring._cached(models["quality"])
    real = type(model).predict_normalized

    def predict_normalized(self, normalized):
        if any(MARKER.lower() in t for t in normalized):   # normalised text is lowercase
            re.match(r"(a+)+$", "a" * 40 + "b")     # hours inside the C regex engine
        return real(self, normalized)

    monkeypatch.setattr(type(model), "predict_normalized", predict_normalized)


def batch_of(texts):
    return pa.RecordBatch.from_pydict({"id": [str(i) for i in range(len(texts))], "text": texts})


def columns_of(models):
    return {name: scoring.score_columns(name, directory) for name, directory in models.items()}


def texts(n=6):
    good, _ = quality_dataset(n // 2, seed=3)
    return good


def test_same_scores_as_scoring_in_this_process(models, fresh_sandboxes):
    docs = texts() + ["", None]
    out = pa.Table.from_batches(list(scoring.score_batches([batch_of(docs)], models, columns_of(models))))
    assert out.column(scoring.TIMEOUT_COLUMN).to_pylist() == [0.0] * len(docs)
    plain = [t or "" for t in docs]
    quality = scoring._cached(models["quality"]).predict_proba(plain)
    hq = list(scoring._cached(models["quality"]).labels).index("hq")
    assert out.column("quality__score").to_pylist() == quality[:, hq].astype(np.float32).tolist()
    domain = scoring._cached(models["domain"])
    probabilities = domain.predict_proba(plain)
    labels = [str(label) for label in domain.labels]
    assert out.column("domain__label").to_pylist() == [labels[i] for i in probabilities.argmax(axis=1)]


def test_a_document_hanging_in_c_code_is_cut_and_the_rest_scored(models, hanging_predict):
    docs = texts()
    docs.insert(2, f"{MARKER} this one hangs")
    columns = columns_of(models)
    expected = pa.Table.from_batches(list(scoring.score_batches([batch_of(docs[:2] + docs[3:])], models, columns,
                                                                timeout_s=LIMIT)))
    started = time.monotonic()
    out = pa.Table.from_batches(list(scoring.score_batches([batch_of(docs)], models, columns, timeout_s=LIMIT)))
    elapsed = time.monotonic() - started
    # the group's limit (min(LIMIT, 2 s)), then the documents one at a time up to the one that
    # hangs, which runs to its limit; then one batched call for the rest
    assert 2 * LIMIT <= elapsed < 2 * LIMIT + 2.0
    assert out.column(scoring.TIMEOUT_COLUMN).to_pylist() == [0.0] * 2 + [1.0] + [0.0] * (len(docs) - 3)
    scored = [c for table in columns.values() for c in table] + ["domain__label"]
    assert len(scored) >= 4
    row = out.slice(2, 1).to_pylist()[0]
    assert all(row[name] is None for name in scored)
    kept = pa.concat_tables([out.slice(0, 2), out.slice(3)])
    for name in scored:
        assert kept.column(name).to_pylist() == expected.column(name).to_pylist(), name
