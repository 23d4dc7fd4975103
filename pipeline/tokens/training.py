"""Train a byte-level BPE tokenizer (Llama 3's split regex, 256 specials) on a per-language sample.

    report = train_tokenizer(options)      # writes tokenizer.model, tokenizer.json, report.json

Reads Parquet, JSONL (.gz/.zst) and plain .txt files (one document each; language from a
`<lang>__name.txt` prefix) in streaming batches, no Spark. Two passes: the first counts
characters per language, the second streams the sample into the trainer (train_bpe,
pipeline/tokens/tokenizer.py). Each language's share of the sample is proportional to
weight x chars^alpha: alpha < 1 (default 0.3, as in mT5/XLM-R) up-weights languages with fewer
documents so non-Latin scripts get vocabulary; alpha 1 is the natural distribution. A language gets
at most max_repeat times its own text. A seeded hash of each document picks the sample and a
held-out set (never trained on) on which chars per token are reported per language (report.json).

`options` are jobs/train_tokenizer.py's parsed command-line options (an argparse.Namespace, or any
object with the same attributes); errors name its flags.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Iterator

from pipeline.config import ConfigError
from pipeline.io import InputError, expand_local
from pipeline.tokens.tokenizer import train_bpe


def train_tokenizer(args) -> dict:
    """Train the BPE on the sample, write tokenizer.model, tokenizer.json and report.json to
    args.output and return the report. User errors raise ConfigError or InputError."""
    if not args.input or not args.output:
        raise ConfigError("give --input (documents) and --output (a directory for the tokenizer)")
    started = time.time()
    weights = parse_lang_weights(args.lang_weights)
    if not 0 <= args.heldout_fraction < 1 or args.alpha < 0 or args.max_repeat <= 0 or args.max_chars <= 0:
        raise ConfigError("--heldout-fraction must be in [0, 1); --alpha >= 0; --max-repeat and --max-chars > 0")
    paths = expand_local(args.input)
    docs, chars = Counter(), Counter()
    for _, lang, text in read_documents(paths, args.text_column, args.lang_column):
        docs[lang] += 1
        chars[lang] += len(text)
    if not chars:
        raise InputError(f"no documents with text in {', '.join(args.input)}")
    rates = sample_rates(chars, weights, args.alpha, args.max_chars, args.max_repeat)
    sampled, heldout = Counter(), {lang: [] for lang in chars}

    def sample() -> Iterator[str]:
        held_chars = Counter()
        for key, lang, text in read_documents(paths, args.text_column, args.lang_column):
            if unit_hash(args.seed, "heldout", key) < args.heldout_fraction:
                if held_chars[lang] < args.heldout_max_chars:
                    heldout[lang].append(text)
                    held_chars[lang] += len(text)
                continue
            rate = rates.get(lang, 0.0)
            copies = int(rate) + (unit_hash(args.seed, "sample", key) < rate - int(rate))
            for _ in range(copies):
                sampled[lang] += len(text)
                yield text

    tokenizer = train_bpe(sample(), args.output, vocab_size=args.vocab_size, min_frequency=args.min_frequency)
    per_lang = {}
    for lang, texts in sorted(heldout.items()):
        if texts:
            tokens = sum(len(ids) for ids in tokenizer.encode_batch(texts))
            n_chars = sum(len(t) for t in texts)
            per_lang[lang] = {"documents": len(texts), "chars": n_chars, "tokens": tokens,
                              "chars_per_token": round(n_chars / max(tokens, 1), 3)}
    report = {
        "tokenizer": {"name": tokenizer.name, "sha256": tokenizer.sha256,
                      "tokenizer_json_sha256": _sha256(Path(args.output) / "tokenizer.json")},
        "vocab_size": tokenizer.vocab_size, "base_vocab_size": tokenizer.vocab_size - len(tokenizer.special_tokens),
        "bos_id": tokenizer.bos_id, "eos_id": tokenizer.eos_id,
        "inputs": [os.path.relpath(p) for p in paths], "documents_by_lang": dict(sorted(docs.items())),
        "chars_by_lang": dict(sorted(chars.items())),
        "sample_rate_by_lang": {k: round(v, 6) for k, v in sorted(rates.items())},
        "sample_chars_by_lang": dict(sorted(sampled.items())), "sample_chars": sum(sampled.values()),
        "heldout_chars_per_token": per_lang,
        "settings": {"vocab_size": args.vocab_size, "min_frequency": args.min_frequency, "max_chars": args.max_chars,
                     "alpha": args.alpha, "lang_weights": weights, "max_repeat": args.max_repeat,
                     "heldout_fraction": args.heldout_fraction, "seed": args.seed},
        "seconds": round(time.time() - started, 2),
    }
    (Path(args.output) / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                                                   encoding="utf-8")
    return report


def parse_lang_weights(text: str) -> dict[str, float]:
    weights = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        lang, sep, value = item.partition("=")
        try:
            weights[lang.strip()] = float(value)
            if not sep or not lang.strip() or not weights[lang.strip()] >= 0:
                raise ValueError
        except ValueError:
            raise ConfigError(f"--lang-weights: expected lang=weight (weight >= 0), got {item!r}") from None
    return weights


def sample_rates(chars: Counter, weights: dict[str, float], alpha: float, max_chars: float,
                 max_repeat: float) -> dict[str, float]:
    """Expected copies of each document per language: share_l ~ weight_l * chars_l^alpha of max_chars,
    at most max_repeat copies of the language's own text."""
    score = {lang: weights.get(lang, 1.0) * n ** alpha for lang, n in chars.items() if n}
    total = sum(score.values())
    if total <= 0:
        raise ConfigError("--lang-weights leave no language to sample")
    return {lang: min(max_repeat, max_chars * s / total / chars[lang]) for lang, s in score.items()}


