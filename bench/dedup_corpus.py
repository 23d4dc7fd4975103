"""A dedup benchmark corpus: real paragraphs recombined, with planted near-duplicates and hard
negatives whose exact Jaccard similarities are known.

Paragraphs come from ../shared/data: the CCNet documents of cc-text/dolma and the gold article
texts of html/scrapinghub-article-extraction-benchmark (those written with spaces), split on
newlines, lines over 80 words cut into even pieces, deduplicated, at least 8 words each (about
4,000 paragraphs, 150k words). Every
document is labelled lang 'en' and shingled as word 5-grams (the pipeline's default).

Roles (the truth table says which document plays which):
- background: 4-20 random paragraphs. Two background documents share a paragraph now and then
  (every paragraph is reused at large sizes, like boilerplate on the web), but their Jaccard
  similarity stays below 0.6 even in the worst case (an 80-word paragraph shared by two
  documents whose three others are 8 words each), far below the 0.8 threshold.
- base / copy: a near-duplicate group is a base (at least 150 words) and 1-3 copies, each the
  base with word replacements, insertions and deletions at random positions, the number of edits
  aimed at a Jaccard drawn from [0.86, 0.975]. The exact 5-gram Jaccard of every copy against its
  base is computed (dedup.minhash.batch_shingle_hashes + jaccard) and only copies within
  [0.85, 0.98] are kept (a miss is redrawn, then replaced by a background document). The base is
  the group's most recent fetch, so the keep policy (most recent first) keeps the base.
- hard_a / hard_b: a pair sharing about half their paragraphs (a fraction f in [0.46, 0.82] of
  A's paragraphs reappear in B, shuffled among fresh ones), kept only at exact Jaccard in
  [0.3, 0.7]: similar, but no near-duplicates, so they must not be merged.

Generation streams in chunks (default 20,000 documents; one Parquet file per chunk, row groups
of 2,000) and is vectorised where it matters: cost is linear in the corpus.
"""
from __future__ import annotations

import argparse
import glob
import gzip
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))          # the repository's packages, ahead of bench/ (no bench script is named like a package)

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from dedup.minhash import batch_shingle_hashes, jaccard  # noqa: E402
from pipeline.schema import DOCUMENT_FIELDS  # noqa: E402
from pipeline.text import spaceless_ratio, words  # noqa: E402

DOC_SCHEMA = pa.schema(DOCUMENT_FIELDS)
TRUTH_SCHEMA = pa.schema([
    pa.field("id", pa.string()),
    pa.field("role", pa.string()),          # background | base | copy | hard_a | hard_b
    pa.field("group", pa.int64()),          # near-duplicate group or hard pair; -1 for background
    pa.field("partner", pa.string()),       # copy: its base; hard_a/hard_b: the other one
    pa.field("jaccard", pa.float32()),      # exact 5-gram Jaccard with `partner`
])
COPY_RANGE = (0.85, 0.98)
HARD_RANGE = (0.3, 0.7)
T0 = np.datetime64("2024-01-01T00:00:00", "s")
YEAR_S = 365 * 86400


