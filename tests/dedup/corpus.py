"""Corpora with known duplicate structure, built from seeded random words (so unrelated
documents share no 5-gram) and exact edits (so Jaccard similarities are known)."""
from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.schema import DOCUMENT_FIELDS

DAY = dt.timedelta(days=1)
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
_CJK = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]


def words(rng: random.Random, count: int) -> list[str]:
    return ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9))) for _ in range(count)]


def text_of(tokens: list[str], per_line: int = 25) -> str:
    return "\n".join(" ".join(tokens[i:i + per_line]) + "." for i in range(0, len(tokens), per_line))


def substitute(rng: random.Random, tokens: list[str], positions: list[int]) -> list[str]:
    edited = list(tokens)
    for position in positions:
        edited[position] = "zz" + "".join(rng.choice("abcdefghij") for _ in range(6))
    return edited


def cjk(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(_CJK) for _ in range(count))


def doc(doc_id: str, text: str, *, url: str | None = None, fetched_at: dt.datetime = T0, lang: str = "en",
        **extra) -> dict:
    return {"id": doc_id, "url": url or f"https://{doc_id}.example/page", "domain": f"{doc_id}.example",
            "source": "web", "fetched_at": fetched_at, "text": text, "lang": lang, "lang_score": 0.99, **extra}


def write(path, rows: list[dict], files: int = 1, extra_fields: list[pa.Field] = ()) -> str:
    """Rows as Parquet documents in `files` files (the partitioning a reader sees)."""
    schema = pa.schema(list(DOCUMENT_FIELDS) + list(extra_fields))
    path.mkdir(parents=True)
    for part in range(files):
        chunk = rows[part::files]
        pq.write_table(pa.Table.from_pylist(chunk, schema=schema), path / f"part-{part:03d}.parquet")
    return str(path)
