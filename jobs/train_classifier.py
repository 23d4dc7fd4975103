"""Train a quality or domain classifier (no Spark: one machine, pyarrow), by one of three recipes.

    # labelled files: a text and a label column
    python -m jobs.train_classifier --input labelled.parquet --backend fasttext --output models/hq_v1
    # reference vs crawl (DCLM / Llama 3): reference texts are hq, a balanced crawl sample is lq
    python -m jobs.train_classifier --positives oh25_eli5.jsonl.gz --negatives out/run1/dedup --output models/dclm
    # teacher -> student: an LLM judge's (or perplexity) scores distilled into a fastText student
    python -m jobs.train_classifier --teacher-scores judged.parquet --score-column edu_score \
        --teacher-min-score 3 --output models/edu_student

The command only: the recipes, the stratified split, training, evaluation and the files written to
--output (model files, model.json, metrics.json, MODEL_CARD.md) are classifiers/training.py.
Hyper-parameters come from the config's train_classifier section (--conf/--set); the flags below
win over it.
"""
from __future__ import annotations

import sys

from classifiers.fasttext_backend import FastTextParams
from classifiers.model_files import BACKENDS
from classifiers.normalize import NORMALIZATION_VERSION
from classifiers.sklearn_backend import SklearnParams
from classifiers.training import train_classifier
from pipeline.cli import build_parser, run_main
from pipeline.config import load_config

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


def main(argv: list[str] | None = None) -> int:
    parser = build_arg_parser()

    def job() -> int:
        args = parser.parse_args(argv)
        config = load_config(args.conf, list(args.overrides), stage_files=False)
        trained = train_classifier(args, config, log=lambda line: print(f"[{STAGE}] {line}", flush=True))
        print(f"[{STAGE}] wrote {', '.join(trained.sidecar['files'])}, model.json, metrics.json, MODEL_CARD.md "
              f"to {trained.output} in {trained.seconds:.1f}s (normalisation {NORMALIZATION_VERSION})")
        return 0

    return run_main(job)


if __name__ == "__main__":
    sys.exit(main())
