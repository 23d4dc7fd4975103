"""Train a quality or domain classifier from labelled texts (no Spark: one machine, pyarrow).

    python -m jobs.train_classifier --input labelled.parquet --backend fasttext --output models/hq_v1
    python jobs/train_classifier.py --input a.jsonl.gz b.jsonl --text-column text --label-column label \\
        --backend sklearn --output models/domain_v1 --test-fraction 0.2 --seed 1

Reads Parquet or JSONL (.jsonl, .jsonl.gz, .json) files, drops rows whose text or label is null,
splits them per label (stratified, seeded) into train and held-out test sets, trains, evaluates
on the held-out set and writes to --output: the model files and model.json
(classifiers/model_files.py), metrics.json and MODEL_CARD.md.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from classifiers.fasttext_backend import FastTextParams
from classifiers.metrics import classification_metrics
from classifiers.model_files import BACKENDS, save_model, train_model, training_data_sha256
from classifiers.normalize import MAX_CHARS, NORMALIZATION_VERSION
from classifiers.sklearn_backend import SklearnParams
from pipeline.cli import build_parser, run_main
from pipeline.config import ConfigError, load_config
from pipeline.io import InputError

STAGE = "train_classifier"
_DESCRIPTION = """\
Train a fastText or scikit-learn text classifier (quality: hq vs lq; domain: code / math / ...)
on labelled Parquet or JSONL files, evaluate it on a stratified held-out split and write the
model, model.json, metrics.json and MODEL_CARD.md to --output. Runs without Spark.
--conf/--set are accepted like every job's and validated; no config key is read by this job yet."""

_EPILOG = """\
Examples:
  python -m jobs.train_classifier --input hq_vs_lq.parquet --backend fasttext --output models/hq_v1 --bucket 200000
  python jobs/train_classifier.py --input code.jsonl.gz math.jsonl.gz web.jsonl.gz --backend sklearn \\
      --output models/domain_v1
Errors (missing file or column, fewer than 2 labels, a label too small to split) print one line and exit 2.
"""


def build_arg_parser():
    parser = build_parser(STAGE, _DESCRIPTION, input_help="labelled Parquet or JSONL[.gz] files (local paths)")
    parser._option_string_actions["--output"].help = "directory for the model, metrics.json and MODEL_CARD.md"
    parser.epilog = _EPILOG
    parser.add_argument("--text-column", default="text", help="column holding the text (default: text)")
    parser.add_argument("--label-column", default="label", help="column holding the label (default: label)")
    parser.add_argument("--backend", choices=sorted(BACKENDS), default="fasttext", help="default: fasttext")
    parser.add_argument("--test-fraction", type=float, default=0.2,
                        help="share of each label held out for evaluation (default: 0.2)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the split and of training (default: 1)")
    parser.add_argument("--positive-label", metavar="L",
                        help="binary only: the class whose precision/recall/ROC-AUC are reported "
                             "(default: a label named like hq/positive/1, else the second sorted label)")
    ft = parser.add_argument_group("fastText hyper-parameters (--backend fasttext)")
    d = FastTextParams()
    ft.add_argument("--epoch", type=int, default=d.epoch, help=f"default: {d.epoch}")
    ft.add_argument("--lr", type=float, default=d.lr, help=f"default: {d.lr}")
    ft.add_argument("--word-ngrams", type=int, default=d.word_ngrams, help=f"default: {d.word_ngrams}")
    ft.add_argument("--dim", type=int, default=d.dim, help=f"default: {d.dim}")
    ft.add_argument("--min-count", type=int, default=d.min_count, help=f"default: {d.min_count}")
    ft.add_argument("--bucket", type=int, default=d.bucket,
                    help=f"n-gram hash buckets; the .bin holds bucket*dim floats (default: {d.bucket})")
    ft.add_argument("--loss", default=d.loss, choices=("softmax", "ova", "hs", "ns"), help=f"default: {d.loss}")
    ft.add_argument("--threads", type=int, default=d.thread, help="more than 1 is faster but not deterministic")
    sk = parser.add_argument_group("scikit-learn hyper-parameters (--backend sklearn)")
    s = SklearnParams()
    sk.add_argument("--c", type=float, default=s.c, help=f"inverse regularisation strength (default: {s.c})")
    sk.add_argument("--max-iter", type=int, default=s.max_iter, help=f"default: {s.max_iter}")
    sk.add_argument("--n-features", type=int, default=s.n_features, help=f"hash space (default: {s.n_features})")
    return parser


