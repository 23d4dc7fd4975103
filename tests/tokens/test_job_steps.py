"""The tokenize job's executor-side steps on plain pyarrow batches (no Spark), its partition keys,
and the tokenize config section."""
import numpy as np
import pyarrow as pa
import pytest

from pipeline.tokens.stage_spark import drop_torn_files, partition_keys, spark_hash_long
from pipeline.config import ConfigError, load_config, resolve_mix
from pipeline.tokens.shards import ShardReader, write_manifest
from pipeline.tokens.stage import assign_shard_batches, tokenize_batches, write_shard_batches
from pipeline.tokens.tokenizer import load_tokenizer
from tests.tokens.test_tokenizer import ROOT

DEMO = str(ROOT / "conf" / "tokenizer" / "demo")


@pytest.mark.parametrize("add_bos", [False, True])
def test_tokenize_batches_layout(add_bos):
    tok = load_tokenizer(DEMO)
    texts = ["Hello world.", "Grüß Gott", "日本語のテキスト"]
    batch = pa.RecordBatch.from_pydict({"id": ["a", "b", "c"], "text": texts})
    out = pa.Table.from_batches(list(tokenize_batches([batch], path=DEMO, add_bos=add_bos, batch_size=2,
                                                      dtype="uint16")))
    assert out.column_names == ["id", "chars", "text_tokens", "n_tokens", "tokens"]
    assert out.column("id").to_pylist() == ["a", "b", "c"]
    assert out.column("chars").to_pylist() == [len(t) for t in texts]
    for text, tokens, n, n_text in zip(texts, out.column("tokens").to_pylist(), out.column("n_tokens").to_pylist(),
                                       out.column("text_tokens").to_pylist()):
        ids = tok.encode(text).tolist()
        assert np.frombuffer(tokens, "<u2").tolist() == ([tok.bos_id] if add_bos else []) + ids + [tok.eos_id]
        assert n == len(tokens) // 2 and n_text == len(ids)


def test_assign_shards_by_prefix_sums():
    batch = pa.RecordBatch.from_pydict({"pid": [3, 3, 3, 3], "split": ["train", "train", "valid", "train"],
                                        "n_tokens": [5, 7, 4, 9]})
    bases = {(3, "train"): 20, (3, "valid"): 0}
    rows = pa.Table.from_batches(list(assign_shard_batches([batch.slice(0, 2), batch.slice(2)], bases=bases,
                                                           shard_tokens=10))).to_pylist()
    assert [(r["split"], r["start"], r["shard"]) for r in rows] == [
        ("train", 20, 2), ("train", 25, 2), ("valid", 0, 0), ("train", 32, 3)]
    assert "pid" not in rows[0]


@pytest.mark.parametrize("encoding", ["bytes", "list"])
def test_write_shard_batches(tmp_path, encoding):
    docs = [[5, 6, 1], [7, 1], [8, 8, 8, 1], [9, 1]]
    tokens = (pa.array([np.array(d, "<u2").tobytes() for d in docs], pa.binary()) if encoding == "bytes"
              else pa.array(docs, pa.list_(pa.int32())))
    batch = pa.RecordBatch.from_pydict({
        "split": ["train", "train", "train", "valid"], "shard": [0, 0, 1, 0], "start": [0, 3, 5, 0], "tokens": tokens})
    directories = {"train": str(tmp_path / "train"), "valid": str(tmp_path / "valid")}
    rows = pa.Table.from_batches(list(write_shard_batches([batch.slice(0, 1), batch.slice(1)],
                                                          directories=directories, dtype="uint16"))).to_pylist()
    assert [(r["split"], r["name"], r["tokens"], r["documents"], r["first_start"]) for r in rows] == [
        ("train", "00000", 5, 2, 0), ("train", "00001", 4, 1, 5), ("valid", "00000", 2, 1, 0)]
    metas = [{k: r[k] for k in ("name", "tokens", "documents", "sha256", "index_sha256")} for r in rows[:2]]
    write_manifest(directories["train"], metas, tokenizer_name="t", tokenizer_sha256="x", vocab_size=10,
                   bos_id=None, eos_id=1, seed=0)
    reader = ShardReader(directories["train"])
    assert [reader.document(i).tolist() for i in range(3)] == docs[:3]