def load_paragraphs(data: Path, min_words: int = 8, max_words: int = 80) -> list[str]:
    """Distinct paragraphs (lines of at least `min_words` words) of the English-like sources, a
    line longer than `max_words` cut into even pieces: one long paragraph (the longest has 560
    words) would otherwise make up most of a short document, and two short documents drawing it
    would be true near-duplicates of each other (seen: 23 such background documents at 400k)."""
    texts = []
    for path in sorted(glob.glob(str(data / "cc-text" / "dolma" / "*.jsonl.gz"))):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    gold = data / "html" / "scrapinghub-article-extraction-benchmark" / "ground-truth.json"
    if gold.is_file():
        texts += [item.get("articleBody") or "" for item in json.loads(gold.read_text(encoding="utf-8")).values()]
    seen, paragraphs = set(), []
    for text in texts:
        if spaceless_ratio(text) > 0.1:
            continue
        for line in re.split(r"\n+", text):
            tokens = line.split()
            pieces = -(-len(tokens) // max_words)
            for piece in np.array_split(np.array(tokens, dtype=object), pieces) if pieces else []:
                para = " ".join(piece)
                if len(piece) >= min_words and para not in seen:
                    seen.add(para)
                    paragraphs.append(para)
    return paragraphs


@dataclass
class CorpusSpec:
    docs: int
    dup_fraction: float = 0.10      # share of documents that are planted copies
    hard_fraction: float = 0.02     # share of documents in hard-negative pairs
    seed: int = 0
    chunk: int = 20_000
    row_group: int = 2_000


class _Chunk:
    """Rows of one chunk, appended role by role, then shuffled and written."""

    def __init__(self):
        self.texts, self.roles, self.groups, self.partners, self.jaccards, self.offsets = [], [], [], [], [], []

    def add(self, text: str, role: str, group: int = -1, partner: int = -1, jac: float = float("nan"),
            offset_s: int = 0) -> int:
        """Append a row; `partner` is a row index in this chunk; offset_s shifts its fetch time."""
        self.texts.append(text)
        self.roles.append(role)
        self.groups.append(group)
        self.partners.append(partner)
        self.jaccards.append(jac)
        self.offsets.append(offset_s)
        return len(self.texts) - 1


class CorpusWriter:
    def __init__(self, paragraphs: list[str], spec: CorpusSpec):
        self.spec = spec
        self.paras = np.array(paragraphs, dtype=object)
        vocab = sorted({w for p in paragraphs for w in p.split() if w.isalpha() and len(w) > 2})
        self.vocab = np.array(vocab, dtype=object)
        self.rng = np.random.default_rng(spec.seed)
        self.next_group = 0
        self.stats = {"copies_redrawn": 0, "copies_dropped": 0, "hard_redrawn": 0, "hard_dropped": 0}

    # ------------------------------------------------------------ documents

    def _texts(self, counts: np.ndarray) -> list[str]:
        """One document per entry of `counts`: that many random paragraphs, newline-joined."""
        picks = self.paras[self.rng.integers(0, len(self.paras), int(counts.sum()))]
        bounds = np.concatenate(([0], np.cumsum(counts)))
        return ["\n".join(picks[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]

    def background(self, count: int) -> list[str]:
        return self._texts(self.rng.integers(4, 21, count))

    def _edit(self, text: str, shingles: int, target: float) -> str:
        """Random replacements (1/2), insertions (1/4) and deletions (1/4) of words: each edit
        changes about 5 of the 5-gram shingles, so e edits give J ~ (S - 5e) / (S + 5e)."""
        tokens = np.array(text.split(" "), dtype=object)
        edits = int(np.clip(round(shingles * (1 - target) / (5 * (1 + target))), 1, len(tokens)))
        pos = self.rng.choice(len(tokens), size=edits, replace=False)
        kind = self.rng.random(edits)
        replace, insert, delete = pos[kind < 0.5], pos[(kind >= 0.5) & (kind < 0.75)], pos[kind >= 0.75]
        tokens[replace] = self.vocab[self.rng.integers(0, len(self.vocab), len(replace))]
        keep = np.ones(len(tokens), dtype=bool)
        keep[delete] = False
        new = self.vocab[self.rng.integers(0, len(self.vocab), len(insert))]
        tokens = np.insert(tokens, insert, new)
        keep = np.insert(keep, insert, True)
        return " ".join(tokens[keep])

    @staticmethod
    def _shingle_sets(texts: list[str]) -> list[np.ndarray]:
        """Distinct 5-gram shingle hashes of each text, as the MinHash stage shingles them."""
        hashes, offsets = batch_shingle_hashes(texts)
        return [np.unique(hashes[a:b]) for a, b in zip(offsets[:-1], offsets[1:])]

    def near_duplicate_groups(self, chunk: _Chunk, copies: int) -> int:
        """Plant groups holding `copies` copies in all; returns the copies actually planted."""
        sizes = []
        while sum(sizes) < copies:
            sizes.append(int(min(self.rng.integers(1, 4), copies - sum(sizes))))
        bases = self._texts(self.rng.integers(8, 21, len(sizes)))
        sets = self._shingle_sets(bases)
        short = [i for i, shingles in enumerate(sets) if len(shingles) < 150]
        while short:                 # at least 150 shingles, so the Jaccard range is reachable
            for i, text in zip(short, self._texts(self.rng.integers(12, 21, len(short)))):
                bases[i] = text
            for i, shingles in zip(short, self._shingle_sets([bases[i] for i in short])):
                sets[i] = shingles
            short = [i for i in short if len(sets[i]) < 150]
        # (base index, target) for every copy; redrawn while out of range, 4 rounds at most
        owners = np.repeat(np.arange(len(sizes)), sizes)
        texts: list[str | None] = [None] * len(owners)
        jacs = np.full(len(owners), np.nan)
        todo = np.arange(len(owners))
        for round_ in range(4):
            if not len(todo):
                break
            if round_:
                self.stats["copies_redrawn"] += len(todo)
            targets = self.rng.uniform(0.86, 0.975, len(todo))
            drafts = [self._edit(bases[owners[i]], len(sets[owners[i]]), t) for i, t in zip(todo, targets)]
            jac = np.array([jaccard(sets[owners[i]], draft)
                            for i, draft in zip(todo, self._shingle_sets(drafts))])
            ok = (jac >= COPY_RANGE[0]) & (jac <= COPY_RANGE[1])
            for i, text, j, good in zip(todo, drafts, jac, ok):
                if good:
                    texts[i], jacs[i] = text, j
            todo = todo[~ok]
        self.stats["copies_dropped"] += len(todo)
        base_rows = []
        for text in bases:
            base_rows.append(chunk.add(text, "base", self.next_group + len(base_rows)))
        planted = 0
        for i, owner in enumerate(owners):
            if texts[i] is None:
                continue
            # Copies are fetched 1-60 days before their base: the base is the group's newest.
            chunk.add(texts[i], "copy", self.next_group + owner, base_rows[owner], float(jacs[i]),
                      -int(self.rng.integers(86400, 60 * 86400)))
            planted += 1
        self.next_group += len(sizes)
        return planted

    def hard_pairs(self, chunk: _Chunk, pairs: int) -> int:
        """Plant pairs at Jaccard in [0.3, 0.7]; returns the pairs planted."""
        planted = 0
        todo = pairs
        for round_ in range(4):
            if todo <= 0:
                break
            if round_:
                self.stats["hard_redrawn"] += todo
            sizes = self.rng.integers(8, 17, todo)
            a_texts, b_texts = [], []
            for size in sizes:
                a = self.rng.integers(0, len(self.paras), size)
                shared = max(1, round(self.rng.uniform(0.46, 0.82) * size))
                b = np.concatenate((self.rng.choice(a, shared, replace=False),
                                    self.rng.integers(0, len(self.paras), size - shared)))
                self.rng.shuffle(b)
                a_texts.append("\n".join(self.paras[a]))
                b_texts.append("\n".join(self.paras[b]))
            a_sets, b_sets = self._shingle_sets(a_texts), self._shingle_sets(b_texts)
            jac = np.array([jaccard(a, b) for a, b in zip(a_sets, b_sets)])
            for a_text, b_text, j in zip(a_texts, b_texts, jac):
                if HARD_RANGE[0] <= j <= HARD_RANGE[1]:
                    group = self.next_group
                    self.next_group += 1
                    a_row = chunk.add(a_text, "hard_a", group, jac=float(j))
                    b_row = chunk.add(b_text, "hard_b", group, a_row, float(j))
                    chunk.partners[a_row] = b_row
                    planted += 1
                    todo -= 1
        self.stats["hard_dropped"] += max(todo, 0)
        return planted

    # ------------------------------------------------------------ chunks

    def chunk(self, first_id: int, count: int) -> tuple[pa.Table, pa.Table]:
        spec = self.spec
        chunk = _Chunk()
        self.near_duplicate_groups(chunk, int(round(count * spec.dup_fraction)))
        self.hard_pairs(chunk, int(round(count * spec.hard_fraction / 2)))
        if len(chunk.texts) > count:
            raise ValueError(f"chunk of {count} documents cannot hold {len(chunk.texts)} planted ones")
        for text in self.background(count - len(chunk.texts)):
            chunk.add(text, "background")
        # Shuffle rows; ids follow the shuffled position, so they say nothing about the role.
        order = self.rng.permutation(count)            # order[new] = old
        where = np.empty(count, dtype=np.int64)
        where[order] = np.arange(count)                # where[old] = new
        ids = np.array([f"doc{first_id + i:09d}" for i in range(count)], dtype=object)
        base_time = T0 + self.rng.integers(0, YEAR_S, count).astype("timedelta64[s]")
        # A copy's time is its base's minus its offset (base_time indexed by the new position).
        times = np.empty(count, dtype="datetime64[s]")
        partners = np.array(chunk.partners, dtype=np.int64)
        partner_new = np.where(partners >= 0, where[np.maximum(partners, 0)], -1)[order]
        roles = np.array(chunk.roles, dtype=object)[order]
        offsets = np.array(chunk.offsets, dtype=np.int64)[order]
        times[:] = base_time
        copy_rows = np.flatnonzero(roles == "copy")
        times[copy_rows] = base_time[partner_new[copy_rows]] + offsets[copy_rows].astype("timedelta64[s]")
        texts = np.array(chunk.texts, dtype=object)[order]
        sites = self.rng.integers(0, 50_000, count)
        domains = [f"site{s}.example" for s in sites]
        docs = pa.table({
            "id": pa.array(ids, pa.string()),
            "url": pa.array([f"https://{d}/{i}" for d, i in zip(domains, ids)], pa.string()),
            "domain": pa.array(domains, pa.string()),
            "source": pa.array(["bench"] * count, pa.string()),
            "fetched_at": pa.array(times.astype("datetime64[us]"), pa.timestamp("us", tz="UTC")),
            "text": pa.array(texts, pa.string()),
            "lang": pa.array(["en"] * count, pa.string()),
            "lang_score": pa.array(np.full(count, 0.99, dtype=np.float32)),
        }, schema=DOC_SCHEMA)
        partner_ids = np.where(partner_new >= 0, ids[np.maximum(partner_new, 0)], None)
        truth = pa.table({
            "id": pa.array(ids, pa.string()),
            "role": pa.array(roles, pa.string()),
            "group": pa.array(np.array(chunk.groups, dtype=np.int64)[order]),
            "partner": pa.array(partner_ids, pa.string()),
            "jaccard": pa.array(np.array(chunk.jaccards, dtype=np.float32)[order]),
        }, schema=TRUTH_SCHEMA)
        return docs, truth


def write_corpus(out: Path, paragraphs: list[str], spec: CorpusSpec,
                 progress: Callable[[str], None] | None = None) -> dict:
    """Write out/docs/*.parquet and out/truth/*.parquet; returns counts and statistics."""
    writer = CorpusWriter(paragraphs, spec)
    (out / "docs").mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    roles: dict[str, int] = {}
    chars = 0
    words_sample: list[int] = []
    for part, first in enumerate(range(0, spec.docs, spec.chunk)):
        count = min(spec.chunk, spec.docs - first)
        docs, truth = writer.chunk(first, count)
        pq.write_table(docs, out / "docs" / f"part-{part:05d}.parquet", row_group_size=spec.row_group)
        pq.write_table(truth, out / "truth" / f"part-{part:05d}.parquet")
        for role, n in zip(*np.unique(truth.column("role").to_numpy(zero_copy_only=False), return_counts=True)):
            roles[str(role)] = roles.get(str(role), 0) + int(n)
        texts = docs.column("text")
        chars += int(pc.sum(pc.utf8_length(texts)).as_py())
        if not words_sample:
            words_sample = [len(words(text)) for text in texts.slice(0, 2000).to_pylist()]
        if progress:
            progress(f"  corpus {spec.docs}: {first + count} documents written")
    return {"docs": spec.docs, "roles": roles, "groups": writer.next_group,
            "chars_per_doc": round(chars / spec.docs, 1), "words_per_doc": round(float(np.mean(words_sample)), 1),
            **writer.stats}


def main(argv: list[str] | None = None) -> None:
    """A look at a small corpus: its summary, then the Jaccard similarities of each role."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("docs", nargs="?", type=int, default=20_000, help="documents (default: 20000)")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                        help="the shared data directory (default: ../shared/data beside the repository)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        stats = write_corpus(Path(tmp), load_paragraphs(args.data), CorpusSpec(args.docs), print)
        print(json.dumps({**stats, "seconds": round(time.perf_counter() - start, 2)}))
        truth = pq.read_table(Path(tmp) / "truth").to_pandas()
        print(truth.groupby("role")["jaccard"].describe())


if __name__ == "__main__":
    main()
