"""Token shards: what is written reads back, every corruption is a ShardError naming the file,
and the Megatron export parses with an independent reader of the MMIDIDX layout."""
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.tokens import shards
from pipeline.tokens.shards import (MANIFEST, ShardError, ShardReader, dtype_for_vocab, export_megatron, read_manifest,
                             shard_name, verify_shards, write_manifest, write_shard)

ROOT = Path(__file__).resolve().parents[2]
EOS = 1


def documents(rng, count, vocab):
    return [np.append(rng.integers(2, vocab, rng.integers(1, 40)), EOS) for _ in range(count)]


def build(directory, vocab=1000, per_shard=(5, 3, 7), bos=0, seed=0):
    rng = np.random.default_rng(seed)
    dtype = dtype_for_vocab(vocab)
    docs, metas = [], []
    for index, count in enumerate(per_shard):
        batch = documents(rng, count, vocab)
        docs.extend(batch)
        metas.append(write_shard(directory, index, batch, dtype))
    write_manifest(directory, metas, tokenizer_name="test/tok", tokenizer_sha256="ab" * 32, vocab_size=vocab,
                   bos_id=bos, eos_id=EOS, seed=7, totals={"en/web": {"documents": len(docs)}},
                   mix={"weights": {}}, extra={"split": "train"})
    return docs


@pytest.mark.parametrize("vocab, dtype", [(2, "uint16"), (65_535, "uint16"), (65_536, "uint16"),
                                          (65_537, "uint32"), (128_256, "uint32")])
def test_dtype_follows_vocabulary(vocab, dtype):
    assert dtype_for_vocab(vocab).name == dtype


def test_shard_names():
    assert shard_name(0) == "00000" and shard_name(123) == "00123" and shard_name(123456) == "123456"


def test_round_trip_random_access(tmp_path):
    docs = build(tmp_path)
    reader = ShardReader(tmp_path)
    assert (reader.num_shards, reader.num_documents) == (3, 15)
    assert reader.num_tokens == sum(len(d) for d in docs)
    assert (reader.vocab_size, reader.eos_id, reader.bos_id, reader.dtype.name) == (1000, EOS, 0, "uint16")
    for i in (0, 4, 5, 7, 8, 14, -1):
        assert reader.document(i).tolist() == docs[i].tolist()
    assert reader.shard_ends(1).tolist() == np.cumsum([len(d) for d in docs[5:8]]).tolist()
    assert reader.shard_tokens(2).tolist() == np.concatenate(docs[8:]).tolist()
    with pytest.raises(IndexError):
        reader.document(15)


def test_files_are_raw_little_endian(tmp_path):
    write_shard(tmp_path, 0, [np.array([70_000, 1])], np.uint32)
    assert (tmp_path / "00000.ds").read_bytes() == struct.pack("<II", 70_000, 1)
    assert (tmp_path / "00000.ds.index").read_bytes() == struct.pack("<Q", 2)


def test_manifest_fields(tmp_path):
    docs = build(tmp_path, vocab=128_256, bos=128_000)
    manifest = read_manifest(tmp_path)
    assert manifest["format_version"] == shards.FORMAT_VERSION and manifest["dtype"] == "uint32"
    assert manifest["tokenizer"] == {"name": "test/tok", "sha256": "ab" * 32}
    assert (manifest["bos_id"], manifest["eos_id"], manifest["seed"], manifest["split"]) == (128_000, EOS, 7, "train")
    assert manifest["num_documents"] == 15 and manifest["num_tokens"] == sum(len(d) for d in docs)
    assert [s["name"] for s in manifest["shards"]] == ["00000", "00001", "00002"]
    assert manifest["totals"] == {"en/web": {"documents": 15}}


def test_write_rejects_bad_documents(tmp_path):
    with pytest.raises(ValueError, match="non-empty"):
        write_shard(tmp_path, 0, [np.array([], dtype=np.int64)], np.uint16)
    with pytest.raises(ValueError, match="outside uint16"):
        write_shard(tmp_path, 0, [np.array([70_000, 1])], np.uint16)
    assert not list(tmp_path.iterdir())  # nothing half-written is left behind


def corrupt_byte(path, at=0):
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage, message", [
    (lambda d: corrupt_byte(d / "00001.ds", 2), r"00001\.ds: sha256 .* corrupt"),
    (lambda d: corrupt_byte(d / "00000.ds.index", 9), r"00000\.ds\.index"),
    (lambda d: (d / "00002.ds").write_bytes((d / "00002.ds").read_bytes()[:-2]), r"00002\.ds: .*truncated"),
    (lambda d: (d / "00001.ds.index").unlink(), r"00001\.ds\.index: missing"),
    (lambda d: (d / MANIFEST).write_text("{not json"), r"manifest\.json: not valid JSON"),
    (lambda d: (d / MANIFEST).unlink(), r"no manifest"),
])
def test_corruption_is_detected(tmp_path, damage, message):
    build(tmp_path)
    damage(tmp_path)
    with pytest.raises(ShardError, match=message):
        verify_shards(tmp_path)
    with pytest.raises(ShardError):
        ShardReader(tmp_path)