def test_files_of_a_killed_shard_writer_are_dropped_before_the_commit(tmp_path):
    """A shard task killed mid-write leaves <name>.ds.tmp-<uuid>; its retry wrote <name>.ds."""
    batch = pa.RecordBatch.from_pydict({"split": ["train"], "shard": [0], "start": [0],
                                        "tokens": pa.array([[5, 1]], pa.list_(pa.int32()))})
    list(write_shard_batches([batch], directories={"train": str(tmp_path / "train")}, dtype="uint16"))
    torn = tmp_path / "train" / "00001.ds.tmp-0123abcd"
    torn.write_bytes(b"half a shard")
    drop_torn_files("file://" + str(tmp_path))
    assert sorted(p.name for p in (tmp_path / "train").iterdir()) == ["00000.ds", "00000.ds.index"]


def test_write_shard_batches_detects_a_gap(tmp_path):
    batch = pa.RecordBatch.from_pydict({"split": ["train", "train"], "shard": [0, 0], "start": [0, 4],
                                        "tokens": pa.array([[5, 1], [6, 1]], pa.list_(pa.int32()))})
    with pytest.raises(ValueError, match="starts at 4, expected 2"):
        list(write_shard_batches([batch], directories={"train": str(tmp_path)}, dtype="uint16"))


def test_spark_hash_matches_spark():
    # values of Spark 4.0's SQL hash() (Murmur3, seed 42) on these longs
    expected = {0: -1670924195, 1: -1712319331, -1: -939490007, 2**40 + 7: 995648648,
                -(2**62): -9927176, 123456789012: -1439831649}
    assert {v: spark_hash_long(v) for v in expected} == expected
    keys = partition_keys(50)
    assert [spark_hash_long(k) % 50 for k in keys] == list(range(50))


def test_tokenize_config():
    config = load_config(None, ['tokenize.mix={en/web: 2, "*/wiki": 0.5}', "tokenize.add_bos=true"])
    assert config.tokenize.add_bos and resolve_mix(config.tokenize) == {"en/web": 2.0, "*/wiki": 0.5}
    assert config.tokenize.valid_fraction == 0.01 and config.tokenize.shard_tokens > 0


@pytest.mark.parametrize("override, message", [
    ("tokenize.mix={en: 2}", r"'tokenize.mix': 'en' must be '<lang>/<source>'"),
    ("tokenize.mix={en/web: -1}", r"'tokenize.mix.en/web' must be a finite weight >= 0"),
    ("tokenize.mix={en/web: lots}", r"'tokenize.mix.en/web' must be a number"),
    ("tokenize.valid_fraction=1.5", r"'tokenize.valid_fraction' must be in \[0, 1\)"),
    ("tokenize.shard_tokens=0", r"'tokenize.shard_tokens' must be > 0"),
    ("tokenize.dtype=uint16", r"unknown key 'tokenize.dtype'"),
])
def test_tokenize_config_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [override])


def test_mix_file_and_missing_tokenizer(tmp_path):
    mix = tmp_path / "mix.yaml"
    mix.write_text("mix:\n  en/web: 3\n  '*/*': 0.25\n")
    config = load_config(None, [f"tokenize.mix_file={mix}"])
    assert resolve_mix(config.tokenize) == {"en/web": 3.0, "*/*": 0.25}
    with pytest.raises(ConfigError, match="give one, not both"):
        load_config(None, [f"tokenize.mix_file={mix}", "tokenize.mix={en/web: 1}"])
    with pytest.raises(ConfigError, match="'tokenize.tokenizer': not found"):
        load_config(None, ["stages=[tokenize]", f"tokenize.tokenizer={tmp_path / 'none.model'}"])
