"""Token shards (docs/architecture.md, "Token shards"): write, verify, read, export to Megatron.

    <dir>/00000.ds          raw little-endian token ids (uint16 when the vocabulary fits, else uint32),
                            documents concatenated, each ending in EOS
    <dir>/00000.ds.index    uint64 END offset (in tokens) of each document in that shard
    <dir>/manifest.json     format version, dtype, tokenizer, BOS/EOS, seed, per-shard sizes and sha256

The .ds/.ds.index pair is byte-compatible with datatrove/nanotron token files, and the .ds bytes
are exactly a Megatron `.bin` (export_megatron writes only the `.idx` beside a copy). Readers check
the manifest against the files before memory-mapping them, so a truncated or swapped file fails
with a ShardError naming it instead of silently training on garbage.

    python -m pipeline.tokens.shards verify out/demo/shards/train
    python -m pipeline.tokens.shards export-megatron out/demo/shards/train out/megatron/train
"""
from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import os
import re
import shutil
import struct
import sys
import uuid
from pathlib import Path
from typing import Any, Iterable

import numpy as np

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TMP_MARK = ".tmp-"                     # a file being written: <name>.tmp-<uuid>
FORMAT_NAME = "curate-token-shards"
INDEX_DTYPE = np.dtype("<u8")
_DTYPES = {"uint16": np.dtype("<u2"), "uint32": np.dtype("<u4")}
_SHARD_NAME = re.compile(r"^\d{5,}$")
_CHUNK = 8 << 20                       # bytes per read/write when hashing or copying


class ShardError(ValueError):
    """A shard directory is corrupt or inconsistent with its manifest; the message names the file."""


def dtype_for_vocab(vocab_size: int) -> np.dtype:
    """uint16 while every id fits (vocab <= 65,536), else uint32 (Llama 3's 128,256 ids)."""
    if vocab_size <= 0:
        raise ValueError(f"vocab_size must be > 0, got {vocab_size}")
    if vocab_size > 1 << 32:
        raise ValueError(f"vocab_size {vocab_size} does not fit uint32 token ids")
    return _DTYPES["uint16"] if vocab_size <= 1 << 16 else _DTYPES["uint32"]


def shard_name(index: int) -> str:
    if index < 0:
        raise ValueError(f"shard index must be >= 0, got {index}")
    return f"{index:05d}"


