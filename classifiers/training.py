"""Train a quality or domain classifier by one of three recipes: split, train, evaluate, save.

    outcome = train_classifier(options, config, log=print)

The training set comes from exactly one recipe (classifiers/training_data.py builds it): labelled
files (--input), reference texts vs a balanced crawl sample (--positives with --negatives, DCLM /
Llama 3) or a teacher's scores distilled into a student (--teacher-scores). The set is split per
label (stratified, seeded) into train and held-out test sets; the model is trained on the first,
evaluated on the second (classifiers/metrics.py) and written to options.output: the model files
and model.json (classifiers/model_files.py), metrics.json and MODEL_CARD.md. Hyper-parameters come
from the config's train_classifier section; options that are set win over it.

`options` are jobs/train_classifier.py's parsed command-line options (an argparse.Namespace, or
any object with the same attributes); errors name its flags. No Spark: one machine, pyarrow.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from classifiers.metrics import classification_metrics
from classifiers.model_files import check_hyperparameters, save_model, train_model, training_data_sha256
from classifiers.normalize import MAX_CHARS
from classifiers.training_data import LabelledSet, POSITIVE, from_labelled, from_reference, from_teacher
from pipeline.config import ConfigError, RunConfig

# The hyper-parameter options of each backend (attribute names of the options, keys of its params).
HYPERPARAMETER_OPTIONS = {"fasttext": ("epoch", "lr", "word_ngrams", "dim", "min_count", "bucket", "loss", "thread"),
                          "sklearn": ("c", "max_iter", "n_features")}

RECIPES = {
    "labelled": "labelled files",
    "reference_vs_crawl": "reference texts (hq) vs a seeded, balanced sample of crawl output (lq): "
                          "the DCLM / Llama 3 quality-classifier recipe",
    "teacher_student": "a teacher's scores turned into hq/lq and distilled into this student",
}


@dataclass
class TrainedClassifier:
    """What train_classifier wrote: the directory, model.json's content and the held-out metrics."""
    output: Path
    sidecar: dict
    metrics: dict
    seconds: float                         # from reading the training set to the last file written


def train_classifier(options, config: RunConfig, log: Callable[[str], None] = print) -> TrainedClassifier:
    """Build the labelled set, split it, train, evaluate on the held-out split and write the model,
    model.json, metrics.json and MODEL_CARD.md to options.output. Progress goes to log, one line
    each. User errors raise ConfigError or InputError."""
    if not options.output:
        raise ConfigError("--output is required (directory for the model)")
    backend, test_fraction, seed, params = training_settings(options, config)
    start = time.monotonic()
    data = labelled_set(options, seed)
    texts, labels = data.texts, data.labels
    log(f"{data.provenance['recipe']}: {len(texts)} labelled texts"
        + (f", dropped {data.dropped} without text, label or score" if data.dropped else ""))
    train_idx, test_idx = stratified_split(labels, test_fraction, seed)
    classes = sorted(set(labels))
    if options.positive_label is not None and options.positive_label not in classes:
        raise ConfigError(f"--positive-label {options.positive_label!r} is not one of the labels {classes}")
    if options.positive_label is not None and len(classes) != 2:
        raise ConfigError(f"--positive-label only applies to 2 labels; the data has {len(classes)}")
    train_texts = [texts[i] for i in train_idx]
    train_labels = [labels[i] for i in train_idx]
    test_texts = [texts[i] for i in test_idx]
    test_labels = [labels[i] for i in test_idx]
    counts = {label: {"train": train_labels.count(label), "test": test_labels.count(label)} for label in classes}
    log(f"split: {len(train_idx)} train, {len(test_idx)} test, labels {counts}")
    log(f"training {backend} {params}")
    t0 = time.monotonic()
    model = train_model(backend, train_texts, train_labels, **params)
    train_s = time.monotonic() - t0
    proba = model.predict_proba(test_texts)
    metrics = classification_metrics(test_labels, proba, model.labels, options.positive_label)
    metrics.update(train_size=len(train_idx), test_size=len(test_idx), label_counts=counts,
                   backend=backend, test_fraction=test_fraction, seed=seed, train_seconds=round(train_s, 3),
                   recipe=data.provenance["recipe"])
    if data.scores is not None:
        metrics["teacher_spearman"] = teacher_agreement(proba, model.labels, [data.scores[i] for i in test_idx])
    summary = {k: metrics[k] for k in ("roc_auc", "precision", "recall", "f1", "accuracy")}
    log(f"held-out ({metrics['average']}): "
        + ", ".join(f"{k}={'n/a' if v is None else f'{v:.4f}'}" for k, v in summary.items())
        + (f", teacher_spearman={metrics['teacher_spearman']:.4f}" if data.scores is not None else ""))
    out = Path(options.output)
    sidecar = save_model(model, out, training_data_sha256=training_data_sha256(train_texts, train_labels),
                         metrics=summary, extra={**data.provenance, "text_column": options.text_column,
                                                 "test_fraction": test_fraction, "split_seed": seed})
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (out / "MODEL_CARD.md").write_text(model_card(out.name, sidecar, metrics, counts, data.provenance),
                                       encoding="utf-8")
    return TrainedClassifier(out, sidecar, metrics, time.monotonic() - start)


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


