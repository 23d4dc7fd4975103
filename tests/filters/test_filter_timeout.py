"""The filter stage under filter.timeout_s (filters/stage.py): the chain runs in a sandbox child;
a document that hangs inside C code is cut at the limit, keeps its text, gets NaN scores and
filter__timeout = 1, and is dropped as filter_timeout; every other document's text and scores
are exactly what the chain gives without the sandbox."""
import dataclasses
import math
import time

import numpy as np
import pyarrow as pa
import pytest

from filters import stage
from filters.base import Batch, TextModifier
from filters.stage import TIMEOUT_COLUMN, TIMEOUT_REASON, build_chain, score_batches, select_batches
from pipeline.config import RunConfig
from tests.filters import hang_filter

LIMIT = 0.5
PROSE = ("The river runs past the old mill, and the farmers bring their grain to the town market. "
         "There the miller weighs each sack and writes the price in his book. Contact: miller@mill.example, "
         "+44 20 7946 0958.\n")
EXTRA = {"token_outlier_v1": {"distribution": np.arange(1, (1 << 16) + 1, dtype=np.float64)}}


@pytest.fixture(autouse=True)
def fresh_sandboxes():
    """Each test forks its own child (so it sees this test's registrations), killed after."""
    def close():
        for sandbox in stage._SANDBOXES.values():
            sandbox.close()
        stage._SANDBOXES.clear()
        stage._CHAINS.clear()
    close()
    yield
    close()


def documents(texts, langs=None):
    n = len(texts)
    return pa.RecordBatch.from_pydict({"id": [f"d{i}" for i in range(n)], "text": texts,
                                       "lang": langs or ["en"] * n,
                                       "url": [f"http://s{i}.example/p" for i in range(n)],
                                       "domain": [f"s{i}.example" for i in range(n)]})


def in_process(config: RunConfig, batch: pa.RecordBatch, extra=None) -> dict:
    """What the chain gives in this process, without the sandbox: {column: values}."""
    chain = build_chain(config.filter, extra)
    texts = [t or "" for t in batch.column("text").to_pylist()]
    view_columns = [batch.column(c).to_pylist() for c in ("lang", "url", "domain")]
    out = {}
    for f in chain.filters:
        view = Batch(texts, *view_columns)
        if isinstance(f, TextModifier):
            texts, scores = f.apply(view)
        else:
            scores = f.score(view)
        out.update({f"{f.prefix}__{k}": np.asarray(v, dtype=np.float64).tolist() for k, v in scores.items()})
    return {"text": texts, **out}


def test_default_chain_scores_exactly_as_in_process():
    config = RunConfig(input=["x"])
    texts = [PROSE * (1 + i % 4) for i in range(10)] + ["", None, "中文的句子。" * 30, "x " * 500]
    langs = ["en"] * 10 + ["en", "en", "zh", None]
    batch = documents(texts, langs)
    out = pa.Table.from_batches(list(score_batches([batch.slice(0, 7), batch.slice(7)], config, EXTRA)))
    expected = in_process(config, batch, EXTRA)
    for name, values in expected.items():
        got = out.column(name).to_pylist()
        assert len(got) == len(values)
        if name == "text":
            assert got == values
        else:   # bit for bit, NaN included
            assert np.asarray(got, np.float64).tobytes() == np.asarray(values, np.float64).tobytes(), name
    assert out.column(TIMEOUT_COLUMN).to_pylist() == [0.0] * len(texts)
    assert out.schema.names[-1] == TIMEOUT_COLUMN


def test_a_document_hanging_in_c_code_is_cut_and_dropped_as_filter_timeout():
    with hang_filter.registered():
        config = RunConfig(input=["x"])
        config.filter = dataclasses.replace(config.filter, filters=["c4_lines_v1", "pii_v1", hang_filter.NAME,
                                                                    "fineweb_v1"], timeout_s=LIMIT)
        texts = [PROSE * (1 + i % 3) for i in range(8)]
        texts.insert(3, PROSE + hang_filter.MARKER + " and more.")
        batch = documents(texts)
        list(score_batches([documents([PROSE])], config))           # fork the child first
        started = time.monotonic()
        out = pa.Table.from_batches(list(score_batches([batch], config)))
        elapsed = time.monotonic() - started
        # the group's limit (min(LIMIT, 2 s)), the documents one at a time up to the hang, which
        # runs to its limit, then one batched call for the rest
        assert 2 * LIMIT <= elapsed < 2 * LIMIT + 1.5
        assert out.column(TIMEOUT_COLUMN).to_pylist() == [0.0] * 3 + [1.0] + [0.0] * 5
        hung = out.slice(3, 1).to_pylist()[0]
        assert hung["text"] == texts[3]                              # not rewritten
        scores = [name for name in out.schema.names if "__" in name and name != TIMEOUT_COLUMN]
        counts = {f.name for f in out.schema if f.name in scores and pa.types.is_integer(f.type)}
        assert counts and all(hung[name] is None for name in counts)            # null counts
        assert all(math.isnan(hung[name]) for name in set(scores) - counts)     # NaN measures
        others = documents(texts[:3] + texts[4:])
        expected = in_process(config, others)
        kept = pa.concat_tables([out.slice(0, 3), out.slice(4)])
        for name, values in expected.items():
            assert kept.column(name).to_pylist() == values, name

        decided = pa.Table.from_batches(list(select_batches(out.to_batches(), config)))
        reasons = decided.column("drop_reason").to_pylist()
        assert reasons[3] == TIMEOUT_REASON
        assert TIMEOUT_REASON not in reasons[:3] + reasons[4:]


def test_select_reads_scores_persisted_before_the_limit_existed():
    config = RunConfig(input=["x"])
    config.filter = dataclasses.replace(config.filter, filters=["fineweb_v1"])
    out = pa.Table.from_batches(list(score_batches([documents([PROSE, "short"])], config)))
    old = out.drop([TIMEOUT_COLUMN])
    decided = pa.Table.from_batches(list(select_batches(old.to_batches(), config)))
    assert decided.column("drop_reason").to_pylist() == \
        pa.Table.from_batches(list(select_batches(out.to_batches(), config))).column("drop_reason").to_pylist()


def test_one_child_per_worker_and_config():
    config = RunConfig(input=["x"])
    config.filter = dataclasses.replace(config.filter, filters=["fineweb_v1"])
    list(score_batches([documents([PROSE])], config))
    sandbox = next(iter(stage._SANDBOXES.values()))
    pid = sandbox.child_pid
    list(score_batches([documents([PROSE, PROSE])], config))
    assert sandbox.child_pid == pid and len(stage._SANDBOXES) == 1
    other = RunConfig(input=["x"])
    other.filter = dataclasses.replace(config.filter, timeout_s=3.0)
    list(score_batches([documents([PROSE])], other))
    assert len(stage._SANDBOXES) == 1 and sandbox.child_pid is None    # the old child was killed