def unit_hash(seed: int, salt: str, key: str) -> float:
    """A uniform number in [0, 1) from (seed, salt, key): the same document gets the same draw in every run."""
    digest = hashlib.blake2b(f"{seed}\x1f{salt}\x1f{key}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2 ** 64


def read_documents(paths: list[str], text_column: str, lang_column: str) -> Iterator[tuple[str, str, str]]:
    """(key, lang, text) for every document with non-empty text, file by file, in batches."""
    for path in paths:
        name = path.lower()
        if name.endswith(".txt"):
            stem = Path(path).name
            lang = stem.split("__", 1)[0] if "__" in stem else "und"
            text = Path(path).read_text(encoding="utf-8", errors="replace")
            if text:
                yield path, lang, text
            continue
        for row, (text, lang, doc_id) in enumerate(_rows(path, text_column, lang_column)):
            if isinstance(text, str) and text:
                yield doc_id or f"{path}:{row}", lang or "und", text


def _rows(path: str, text_column: str, lang_column: str) -> Iterator[tuple]:
    import pyarrow as pa

    name = path.lower()
    try:
        if name.endswith(".parquet"):
            import pyarrow.parquet as pq

            file = pq.ParquetFile(path)
            names = file.schema_arrow.names
            batches = file.iter_batches(columns=[c for c in (text_column, lang_column, "id") if c in names],
                                        batch_size=2048)
        elif ".json" in name:
            import pyarrow.json as pj

            batches = pj.open_json(pa.input_stream(path, compression="detect"))
        else:
            raise InputError(f"{path}: unknown format; expected .parquet, .jsonl[.gz|.zst] or .txt")
        for batch in batches:
            if text_column not in batch.schema.names:
                raise InputError(f"{path}: no column {text_column!r} (columns: {', '.join(batch.schema.names)})")
            names = batch.schema.names
            texts = batch.column(text_column).to_pylist()
            langs = batch.column(lang_column).to_pylist() if lang_column in names else [None] * len(texts)
            ids = [None if i is None else str(i) for i in batch.column("id").to_pylist()] if "id" in names \
                else [None] * len(texts)
            yield from zip(texts, langs, ids)
    except (pa.ArrowException, OSError) as err:
        raise InputError(f"{path}: unreadable ({str(err).splitlines()[0][:200]})") from None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
