"""Evaluation sets from files the user gives, turned into one n-gram index (nothing is downloaded).

A folder (local or object store) holds one benchmark per file, or per subfolder of files; its name
(the file's name without extensions, or the subfolder's) is the benchmark's name in the stats.
Formats: JSONL (.jsonl, .json, optionally .gz), Parquet, and plain text (.txt: one example per
non-empty line). An example's text is its `fields` (decontam.fields) joined; a list field (choices)
contributes every item. Examples shorter than one n-gram cannot be checked: they are counted as
too short, not silently left out of the contamination rate.

The index is two parallel arrays sorted by hash (8 + 4 bytes per distinct (n-gram, benchmark)):
what executors receive, by broadcast. The driver also keeps each example's n-grams to turn matched
n-grams into the share of a benchmark's examples found in the corpus.
"""
from __future__ import annotations

import gzip
import io
import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

import numpy as np
import pyarrow.parquet as pq

from decontam.ngrams import NgramSpec, batch_ngrams
from pipeline.io import InputError, is_remote

JSONL = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".ndjson")
PARQUET = (".parquet",)
TEXT = (".txt", ".txt.gz")


@dataclass
class EvalIndex:
    names: list[str]                        # benchmark names; the index's benchmark ids point here
    hashes: np.ndarray                      # uint64, sorted; one entry per distinct (hash, benchmark)
    benchmarks: np.ndarray                  # int32, parallel to hashes
    example_hashes: dict[str, list[np.ndarray]] = field(default_factory=dict)   # per benchmark, per example
    too_short: dict[str, int] = field(default_factory=dict)

    @property
    def ngrams(self) -> int:
        return int(len(self.hashes))

    def examples(self, name: str) -> int:
        return len(self.example_hashes.get(name, [])) + self.too_short.get(name, 0)

    def contamination(self, matched: np.ndarray) -> dict[str, dict[str, Any]]:
        """Per benchmark: examples, examples with an n-gram in `matched` (the corpus's matched,
        non-frequent n-grams) and their share (Llama 3's contamination rate)."""
        matched = np.unique(np.asarray(matched, dtype=np.uint64))
        out = {}
        for name in self.names:
            found = sum(bool(np.isin(h, matched, assume_unique=False).any()) for h in self.example_hashes[name])
            total = self.examples(name)
            out[name] = {"examples": total, "too_short": self.too_short.get(name, 0), "examples_found": found,
                         "contamination_rate": round(found / total, 6) if total else 0.0}
        return out


def build_index(folder: str, fields: list[str], spec: NgramSpec, chunk: int = 2048) -> EvalIndex:
    names: list[str] = []
    per_hash: list[np.ndarray] = []
    per_bench: list[np.ndarray] = []
    example_hashes: dict[str, list[np.ndarray]] = {}
    too_short: dict[str, int] = {}
    for name, paths in _benchmarks(folder):
        bench = len(names)
        names.append(name)
        example_hashes[name], too_short[name] = [], 0
        texts = [_example_text(record, fields) for path in paths for record in _records(path)]
        for begin in range(0, len(texts), chunk):
            part = texts[begin:begin + chunk]
            hashes, which, _, _ = batch_ngrams(part, spec)
            bounds = np.searchsorted(which, np.arange(len(part) + 1))
            for i in range(len(part)):
                own = np.unique(hashes[bounds[i]:bounds[i + 1]])
                if len(own) == 0:
                    too_short[name] += 1
                    continue
                example_hashes[name].append(own)
                per_hash.append(own)
                per_bench.append(np.full(len(own), bench, dtype=np.int32))
    if not names:
        raise InputError(f"decontam.eval_sets: no evaluation files in {folder} "
                         f"(expected {', '.join(JSONL + PARQUET + TEXT)})")
    hashes = np.concatenate(per_hash) if per_hash else np.zeros(0, np.uint64)
    benches = np.concatenate(per_bench) if per_bench else np.zeros(0, np.int32)
    order = np.lexsort((benches, hashes))
    hashes, benches = hashes[order], benches[order]
    distinct = np.ones(len(hashes), dtype=bool)
    distinct[1:] = (hashes[1:] != hashes[:-1]) | (benches[1:] != benches[:-1])
    return EvalIndex(names, hashes[distinct], benches[distinct], example_hashes, too_short)


