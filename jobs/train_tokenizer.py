"""Train a byte-level BPE tokenizer (Llama 3's split regex, 256 specials) on a per-language sample.

    python -m jobs.train_tokenizer --input out/run1/dedup --output models/bpe128k --vocab-size 128000
    python -m jobs.train_tokenizer --input docs.parquet more.jsonl.gz --output models/bpe32k \\
        --vocab-size 32000 --lang-weights en=1,zh=2,ja=2 --max-chars 2e8

The command only: reading the documents, the per-language sample, training and report.json are
pipeline/tokens/training.py. Writes tokenizer.model (tiktoken ranks), tokenizer.json and
report.json to --output.
"""
from __future__ import annotations

import sys

from pipeline.cli import build_parser, run_main
from pipeline.tokens.training import train_tokenizer

STAGE = "train_tokenizer"
_DESCRIPTION = """\
Train a byte-level BPE (Llama 3's split regex plus its 256 special tokens) on a per-language
sample of Parquet/JSONL/.txt documents and write tokenizer.model, tokenizer.json and report.json
(chars per token per language on held-out documents) to --output. Runs without Spark.
--conf/--set are accepted like every job's and validated; no config key is read by this job."""
_EPILOG = """\
Examples:
  python -m jobs.train_tokenizer --input out/demo/dedup --output models/bpe32k --vocab-size 32000
  python -m jobs.train_tokenizer --input samples/pages --output conf/tokenizer/demo --vocab-size 4096 --min-frequency 1
Then: --set tokenize.tokenizer=models/bpe32k (either file of the directory works).
"""


def build_arg_parser():
    parser = build_parser(STAGE, _DESCRIPTION,
                          input_help="Parquet, JSONL[.gz|.zst] or .txt files, directories or globs")
    parser._option_string_actions["--output"].help = "directory for tokenizer.model, tokenizer.json, report.json"
    parser.epilog = _EPILOG
    parser.add_argument("--vocab-size", type=int, default=128_000,
                        help="base tokens (bytes + merges); 256 specials come on top (default: 128000, as Llama 3)")
    parser.add_argument("--min-frequency", type=int, default=2, help="fewest occurrences of a merged pair (default: 2)")
    parser.add_argument("--max-chars", type=float, default=2e8, help="characters in the training sample (default: 2e8)")
    parser.add_argument("--alpha", type=float, default=0.3,
                        help="language share ~ chars^alpha; < 1 favours small languages, 1 = natural (default: 0.3)")
    parser.add_argument("--lang-weights", metavar="L=W,...", default="",
                        help="multipliers of the language shares, e.g. en=1,zh=2 (unlisted: 1; 0 leaves one out)")
    parser.add_argument("--max-repeat", type=float, default=1.0,
                        help="a language's sample holds at most this many copies of its text (default: 1)")
    parser.add_argument("--heldout-fraction", type=float, default=0.02,
                        help="documents held out from training for the chars-per-token report (default: 0.02)")
    parser.add_argument("--heldout-max-chars", type=float, default=2e6,
                        help="held-out characters kept per language (default: 2e6)")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--lang-column", default="lang", help="language column; missing = 'und' (default: lang)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the sample and held-out choice (default: 1)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_arg_parser()

    def job() -> int:
        args = parser.parse_args(argv)
        report = train_tokenizer(args)
        langs = ", ".join(f"{lang} {v['chars_per_token']}" for lang, v in report["heldout_chars_per_token"].items())
        print(f"[{STAGE}] vocab {report['vocab_size']} from {report['sample_chars']} chars in "
              f"{report['seconds']}s -> {args.output}; held-out chars/token: {langs or 'no held-out documents'}")
        return 0

    return run_main(job)


if __name__ == "__main__":
    sys.exit(main())
