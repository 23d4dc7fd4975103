"""MinHash benchmark: dedup.minhash.MinHasher vs datasketch's MinHash, same shingles, one core.

    python bench/minhash_signatures.py [DATA_DIR] [--min-docs 5000] [--batch 1000]

DATA_DIR defaults to ../shared/data when present. Documents: the article-extraction benchmark's
ground-truth articleBody texts, the Dolma CC sample and the UDHR translations, tiled to at least
--min-docs. Spaceless-script documents (zh, ja, th...) get 'chars' segmentation, the rest word
5-grams; both sides sign exactly the same shingles (checked).

Two figures per side, in the same run:
- signature only (shingling excluded from both): ours = MinHasher.signatures over the batch's
  shingle hashes (default scheme affine32; mersenne61 reported too); datasketch = `MinHash(num_perm=128).update_batch(shingle_bytes)` per document
  (its SHA-1 of each shingle is part of update_batch, so it stays in).
- end to end (shingling included in both): text -> signature.
Last line: one JSON object; `signature_ratio` = ours / datasketch, signature only.
"""
from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import sys
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")   # one core, whatever numpy is linked against

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datasketch import MinHash  # noqa: E402

from dedup.minhash import MinHasher, batch_shingle_hashes  # noqa: E402
from pipeline.text import spaceless_ratio, words  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data"
NUM_PERM, N = 128, 5


def load_documents(data: Path) -> list[str]:
    docs = []
    truth = data / "html" / "scrapinghub-article-extraction-benchmark" / "ground-truth.json"
    if truth.exists():
        docs += [item["articleBody"] for item in json.loads(truth.read_text()).values()]
    for path in sorted(glob.glob(str(data / "cc-text" / "dolma" / "*.jsonl.gz"))):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            docs += [json.loads(line)["text"] for line in fh if line.strip()]
    for path in sorted(glob.glob(str(data / "lang" / "udhr" / "txt" / "*.txt"))):
        docs.append(Path(path).read_text(encoding="utf-8"))
    return [d for d in docs if d.strip()]


def datasketch_shingles(text: str, segmentation: str) -> list[bytes]:
    """The shingles batch_shingle_hashes hashes, as the bytes datasketch wants."""
    toks = words(text.lower(), segmentation)
    if not toks:
        return []
    n = min(N, len(toks))
    return ["\x01".join(toks[i:i + n]).encode("utf-8") for i in range(len(toks) - n + 1)]


def batches(items: list, size: int):
    return [items[i:i + size] for i in range(0, len(items), size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--min-docs", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=1000, help="documents per MinHasher call")
    args = parser.parse_args()

    base = load_documents(args.data)
    if not base:
        sys.exit(f"no documents under {args.data}")
    docs = base * -(-args.min_docs // len(base))
    segs = ["chars" if spaceless_ratio(d) > 0.3 else "whitespace" for d in docs]
    doc_batches, seg_batches = batches(docs, args.batch), batches(segs, args.batch)
    print(f"{len(docs)} documents ({len(base)} distinct), {sum(s == 'chars' for s in segs)} 'chars'",
          file=sys.stderr)

    # Batch by batch, each step of each side in turn, so load from other processes falls on
    # both sides alike. Ours signs a batch per call; datasketch one MinHash per document.
    hashers = {scheme: MinHasher(NUM_PERM, seed=1, scheme=scheme) for scheme in ("affine32", "mersenne61")}
    seconds = dict.fromkeys(("ours_shingle", "affine32", "mersenne61", "ds_shingle", "ds_sign"), 0.0)
    ours_counts, ds_counts = [], []
    for texts, seg in zip(doc_batches, seg_batches):
        start = time.perf_counter()
        hashes, offsets = batch_shingle_hashes(texts, seg, N, N)
        seconds["ours_shingle"] += time.perf_counter() - start
        for scheme, hasher in hashers.items():
            start = time.perf_counter()
            hasher.signatures(hashes, offsets)
            seconds[scheme] += time.perf_counter() - start
        start = time.perf_counter()
        ds_shingles = [datasketch_shingles(t, s) for t, s in zip(texts, seg)]
        seconds["ds_shingle"] += time.perf_counter() - start
        start = time.perf_counter()
        for shingles in ds_shingles:
            MinHash(num_perm=NUM_PERM).update_batch(shingles)
        seconds["ds_sign"] += time.perf_counter() - start
        ours_counts += (offsets[1:] - offsets[:-1]).tolist()
        ds_counts += [len(s) for s in ds_shingles]

    assert ours_counts == ds_counts, "the two sides shingle differently"
    total = len(docs)
    rate = lambda secs: round(total / secs, 1)  # noqa: E731
    ours, ds = seconds["affine32"], seconds["ds_sign"]
    ours_e2e, ds_e2e = seconds["ours_shingle"] + ours, seconds["ds_shingle"] + ds
    result = {
        "docs": total, "shingles_per_doc": round(sum(ours_counts) / total, 1),
        "ours_docs_per_s": rate(ours), "datasketch_docs_per_s": rate(ds),
        "signature_ratio": round(ds / ours, 2), "ours_scheme": "affine32",
        "ours_mersenne61_docs_per_s": rate(seconds["mersenne61"]),
        "mersenne61_signature_ratio": round(ds / seconds["mersenne61"], 2),
        "ours_shingling_docs_per_s": rate(seconds["ours_shingle"]),
        "datasketch_shingling_docs_per_s": rate(seconds["ds_shingle"]),
        "ours_end_to_end_docs_per_s": rate(ours_e2e),
        "datasketch_end_to_end_docs_per_s": rate(ds_e2e),
        "end_to_end_ratio": round(ds_e2e / ours_e2e, 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