def write_shard(directory: str | os.PathLike, index: int, documents: Iterable[np.ndarray], dtype, *,
                options: dict | None = None) -> dict:
    """Write shard `index` from documents that already end in EOS; returns its manifest entry.

    Local (and mounted) directories: files are written under temporary names and renamed at the
    end, so a retried Spark task (or two speculative copies of one) leaves one complete shard, never
    a torn one. A URI (s3a://...; storage settings `options`) is written through pipeline/storage.py
    straight to the final names: an object store has no rename, but an object appears only whole,
    when its upload completes, and a retried task rewrites the same bytes. An upload that fails
    halfway is deleted; what marks the shards complete is the manifest (written by the driver after
    every shard) and, above it, the stage's stats file (pipeline/stage_spark.execute).
    """
    dtype = np.dtype(dtype).newbyteorder("<")
    if dtype.name not in _DTYPES:
        raise ValueError(f"shard dtype must be uint16 or uint32, got {dtype}")
    name = shard_name(index)
    digest, ends = hashlib.sha256(), []
    chunks = _shard_chunks(documents, dtype, name, ends)
    if _is_remote(str(directory)):
        from pipeline import storage

        base = str(directory).rstrip("/")
        data_uri, index_uri = f"{base}/{name}.ds", f"{base}/{name}.ds.index"
        try:
            with storage.open_output(data_uri, options) as out:
                for chunk in chunks:
                    digest.update(chunk)
                    out.write(chunk)
            index_bytes = np.asarray(ends, dtype=INDEX_DTYPE).tobytes()
            storage.write_bytes(index_uri, index_bytes, options)
        except BaseException:
            for uri in (data_uri, index_uri):   # closing the stream completed a partial upload
                try:
                    storage.delete(uri, options)
                except OSError:
                    pass
            raise
    else:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        data_path, index_path = directory / f"{name}.ds", directory / f"{name}.ds.index"
        tmp = f"{TMP_MARK}{uuid.uuid4().hex}"
        data_tmp, index_tmp = data_path.with_name(data_path.name + tmp), index_path.with_name(index_path.name + tmp)
        try:
            with open(data_tmp, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    out.write(chunk)
            index_bytes = np.asarray(ends, dtype=INDEX_DTYPE).tobytes()
            index_tmp.write_bytes(index_bytes)
            os.replace(data_tmp, data_path)
            os.replace(index_tmp, index_path)
        finally:
            for path in (data_tmp, index_tmp):
                if path.exists():
                    path.unlink()
    return {"name": name, "tokens": int(ends[-1]) if ends else 0, "documents": len(ends),
            "sha256": digest.hexdigest(), "index_sha256": hashlib.sha256(index_bytes).hexdigest()}


def _shard_chunks(documents: Iterable[np.ndarray], dtype: np.dtype, name: str, ends: list[int]):
    """The shard's bytes in pieces of a few MB (one write each, not one per document); appends each
    document's end offset to `ends`."""
    limit = np.iinfo(dtype).max
    offset = 0
    pending: list[bytes] = []
    pending_bytes = 0
    for doc in documents:
        doc = np.asarray(doc)
        if doc.ndim != 1 or doc.size == 0:
            raise ValueError(f"shard {name}: document {len(ends)} must be a non-empty 1-D id array "
                             f"(it ends in EOS), got shape {doc.shape}")
        if doc.dtype != dtype:
            if doc.dtype.kind not in "iu" or int(doc.min()) < 0 or int(doc.max()) > limit:
                raise ValueError(f"shard {name}: document {len(ends)} has ids outside {dtype.name}")
            doc = doc.astype(dtype)
        chunk = doc.tobytes()
        pending.append(chunk)
        pending_bytes += len(chunk)
        offset += doc.size
        ends.append(offset)
        if pending_bytes >= _CHUNK:
            yield b"".join(pending)
            pending, pending_bytes = [], 0
    if pending:
        yield b"".join(pending)


def _is_remote(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def write_manifest(directory: str | os.PathLike, shards: list[dict], *, tokenizer_name: str,
                   tokenizer_sha256: str, vocab_size: int, bos_id: int | None, eos_id: int, seed: int,
                   totals: dict | None = None, mix: dict | None = None, extra: dict | None = None,
                   options: dict | None = None) -> dict:
    """Write manifest.json for `shards` (write_shard's entries, any order: sorted by name here) into a
    local directory (beside, then renamed) or a URI (one object, whole; storage settings `options`)."""
    shards = sorted((dict(s) for s in shards), key=lambda s: s["name"])
    manifest: dict[str, Any] = {
        "format": FORMAT_NAME, "format_version": FORMAT_VERSION,
        "dtype": dtype_for_vocab(vocab_size).name,
        "tokenizer": {"name": tokenizer_name, "sha256": tokenizer_sha256},
        "vocab_size": int(vocab_size), "bos_id": None if bos_id is None else int(bos_id), "eos_id": int(eos_id),
        "seed": int(seed),
        "num_shards": len(shards),
        "num_documents": sum(int(s["documents"]) for s in shards),
        "num_tokens": sum(int(s["tokens"]) for s in shards),
        "shards": shards, "totals": totals or {}, "mix": mix,
    }
    for key, value in (extra or {}).items():
        if key in manifest:
            raise ValueError(f"write_manifest: extra key '{key}' would overwrite a manifest field")
        manifest[key] = value
    _check_manifest(manifest, Path(directory) / MANIFEST)
    text = json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"
    if _is_remote(str(directory)):
        from pipeline import storage

        storage.write_bytes(f"{str(directory).rstrip('/')}/{MANIFEST}", text.encode("utf-8"), options)
        return manifest
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    tmp = path / f"{MANIFEST}{TMP_MARK}{uuid.uuid4().hex}"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path / MANIFEST)
    return manifest


def read_manifest(directory: str | os.PathLike) -> dict:
    """The parsed manifest, its structure and version checked (files are not opened)."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise ShardError(f"{path}: no manifest (is {directory} a shard directory written by jobs/tokens.py?)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ShardError(f"{path}: not valid JSON ({err})") from None
    _check_manifest(manifest, path)
    return manifest


def _check_manifest(manifest: Any, path: Path) -> None:
    def fail(what: str) -> ShardError:
        return ShardError(f"{path}: {what}")

    if not isinstance(manifest, dict):
        raise fail("the manifest must be a JSON object")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise fail(f"unsupported format_version {version!r} (this reader reads {FORMAT_VERSION})")
    for key, kind in (("dtype", str), ("tokenizer", dict), ("vocab_size", int), ("eos_id", int), ("seed", int),
                      ("num_shards", int), ("num_documents", int), ("num_tokens", int), ("shards", list)):
        if not isinstance(manifest.get(key), kind) or isinstance(manifest.get(key), bool):
            raise fail(f"key '{key}' missing or not a {kind.__name__}")
    if manifest["dtype"] not in _DTYPES:
        raise fail(f"dtype {manifest['dtype']!r} is not uint16 or uint32")
    if manifest["vocab_size"] <= 0 or manifest["dtype"] != dtype_for_vocab(manifest["vocab_size"]).name:
        raise fail(f"dtype {manifest['dtype']} does not match vocab_size {manifest['vocab_size']}")
    for key in ("bos_id", "eos_id"):
        value = manifest.get(key)
        if value is not None and (not isinstance(value, int) or not 0 <= value < manifest["vocab_size"]):
            raise fail(f"{key} {value!r} is outside the vocabulary [0, {manifest['vocab_size']})")
    names = set()
    for i, shard in enumerate(manifest["shards"]):
        if not isinstance(shard, dict):
            raise fail(f"shards[{i}] is not an object")
        for key, kind in (("name", str), ("tokens", int), ("documents", int), ("sha256", str),
                          ("index_sha256", str)):
            if not isinstance(shard.get(key), kind) or isinstance(shard.get(key), bool):
                raise fail(f"shards[{i}].{key} missing or not a {kind.__name__}")
        if not _SHARD_NAME.match(shard["name"]) or shard["name"] in names:
            raise fail(f"shards[{i}].name {shard['name']!r} is not a unique shard name like 00000")
        if shard["tokens"] < shard["documents"] or shard["documents"] < 0:
            raise fail(f"shard {shard['name']}: {shard['tokens']} tokens cannot hold {shard['documents']} "
                       "documents that each end in EOS")
        names.add(shard["name"])
    for key, field in (("num_shards", None), ("num_documents", "documents"), ("num_tokens", "tokens")):
        expected = len(manifest["shards"]) if field is None else sum(s[field] for s in manifest["shards"])
        if manifest[key] != expected:
            raise fail(f"{key} is {manifest[key]} but the shards add up to {expected}")


def verify_shards(directory: str | os.PathLike, check_sha256: bool = True) -> dict:
    """Check every file against the manifest; returns the manifest, raises ShardError naming the file.

    Always: file sizes, document counts, strictly increasing end offsets, last offset == tokens.
    With check_sha256 (reads everything): both checksums, ids below vocab_size, EOS ending each document.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    itemsize = _DTYPES[manifest["dtype"]].itemsize
    for shard in manifest["shards"]:
        data_path, index_path = directory / f"{shard['name']}.ds", directory / f"{shard['name']}.ds.index"
        for path, expected in ((data_path, shard["tokens"] * itemsize),
                               (index_path, shard["documents"] * INDEX_DTYPE.itemsize)):
            if not path.is_file():
                raise ShardError(f"{path}: missing (listed in {directory / MANIFEST})")
            size = path.stat().st_size
            if size != expected:
                raise ShardError(f"{path}: {size} bytes, the manifest expects {expected} "
                                 f"({'truncated' if size < expected else 'too long'})")
        ends = _read_index(index_path, shard["documents"])
        if ends.size and (ends[0] == 0 or np.any(np.diff(ends.astype(np.int64)) <= 0)):
            raise ShardError(f"{index_path}: document end offsets are not strictly increasing")
        last = int(ends[-1]) if ends.size else 0
        if last != shard["tokens"]:
            raise ShardError(f"{index_path}: last end offset {last} != {shard['tokens']} tokens in the manifest")
        if check_sha256:
            _check_hash(index_path, shard["index_sha256"])
            _check_data(data_path, shard["sha256"], ends, manifest)
    return manifest


def _read_index(path: Path, count: int) -> np.ndarray:
    return np.fromfile(path, dtype=INDEX_DTYPE, count=count) if count else np.empty(0, INDEX_DTYPE)


def _check_hash(path: Path, expected: str) -> None:
    with open(path, "rb") as handle:
        actual = hashlib.file_digest(handle, "sha256").hexdigest()
    if actual != expected:
        raise ShardError(f"{path}: sha256 {actual} != {expected} in the manifest (the file is corrupt or replaced)")


def _check_data(path: Path, expected: str, ends: np.ndarray, manifest: dict) -> None:
    dtype = _DTYPES[manifest["dtype"]]
    digest, top = hashlib.sha256(), -1
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK - _CHUNK % dtype.itemsize):
            digest.update(chunk)
            top = max(top, int(np.frombuffer(chunk, dtype=dtype).max()))
    if digest.hexdigest() != expected:
        raise ShardError(f"{path}: sha256 {digest.hexdigest()} != {expected} in the manifest "
                         "(the file is corrupt or replaced)")
    if top >= manifest["vocab_size"]:
        raise ShardError(f"{path}: token id {top} is outside the vocabulary of {manifest['vocab_size']}")
    if ends.size:
        tokens = np.memmap(path, dtype=dtype, mode="r")
        last = np.asarray(tokens[ends.astype(np.int64) - 1])
        bad = np.flatnonzero(last != manifest["eos_id"])
        if bad.size:
            raise ShardError(f"{path}: document {int(bad[0])} does not end in EOS {manifest['eos_id']}")


