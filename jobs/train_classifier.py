"""Train a quality or domain classifier (no Spark: one machine, pyarrow), by one of three recipes.

    # labelled files: a text and a label column
    python -m jobs.train_classifier --input labelled.parquet --backend fasttext --output models/hq_v1
    # reference vs crawl (DCLM / Llama 3): reference texts are hq, a balanced crawl sample is lq
    python -m jobs.train_classifier --positives oh25_eli5.jsonl.gz --negatives out/run1/dedup --output models/dclm
    # teacher -> student: an LLM judge's (or perplexity) scores distilled into a fastText student
    python -m jobs.train_classifier --teacher-scores judged.parquet --score-column edu_score \
        --teacher-min-score 3 --output models/edu_student

Splits the labelled set per label (stratified, seeded) into train and held-out test sets, trains,
evaluates on the held-out set and writes to --output: the model files and model.json
(classifiers/model_files.py), metrics.json and MODEL_CARD.md. Hyper-parameters come from the
config's train_classifier section (--conf/--set); the flags below win over it.
"""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from classifiers.fasttext_backend import FastTextParams
from classifiers.metrics import classification_metrics
from classifiers.model_files import BACKENDS, check_hyperparameters, save_model, train_model, training_data_sha256
from classifiers.normalize import MAX_CHARS, NORMALIZATION_VERSION
from classifiers.sklearn_backend import SklearnParams
from classifiers.training_data import LabelledSet, POSITIVE, from_labelled, from_reference, from_teacher
from pipeline.cli import build_parser, run_main
from pipeline.config import ConfigError, load_config

STAGE = "train_classifier"
_DESCRIPTION = """\
Train a fastText or scikit-learn text classifier (quality: hq vs lq; domain: code / math / ...),
evaluate it on a stratified held-out split and write the model, model.json, metrics.json and
MODEL_CARD.md to --output. Runs without Spark. The training set comes from exactly one of:
--input (labelled files), --positives with --negatives (reference vs crawl, DCLM / Llama 3 style)
or --teacher-scores (teacher -> student distillation)."""

_EPILOG = """\
Examples:
  python -m jobs.train_classifier --input hq_vs_lq.parquet --backend fasttext --output models/hq_v1 --bucket 200000
  python jobs/train_classifier.py --input code.jsonl.gz math.jsonl.gz web.jsonl.gz --backend sklearn \\
      --output models/domain_v1
  python -m jobs.train_classifier --positives reference.jsonl.gz --negatives out/demo/dedup --output models/dclm
  python -m jobs.train_classifier --teacher-scores judged.jsonl --score-column score --teacher-top-percent 10 \\
      --output models/student --set train_classifier.fasttext.epoch=5
Files: Parquet, JSONL[.gz] or directories of Parquet parts (a stage's output).
Errors (missing file or column, fewer than 2 labels, a label too small to split) print one line and exit 2.
"""