def lookup(hashes: np.ndarray, index_hashes: np.ndarray) -> np.ndarray:
    """Positions of `hashes` found in the sorted index (a boolean mask). The keys are searched in
    sorted order: numpy then starts each search where the last one ended (half the time)."""
    if len(index_hashes) == 0 or len(hashes) == 0:
        return np.zeros(len(hashes), dtype=bool)
    order = np.argsort(hashes)
    keys = hashes[order]
    at = np.searchsorted(index_hashes, keys)
    at[at == len(index_hashes)] = 0
    found = np.empty(len(hashes), dtype=bool)
    found[order] = index_hashes[at] == keys
    return found


def check_eval_sets(config) -> None:
    """Before any Spark work: the folder lists at least one evaluation file."""
    if not any(True for _ in _benchmarks(config.decontam.eval_sets)):
        raise InputError(f"decontam.eval_sets: no evaluation files in {config.decontam.eval_sets} "
                         f"(expected {', '.join(JSONL + PARQUET + TEXT)})")


def eval_sets_identity(config) -> dict[str, str]:
    """{file: sha256} of the evaluation files: the stage's run key changes when a set changes."""
    import hashlib

    out = {}
    for _, paths in _benchmarks(config.decontam.eval_sets):
        for path in paths:
            with _open(path) as handle:
                out[path] = hashlib.sha256(handle.read()).hexdigest()
    return out


def _benchmarks(folder: str) -> Iterator[tuple[str, list[str]]]:
    """(benchmark name, its files), sorted by name."""
    entries = _list(folder)
    groups: dict[str, list[str]] = {}
    for relative, path in entries:
        parts = relative.split("/")
        if len(parts) == 1:
            if _kind(parts[0]):
                groups.setdefault(_stem(parts[0]), []).append(path)
        elif _kind(parts[-1]) and not any(p.startswith((".", "_")) for p in parts):
            groups.setdefault(parts[0], []).append(path)
    for name in sorted(groups):
        yield name, sorted(groups[name])


def _list(folder: str) -> list[tuple[str, str]]:
    """(path relative to folder, full path) of every file under `folder`."""
    if not is_remote(folder):
        local = folder[len("file://"):] if folder.startswith("file://") else folder
        if not os.path.isdir(local):
            raise InputError(f"decontam.eval_sets: not a folder: {folder}")
        return sorted((os.path.relpath(os.path.join(root, name), local).replace(os.sep, "/"), os.path.join(root, name))
                      for root, _, names in os.walk(local) for name in names)
    import pyarrow.fs

    scheme, rest = folder.split("://", 1)
    filesystem, inner = pyarrow.fs.FileSystem.from_uri(f"{'s3' if scheme in ('s3a', 's3n') else scheme}://{rest}")
    infos = filesystem.get_file_info(pyarrow.fs.FileSelector(inner, recursive=True))
    base = inner.rstrip("/") + "/"
    return sorted((info.path[len(base):], f"{scheme}://{info.path}") for info in infos
                  if info.type == pyarrow.fs.FileType.File)


def _kind(name: str) -> str | None:
    lower = name.lower()
    for kind, suffixes in (("jsonl", JSONL), ("parquet", PARQUET), ("text", TEXT)):
        if lower.endswith(suffixes):
            return kind
    return None


def _stem(name: str) -> str:
    for suffix in sorted(JSONL + PARQUET + TEXT, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _open(path: str):
    from pipeline.io import open_input

    return open_input(path)


def _records(path: str) -> Iterator[Any]:
    kind = _kind(path.rsplit("/", 1)[-1])
    with _open(path) as raw:
        data = raw.read()
    if path.lower().endswith(".gz"):
        data = gzip.decompress(data)
    if kind == "parquet":
        yield from pq.read_table(io.BytesIO(data)).to_pylist()
        return
    for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if kind == "text":
            yield line
            continue
        try:
            yield json.loads(line)
        except ValueError as err:
            raise InputError(f"decontam.eval_sets: {path}:{number}: not JSON ({err})") from None


def _example_text(record: Any, fields: list[str]) -> str:
    if isinstance(record, str):
        return record
    if not isinstance(record, dict):
        return ""
    values = [record[f] for f in fields if f in record] if fields else list(record.values())
    return "\n".join(_strings(values))


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield str(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