class ShardReader:
    """Random access to the documents of a shard directory through memory maps.

    The manifest is checked against the files first (sizes and counts always, checksums when
    `verify`), so a reader never maps a file the manifest does not describe.
    """

    def __init__(self, directory: str | os.PathLike, verify: bool = True):
        self.directory = Path(directory)
        self.manifest = verify_shards(self.directory, check_sha256=verify)
        self.dtype = _DTYPES[self.manifest["dtype"]]
        self.vocab_size: int = self.manifest["vocab_size"]
        self.eos_id: int = self.manifest["eos_id"]
        self.bos_id: int | None = self.manifest.get("bos_id")
        self.num_shards: int = self.manifest["num_shards"]
        self.num_documents: int = self.manifest["num_documents"]
        self.num_tokens: int = self.manifest["num_tokens"]
        self._names = [s["name"] for s in self.manifest["shards"]]
        # first global document index of each shard, for bisecting a global index to (shard, local)
        self._first_doc = np.cumsum([0] + [s["documents"] for s in self.manifest["shards"]]).tolist()
        self._tokens: dict[int, np.ndarray] = {}
        self._ends: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return self.num_documents

    def shard_tokens(self, k: int) -> np.ndarray:
        if k not in self._tokens:
            path = self.directory / f"{self._names[k]}.ds"
            # np.memmap refuses empty files; an empty shard is an empty array
            self._tokens[k] = (np.memmap(path, dtype=self.dtype, mode="r") if path.stat().st_size
                               else np.empty(0, self.dtype))
        return self._tokens[k]

    def shard_ends(self, k: int) -> np.ndarray:
        if k not in self._ends:
            self._ends[k] = _read_index(self.directory / f"{self._names[k]}.ds.index",
                                        self.manifest["shards"][k]["documents"])
        return self._ends[k]

    def document(self, i: int) -> np.ndarray:
        """Tokens of global document `i` (0-based over shards in name order), EOS included."""
        if i < 0:
            i += self.num_documents
        if not 0 <= i < self.num_documents:
            raise IndexError(f"document {i} out of range (0..{self.num_documents - 1})")
        k = bisect.bisect_right(self._first_doc, i) - 1
        local = i - self._first_doc[k]
        ends = self.shard_ends(k)
        start = int(ends[local - 1]) if local else 0
        return self.shard_tokens(k)[start:int(ends[local])]