def edit_manifest(directory, change):
    manifest = json.loads((directory / MANIFEST).read_text())
    change(manifest)
    (directory / MANIFEST).write_text(json.dumps(manifest))


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(format_version=2), "unsupported format_version 2"),
    (lambda m: m.update(num_tokens=m["num_tokens"] + 1), "num_tokens"),
    (lambda m: m.update(dtype="uint32"), "does not match vocab_size"),
    (lambda m: m.update(eos_id=5000), "eos_id 5000 is outside"),
    (lambda m: m["shards"][0].update(documents=m["shards"][0]["documents"] + 1), r"num_documents|00000\.ds\.index"),
    (lambda m: m["shards"][1].pop("sha256"), r"shards\[1\]\.sha256 missing"),
])
def test_manifest_inconsistencies(tmp_path, change, message):
    build(tmp_path)
    edit_manifest(tmp_path, change)
    with pytest.raises(ShardError, match=message):
        verify_shards(tmp_path)


def one_shard_manifest(directory, docs):
    meta = write_shard(directory, 0, docs, np.uint16)
    write_manifest(directory, [meta], tokenizer_name="t", tokenizer_sha256="x", vocab_size=10, bos_id=None,
                   eos_id=1, seed=0)


def test_offsets_must_increase(tmp_path):
    one_shard_manifest(tmp_path, [np.array([5, 1]), np.array([6, 7, 1])])
    (tmp_path / "00000.ds.index").write_bytes(np.array([3, 2], "<u8").tobytes())  # same size, decreasing
    with pytest.raises(ShardError, match=r"00000\.ds\.index: document end offsets are not strictly increasing"):
        verify_shards(tmp_path, check_sha256=False)


def test_documents_must_end_in_eos(tmp_path):
    one_shard_manifest(tmp_path, [np.array([5, 1]), np.array([6, 7])])
    with pytest.raises(ShardError, match=r"00000\.ds: document 1 does not end in EOS 1"):
        verify_shards(tmp_path)


def test_empty_split_has_a_valid_manifest(tmp_path):
    write_manifest(tmp_path, [], tokenizer_name="t", tokenizer_sha256="x", vocab_size=10, bos_id=None, eos_id=1, seed=0)
    reader = ShardReader(tmp_path)
    assert (reader.num_shards, reader.num_documents, reader.num_tokens) == (0, 0, 0)


def read_megatron_idx(path):
    """An independent reader of Megatron-LM's MMIDIDX index (megatron/core/datasets/indexed_dataset.py)."""
    data = Path(path).read_bytes()
    assert data[:9] == b"MMIDIDX\x00\x00"
    version, = struct.unpack_from("<Q", data, 9)
    code, = struct.unpack_from("<B", data, 17)
    sequences, documents = struct.unpack_from("<QQ", data, 18)
    at = 34
    sizes = np.frombuffer(data, "<i4", sequences, at)
    at += sizes.nbytes
    pointers = np.frombuffer(data, "<i8", sequences, at)
    at += pointers.nbytes
    doc_idx = np.frombuffer(data, "<i8", documents, at)
    assert at + doc_idx.nbytes == len(data)
    return version, code, sizes, pointers, doc_idx


@pytest.mark.parametrize("vocab, code, numpy_dtype", [(1000, 8, np.uint16), (128_256, 4, np.int32)])
def test_megatron_export(tmp_path, vocab, code, numpy_dtype):
    docs = build(tmp_path / "shards", vocab=vocab)
    bin_path, idx_path = export_megatron(tmp_path / "shards", tmp_path / "mega" / "train")
    version, dtype_code, sizes, pointers, doc_idx = read_megatron_idx(idx_path)
    assert (version, dtype_code) == (1, code)
    assert sizes.tolist() == [len(d) for d in docs]
    assert doc_idx.tolist() == list(range(len(docs) + 1))
    tokens = np.fromfile(bin_path, dtype=numpy_dtype)
    itemsize = np.dtype(numpy_dtype).itemsize
    for doc, size, pointer in zip(docs, sizes, pointers):
        assert tokens[pointer // itemsize:pointer // itemsize + size].tolist() == doc.tolist()


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "pipeline.tokens.shards", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_cli_verify_and_export(tmp_path):
    build(tmp_path / "s")
    ok = run_cli("verify", tmp_path / "s")
    assert ok.returncode == 0 and "15 documents" in ok.stdout
    assert run_cli("export-megatron", tmp_path / "s", tmp_path / "m").returncode == 0
    assert (tmp_path / "m.idx").is_file()
    corrupt_byte(tmp_path / "s" / "00000.ds")
    bad = run_cli("verify", tmp_path / "s")
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "00000.ds" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    assert run_cli("verify", tmp_path / "s", "--no-sha256").returncode == 0   # sizes still agree
    assert "export-megatron" in run_cli("--help").stdout