def read_labelled(paths: list[str], text_column: str, label_column: str) -> tuple[list[str], list[str], int]:
    """(texts, labels as strings, rows dropped for a null text or label) from every file, in order."""
    texts: list[str] = []
    labels: list[str] = []
    dropped = 0
    for path in paths:
        table = _read_table(path)
        for column in (text_column, label_column):
            if column not in table.column_names:
                raise ConfigError(f"{path}: no column {column!r} (columns: {', '.join(table.column_names)}); "
                                  f"pass --text-column/--label-column")
        for text, label in zip(table.column(text_column).to_pylist(), table.column(label_column).to_pylist()):
            if text is None or label is None:
                dropped += 1
                continue
            if not isinstance(text, str):
                raise ConfigError(f"{path}: column {text_column!r} holds {type(text).__name__} values, not text")
            texts.append(text)
            labels.append(_label_str(label))
    return texts, labels, dropped


def _label_str(label) -> str:
    if isinstance(label, bool):
        return str(label).lower()
    if isinstance(label, float) and label.is_integer():
        return str(int(label))
    return str(label)


def _read_table(path: str):
    import pyarrow as pa

    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    name = path.lower()
    try:
        if name.endswith(".parquet") or name.endswith(".pq"):
            import pyarrow.parquet as pq

            return pq.read_table(path)
        if name.endswith((".jsonl", ".jsonl.gz", ".json", ".json.gz", ".ndjson", ".ndjson.gz")):
            import pyarrow.json as pj

            return pj.read_json(path)
    except (pa.ArrowException, OSError) as err:
        raise InputError(f"{path}: unreadable ({str(err).splitlines()[0][:200]})") from err
    raise InputError(f"{path}: unknown format; expected .parquet, .jsonl or .jsonl.gz")


def min_examples_per_label(test_fraction: float) -> int:
    """Fewest examples a label needs to land on both sides of the split."""
    return max(2, math.ceil(1 / test_fraction - 1e-9), math.ceil(1 / (1 - test_fraction) - 1e-9))


def stratified_split(labels: list[str], test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices), both sorted: per label, round(n * fraction) (at least 1, at most
    n - 1) examples drawn with a seeded permutation go to the test set."""
    if not 0 < test_fraction < 1:
        raise ConfigError(f"--test-fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    if len(by_label) < 2:
        raise ConfigError(f"need at least 2 distinct labels to train a classifier, found {sorted(by_label)}")
    need = min_examples_per_label(test_fraction)
    small = {label: len(rows) for label, rows in sorted(by_label.items()) if len(rows) < need}
    if small:
        raise ConfigError(f"too few examples to split with --test-fraction {test_fraction}: {small} "
                          f"(each label needs at least {need}); add data or drop the label")
    test: list[int] = []
    for label in sorted(by_label):
        rows = np.array(by_label[label])
        n_test = min(max(1, round(len(rows) * test_fraction)), len(rows) - 1)
        test.extend(rows[rng.permutation(len(rows))[:n_test]].tolist())
    test_idx = np.array(sorted(test), dtype=np.int64)
    mask = np.ones(len(labels), dtype=bool)
    mask[test_idx] = False
    return np.flatnonzero(mask), test_idx


def _params(args) -> dict:
    if args.backend == "fasttext":
        return dict(epoch=args.epoch, lr=args.lr, word_ngrams=args.word_ngrams, dim=args.dim,
                    min_count=args.min_count, bucket=args.bucket, loss=args.loss, thread=args.threads,
                    seed=args.seed)
    return dict(c=args.c, max_iter=args.max_iter, n_features=args.n_features, seed=args.seed)


def model_card(args, sidecar: dict, metrics: dict, counts: dict) -> str:
    def fmt(value):
        return "n/a" if value is None else f"{value:.4f}"

    label_lines = "\n".join(f"| {label} | {c['train']} | {c['test']} |" for label, c in counts.items())
    params = "\n".join(f"- `{k}`: {v}" for k, v in sorted(sidecar["hyperparameters"].items()))
    matrix = metrics["confusion_matrix"]
    cm = "\n".join(f"| **{label}** | " + " | ".join(str(x) for x in row) + " |"
                   for label, row in zip(matrix["labels"], matrix["matrix"]))
    averaged = (f"positive class `{metrics['positive_label']}`" if metrics["average"] == "binary"
                else "macro average over classes; ROC-AUC one-vs-rest")
    return f"""# Model card: {Path(args.output).name}

**Backend:** {sidecar['backend']} · **labels:** {', '.join(sidecar['labels'])} · **created:** {sidecar['created_at']}

## Data
- Input: {', '.join(f'`{p}`' for p in args.input)}
  (text column `{args.text_column}`, label column `{args.label_column}`)
- Training data sha256 (ordered text,label pairs of the training split): `{sidecar['training_data_sha256']}`
- Held-out split: {args.test_fraction:.0%} of each label, seed {args.seed}