def build_arg_parser():
    parser = build_parser(STAGE, _DESCRIPTION, input_help="labelled Parquet or JSONL[.gz] files (local paths)")
    parser._option_string_actions["--output"].help = "directory for the model, metrics.json and MODEL_CARD.md"
    parser.epilog = _EPILOG
    parser.add_argument("--text-column", default="text", help="column holding the text (default: text)")
    parser.add_argument("--label-column", default="label", help="--input: column holding the label (default: label)")
    ref = parser.add_argument_group("reference vs crawl (DCLM / Llama 3 recipe): labels hq and lq")
    ref.add_argument("--positives", nargs="+", metavar="PATH", help="reference texts: the high-quality class")
    ref.add_argument("--negatives", nargs="+", metavar="PATH",
                     help="crawl output (files or a stage's Parquet directory) sampled for the low-quality class")
    ref.add_argument("--negatives-per-positive", type=float, default=1.0,
                     help="crawl texts sampled per reference text (default: 1.0, balanced)")
    teacher = parser.add_argument_group("teacher -> student: a scorer's labels distilled into the student")
    teacher.add_argument("--teacher-scores", nargs="+", metavar="PATH",
                         help="annotation files with a text and a score column (an LLM judge, perplexity, ...)")
    teacher.add_argument("--score-column", default="score", help="the teacher's score column (default: score)")
    cut = teacher.add_mutually_exclusive_group()
    cut.add_argument("--teacher-min-score", type=float, help="hq where score >= this")
    cut.add_argument("--teacher-top-percent", type=float, help="hq for the top X%% of scores")
    common = parser.add_argument_group("training (defaults from the config's train_classifier section)")
    common.add_argument("--backend", choices=sorted(BACKENDS), help="default: train_classifier.backend (fasttext)")
    common.add_argument("--test-fraction", type=float,
                        help="share of each label held out for evaluation (default: train_classifier.test_fraction, 0.2)")
    common.add_argument("--seed", type=int, help="seed of the split, the crawl sample and training (default: 1)")
    common.add_argument("--positive-label", metavar="L",
                        help="binary only: the class whose precision/recall/ROC-AUC are reported "
                             "(default: a label named like hq/positive/1, else the second sorted label)")
    ft = parser.add_argument_group("fastText hyper-parameters (--backend fasttext; default: "
                                   "train_classifier.fasttext, else the values shown)")
    d = FastTextParams()
    ft.add_argument("--epoch", type=int, help=f"default: {d.epoch}")
    ft.add_argument("--lr", type=float, help=f"default: {d.lr}")
    ft.add_argument("--word-ngrams", type=int, help=f"default: {d.word_ngrams}")
    ft.add_argument("--dim", type=int, help=f"default: {d.dim}")
    ft.add_argument("--min-count", type=int, help=f"default: {d.min_count}")
    ft.add_argument("--bucket", type=int,
                    help=f"n-gram hash buckets; the .bin holds bucket*dim floats (default: {d.bucket})")
    ft.add_argument("--loss", choices=("softmax", "ova", "hs", "ns"), help=f"default: {d.loss}")
    ft.add_argument("--threads", dest="thread", type=int, help="more than 1 is faster but not deterministic")
    sk = parser.add_argument_group("scikit-learn hyper-parameters (--backend sklearn; default: "
                                   "train_classifier.sklearn, else the values shown)")
    s = SklearnParams()
    sk.add_argument("--c", type=float, help=f"inverse regularisation strength (default: {s.c})")
    sk.add_argument("--max-iter", type=int, help=f"default: {s.max_iter}")
    sk.add_argument("--n-features", type=int, help=f"hash space (default: {s.n_features})")
    return parser


_FLAGS = {"fasttext": ("epoch", "lr", "word_ngrams", "dim", "min_count", "bucket", "loss", "thread"),
          "sklearn": ("c", "max_iter", "n_features")}


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


def training_settings(args, config) -> tuple[str, float, int, dict]:
    """(backend, test fraction, seed, hyper-parameters): flags over the config over the defaults."""
    train = config.train_classifier
    backend = args.backend or train.backend
    test_fraction = args.test_fraction if args.test_fraction is not None else train.test_fraction
    seed = args.seed if args.seed is not None else train.seed
    params = {**getattr(train, backend),
              **{k: getattr(args, k) for k in _FLAGS[backend] if getattr(args, k) is not None}}
    try:
        check_hyperparameters(backend, params)
    except ConfigError as err:
        raise ConfigError(f"key 'train_classifier.{backend}': {err}") from None
    other = "sklearn" if backend == "fasttext" else "fasttext"
    ignored = [k for k in _FLAGS[other] if getattr(args, k) is not None]
    if ignored:
        raise ConfigError(f"{', '.join('--' + k.replace('_', '-') for k in ignored)} only apply to "
                          f"--backend {other}")
    return backend, test_fraction, seed, {**params, "seed": seed}


def labelled_set(args, seed: int) -> LabelledSet:
    modes = [name for name, given in (("--input", args.input), ("--positives/--negatives",
                                                                   args.positives or args.negatives),
                                      ("--teacher-scores", args.teacher_scores)) if given]
    if len(modes) != 1:
        raise ConfigError("give exactly one training set: --input, --positives with --negatives, or "
                          f"--teacher-scores (got {', '.join(modes) or 'none'})")
    if args.input:
        return from_labelled(args.input, args.text_column, args.label_column)
    if args.teacher_scores:
        return from_teacher(args.teacher_scores, args.text_column, args.score_column,
                            min_score=args.teacher_min_score, top_percent=args.teacher_top_percent)
    if not (args.positives and args.negatives):
        raise ConfigError("the reference recipe needs both --positives (reference texts) and --negatives "
                          "(crawl output)")
    return from_reference(args.positives, args.negatives, args.text_column, seed=seed,
                          negatives_per_positive=args.negatives_per_positive)


_RECIPES = {
    "labelled": "labelled files",
    "reference_vs_crawl": "reference texts (hq) vs a seeded, balanced sample of crawl output (lq): "
                          "the DCLM / Llama 3 quality-classifier recipe",
    "teacher_student": "a teacher's scores turned into hq/lq and distilled into this student",
}


def _provenance_lines(provenance: dict) -> str:
    shown = {k: v for k, v in provenance.items() if k != "recipe"}
    return "\n".join(f"- {k.replace('_', ' ')}: {', '.join(f'`{x}`' for x in v) if isinstance(v, list) else f'`{v}`'}"
                     for k, v in shown.items())