def training_settings(options, config: RunConfig) -> tuple[str, float, int, dict]:
    """(backend, test fraction, seed, hyper-parameters): options over the config over the defaults."""
    train = config.train_classifier
    backend = options.backend or train.backend
    test_fraction = options.test_fraction if options.test_fraction is not None else train.test_fraction
    seed = options.seed if options.seed is not None else train.seed
    params = {**getattr(train, backend),
              **{k: getattr(options, k) for k in HYPERPARAMETER_OPTIONS[backend]
                 if getattr(options, k) is not None}}
    try:
        check_hyperparameters(backend, params)
    except ConfigError as err:
        raise ConfigError(f"key 'train_classifier.{backend}': {err}") from None
    other = "sklearn" if backend == "fasttext" else "fasttext"
    ignored = [k for k in HYPERPARAMETER_OPTIONS[other] if getattr(options, k) is not None]
    if ignored:
        raise ConfigError(f"{', '.join('--' + k.replace('_', '-') for k in ignored)} only apply to "
                          f"--backend {other}")
    return backend, test_fraction, seed, {**params, "seed": seed}


def labelled_set(options, seed: int) -> LabelledSet:
    """The training set of the one recipe the options name (classifiers/training_data.py)."""
    modes = [name for name, given in (("--input", options.input), ("--positives/--negatives",
                                                                      options.positives or options.negatives),
                                      ("--teacher-scores", options.teacher_scores)) if given]
    if len(modes) != 1:
        raise ConfigError("give exactly one training set: --input, --positives with --negatives, or "
                          f"--teacher-scores (got {', '.join(modes) or 'none'})")
    if options.input:
        return from_labelled(options.input, options.text_column, options.label_column)
    if options.teacher_scores:
        return from_teacher(options.teacher_scores, options.text_column, options.score_column,
                            min_score=options.teacher_min_score, top_percent=options.teacher_top_percent)
    if not (options.positives and options.negatives):
        raise ConfigError("the reference recipe needs both --positives (reference texts) and --negatives "
                          "(crawl output)")
    return from_reference(options.positives, options.negatives, options.text_column, seed=seed,
                          negatives_per_positive=options.negatives_per_positive)


def teacher_agreement(proba: np.ndarray, labels, teacher_scores: list[float]) -> float | None:
    """Spearman correlation between the student's P(hq) and the teacher's score (None if constant)."""
    from scipy.stats import spearmanr

    if POSITIVE not in labels or len(set(teacher_scores)) < 2:
        return None
    rho = spearmanr(proba[:, list(labels).index(POSITIVE)], teacher_scores).statistic
    return None if np.isnan(rho) else float(rho)


def _provenance_lines(provenance: dict) -> str:
    shown = {k: v for k, v in provenance.items() if k != "recipe"}
    return "\n".join(f"- {k.replace('_', ' ')}: {', '.join(f'`{x}`' for x in v) if isinstance(v, list) else f'`{v}`'}"
                     for k, v in shown.items())


def model_card(name: str, sidecar: dict, metrics: dict, counts: dict, provenance: dict) -> str:
    """MODEL_CARD.md of the model called name (its directory's name)."""
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
    return f"""# Model card: {name}

**Backend:** {sidecar['backend']} · **labels:** {', '.join(sidecar['labels'])} · **created:** {sidecar['created_at']}

## Data
Recipe: {RECIPES[provenance['recipe']]}.
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