| label | train | test |
|---|---|---|
{label_lines}

## Hyper-parameters
{params}
- text normalisation: `{sidecar['normalization']}` (NFKC, lowercase, punctuation split from words,
  line breaks as spaces, first {MAX_CHARS:,} characters)

## Held-out metrics ({averaged})
| ROC-AUC | precision | recall | F1 | accuracy |
|---|---|---|---|---|
| {' | '.join(fmt(metrics[k]) for k in ('roc_auc', 'precision', 'recall', 'f1', 'accuracy'))} |

Confusion matrix (rows: true, columns: predicted)

| | {' | '.join(matrix['labels'])} |
|---|{'---|' * len(matrix['labels'])}
{cm}

## Intended use
Scoring documents of the same kind and language as the training data, to rank or filter
pretraining text by quality or to tag its domain. Scores are probabilities from
`predict_proba`; choose thresholds on held-out data, not on this card's argmax metrics.

## Limits
- Learns whatever separates the labels in this data set, including artefacts of how the
  labels were collected (source, length, formatting); held-out metrics come from the same
  distribution and overstate accuracy on other crawls or languages.
- Bag of (hashed) word n-grams over the first {MAX_CHARS:,} characters: no word order beyond
  n-grams, no long-range structure.
- Metrics on a small test set are noisy ({metrics['n']} held-out documents).
"""


def main(argv: list[str] | None = None) -> int:
    parser = build_arg_parser()

    def job() -> int:
        args = parser.parse_args(argv)
        if args.conf or args.overrides:
            load_config(args.conf, list(args.overrides))  # validated for uniformity; no key is read here
        if not args.input:
            raise ConfigError("--input is required (labelled Parquet or JSONL files)")
        if not args.output:
            raise ConfigError("--output is required (directory for the model)")
        start = time.monotonic()
        texts, labels, dropped = read_labelled(args.input, args.text_column, args.label_column)
        print(f"[{STAGE}] read {len(texts)} labelled rows from {len(args.input)} file(s)"
              + (f", dropped {dropped} with a null text or label" if dropped else ""))
        train_idx, test_idx = stratified_split(labels, args.test_fraction, args.seed)
        classes = sorted(set(labels))
        if args.positive_label is not None and args.positive_label not in classes:
            raise ConfigError(f"--positive-label {args.positive_label!r} is not one of the labels {classes}")
        if args.positive_label is not None and len(classes) != 2:
            raise ConfigError(f"--positive-label only applies to 2 labels; the data has {len(classes)}")
        train_texts = [texts[i] for i in train_idx]
        train_labels = [labels[i] for i in train_idx]
        test_texts = [texts[i] for i in test_idx]
        test_labels = [labels[i] for i in test_idx]
        counts = {label: {"train": train_labels.count(label), "test": test_labels.count(label)} for label in classes}
        print(f"[{STAGE}] split: {len(train_idx)} train, {len(test_idx)} test, labels {counts}")
        params = _params(args)
        print(f"[{STAGE}] training {args.backend} {params}")
        t0 = time.monotonic()
        model = train_model(args.backend, train_texts, train_labels, **params)
        train_s = time.monotonic() - t0
        proba = model.predict_proba(test_texts)
        metrics = classification_metrics(test_labels, proba, model.labels, args.positive_label)
        metrics.update(train_size=len(train_idx), test_size=len(test_idx), label_counts=counts,
                       backend=args.backend, test_fraction=args.test_fraction, seed=args.seed,
                       train_seconds=round(train_s, 3))
        summary = {k: metrics[k] for k in ("roc_auc", "precision", "recall", "f1", "accuracy")}
        print(f"[{STAGE}] held-out ({metrics['average']}): "
              + ", ".join(f"{k}={'n/a' if v is None else f'{v:.4f}'}" for k, v in summary.items()))
        out = Path(args.output)
        sidecar = save_model(model, out, training_data_sha256=training_data_sha256(train_texts, train_labels),
                             metrics=summary, extra={"input": list(args.input), "text_column": args.text_column,
                                                     "label_column": args.label_column,
                                                     "test_fraction": args.test_fraction, "split_seed": args.seed})
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        (out / "MODEL_CARD.md").write_text(model_card(args, sidecar, metrics, counts), encoding="utf-8")
        print(f"[{STAGE}] wrote {', '.join(sidecar['files'])}, model.json, metrics.json, MODEL_CARD.md "
              f"to {out} in {time.monotonic() - start:.1f}s (normalisation {NORMALIZATION_VERSION})")
        return 0

    return run_main(job)


if __name__ == "__main__":
    sys.exit(main())