def model_card(args, sidecar: dict, metrics: dict, counts: dict, provenance: dict) -> str:
    def fmt(value):
        return "n/a" if value is None else f"{value:.4f}"

    label_lines = "\n".join(f"| {label} | {c['train']} | {c['test']} |" for label, c in counts.items())
    params = "\n".join(f"- `{k}`: {v}" for k, v in sorted(sidecar["hyperparameters"].items()))
    matrix = metrics["confusion_matrix"]
    cm = "\n".join(f"| **{label}** | " + " | ".join(str(x) for x in row) + " |"
                   for label, row in zip(matrix["labels"], matrix["matrix"]))
    averaged = (f"positive class `{metrics['positive_label']}`" if metrics["average"] == "binary"
                else "macro average over classes; ROC-AUC one-vs-rest")
    teacher = ("" if metrics.get("teacher_spearman") is None else
               f"\nRank agreement with the teacher on the held-out split (Spearman, P(hq) vs teacher score): "
               f"{metrics['teacher_spearman']:.4f}\n")
    return f"""# Model card: {Path(args.output).name}

**Backend:** {sidecar['backend']} · **labels:** {', '.join(sidecar['labels'])} · **created:** {sidecar['created_at']}

## Data
Recipe: {_RECIPES[provenance['recipe']]}.
{_provenance_lines(provenance)}
- Training data sha256 (ordered text,label pairs of the training split): `{sidecar['training_data_sha256']}`
- Held-out split: {metrics['test_fraction']:.0%} of each label, seed {metrics['seed']}

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
{teacher}
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
        config = load_config(args.conf, list(args.overrides), stage_files=False)
        if not args.output:
            raise ConfigError("--output is required (directory for the model)")
        backend, test_fraction, seed, params = training_settings(args, config)
        start = time.monotonic()
        data = labelled_set(args, seed)
        texts, labels = data.texts, data.labels
        print(f"[{STAGE}] {data.provenance['recipe']}: {len(texts)} labelled texts"
              + (f", dropped {data.dropped} without text, label or score" if data.dropped else ""), flush=True)
        train_idx, test_idx = stratified_split(labels, test_fraction, seed)
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
        print(f"[{STAGE}] training {backend} {params}", flush=True)
        t0 = time.monotonic()
        model = train_model(backend, train_texts, train_labels, **params)
        train_s = time.monotonic() - t0
        proba = model.predict_proba(test_texts)
        metrics = classification_metrics(test_labels, proba, model.labels, args.positive_label)
        metrics.update(train_size=len(train_idx), test_size=len(test_idx), label_counts=counts,
                       backend=backend, test_fraction=test_fraction, seed=seed, train_seconds=round(train_s, 3),
                       recipe=data.provenance["recipe"])
        if data.scores is not None:
            metrics["teacher_spearman"] = teacher_agreement(proba, model.labels, [data.scores[i] for i in test_idx])
        summary = {k: metrics[k] for k in ("roc_auc", "precision", "recall", "f1", "accuracy")}
        print(f"[{STAGE}] held-out ({metrics['average']}): "
              + ", ".join(f"{k}={'n/a' if v is None else f'{v:.4f}'}" for k, v in summary.items())
              + (f", teacher_spearman={metrics['teacher_spearman']:.4f}" if data.scores is not None else ""))
        out = Path(args.output)
        sidecar = save_model(model, out, training_data_sha256=training_data_sha256(train_texts, train_labels),
                             metrics=summary, extra={**data.provenance, "text_column": args.text_column,
                                                     "test_fraction": test_fraction, "split_seed": seed})
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        (out / "MODEL_CARD.md").write_text(model_card(args, sidecar, metrics, counts, data.provenance),
                                           encoding="utf-8")
        print(f"[{STAGE}] wrote {', '.join(sidecar['files'])}, model.json, metrics.json, MODEL_CARD.md "
              f"to {out} in {time.monotonic() - start:.1f}s (normalisation {NORMALIZATION_VERSION})")
        return 0

    return run_main(job)


def teacher_agreement(proba: np.ndarray, labels, teacher_scores: list[float]) -> float | None:
    """Spearman correlation between the student's P(hq) and the teacher's score (None if constant)."""
    from scipy.stats import spearmanr

    if POSITIVE not in labels or len(set(teacher_scores)) < 2:
        return None
    rho = spearmanr(proba[:, list(labels).index(POSITIVE)], teacher_scores).statistic
    return None if np.isnan(rho) else float(rho)


if __name__ == "__main__":
    sys.exit(main())
