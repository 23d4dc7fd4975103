"""pipeline/scoring_ahead.py: a decision pass that also scores its kept rows."""
import pyarrow as pa

from pipeline.scoring_ahead import decide_then_score

LENGTH = pa.field("length", pa.float32())
SHOUT = pa.field("shout", pa.string())


def decide(batches):
    """Rejects the texts that start with 'x'."""
    for batch in batches:
        texts = batch.column("text").to_pylist()
        reasons = ["starts_with_x" if t.startswith("x") else None for t in texts]
        yield batch.append_column("drop_reason", pa.array(reasons, pa.string()))


def test_kept_rows_are_scored_and_rejected_rows_get_nulls():
    seen = []

    def scorer(batches):
        for batch in batches:
            texts = batch.column("text").to_pylist()
            seen.extend(texts)
            yield (batch.append_column(LENGTH, pa.array([len(t) for t in texts], pa.float32()))
                   .append_column(SHOUT, pa.array([t.upper() for t in texts])))

    batches = [pa.record_batch([pa.array(["ab", "xyz", "cde"]), pa.array([1, 2, 3])], names=["text", "n"]),
               pa.record_batch([pa.array(["xx", "xy"]), pa.array([4, 5])], names=["text", "n"])]
    out = pa.Table.from_batches(list(decide_then_score(iter(batches), decide, [(scorer, [LENGTH, SHOUT])])))
    assert seen == ["ab", "cde"]                       # the rejected rows are never scored
    assert out.column_names == ["text", "n", "drop_reason", "length", "shout"]
    assert out.column("length").to_pylist() == [2.0, None, 3.0, None, None]
    assert out.column("shout").to_pylist() == ["AB", None, "CDE", None, None]
    assert out.column("n").to_pylist() == [1, 2, 3, 4, 5]
    assert out.schema.field("length").type == pa.float32()