# Megatron-LM's MMapIndexedDataset index (megatron/core/datasets/indexed_dataset.py).
MEGATRON_MAGIC = b"MMIDIDX\x00\x00"
MEGATRON_VERSION = 1
MEGATRON_DTYPE_CODES = {"uint16": 8, "int32": 4}


def export_megatron(directory: str | os.PathLike, out_prefix: str | os.PathLike) -> tuple[str, str]:
    """Write `<out_prefix>.bin` (the .ds files concatenated, bytes unchanged) and `<out_prefix>.idx`.

    Megatron has no uint32 type: uint32 shards are declared int32, the same bytes for every id
    below 2**31 (checked here), so nothing is re-tokenised or rewritten. One sequence per document.
    """
    reader = ShardReader(directory, verify=True)
    if reader.dtype.name == "uint32" and reader.vocab_size > 1 << 31:
        raise ShardError(f"{Path(directory) / MANIFEST}: vocab_size {reader.vocab_size} exceeds Megatron's int32 ids")
    code = MEGATRON_DTYPE_CODES["uint16" if reader.dtype.name == "uint16" else "int32"]
    bin_path, idx_path = f"{out_prefix}.bin", f"{out_prefix}.idx"
    Path(bin_path).parent.mkdir(parents=True, exist_ok=True)
    sizes, pointers, base = [], [], 0
    with open(bin_path, "wb") as out:
        for k in range(reader.num_shards):
            ends = reader.shard_ends(k).astype(np.int64)
            starts = np.concatenate([[0], ends[:-1]])
            sizes.append(ends - starts)
            pointers.append((base + starts) * reader.dtype.itemsize)
            base += int(ends[-1]) if ends.size else 0
            with open(reader.directory / f"{reader._names[k]}.ds", "rb") as shard:
                shutil.copyfileobj(shard, out, _CHUNK)
    size_array = np.concatenate(sizes).astype("<i4") if sizes else np.empty(0, "<i4")
    pointer_array = np.concatenate(pointers).astype("<i8") if pointers else np.empty(0, "<i8")
    doc_idx = np.arange(size_array.size + 1, dtype="<i8")
    with open(idx_path, "wb") as out:
        out.write(MEGATRON_MAGIC)
        out.write(struct.pack("<Q", MEGATRON_VERSION))
        out.write(struct.pack("<B", code))
        out.write(struct.pack("<Q", size_array.size))
        out.write(struct.pack("<Q", doc_idx.size))
        out.write(size_array.tobytes())
        out.write(pointer_array.tobytes())
        out.write(doc_idx.tobytes())
    return bin_path, idx_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.tokens.shards",
                                     description="Verify token shards or export them to Megatron-LM .bin/.idx.")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="check files, counts, offsets and sha256 against manifest.json")
    verify.add_argument("directory", metavar="DIR")
    verify.add_argument("--no-sha256", action="store_true", help="check sizes and offsets only (fast)")
    export = commands.add_parser("export-megatron", help="write PREFIX.bin and PREFIX.idx (MMIDIDX) from DIR")
    export.add_argument("directory", metavar="DIR")
    export.add_argument("prefix", metavar="PREFIX")
    args = parser.parse_args(argv)
    try:
        if args.command == "verify":
            manifest = verify_shards(args.directory, check_sha256=not args.no_sha256)
            print(f"ok: {args.directory}: {manifest['num_shards']} shards, {manifest['num_documents']} documents, "
                  f"{manifest['num_tokens']} tokens ({manifest['dtype']})")
        else:
            bin_path, idx_path = export_megatron(args.directory, args.prefix)
            print(f"wrote {bin_path} and {idx_path}")
    except ShardError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
