"""A perplexity teacher: score texts with a model trained by the bundled trainer, for distillation.

    python -m jobs.perplexity_teacher --checkpoint out/ref_lm/checkpoint.pt \\
        --tokenizer conf/tokenizer/demo --input sample.parquet --output scores.parquet
    python -m jobs.train_classifier --teacher-scores scores.parquet --teacher-top-percent 30 --output models/ppl

CCNet (Wenzek et al. 2020) ranks crawl text by the perplexity of a language model trained on
Wikipedia: text that reads like the reference scores well. Train the bundled trainer on
reference shards, score a sample of the crawl here, and distil the scores into a fastText
student that can score the whole crawl at Spark speed (this scorer is one torch forward pass
per document: fine for a sample, too slow for a corpus).

The output holds `text` and `score` = minus the mean negative log-likelihood per token (nats) of
the document's first --max-tokens tokens followed by EOS (trainer/evaluate.py's document_losses):
higher is more reference-like. Texts that tokenise to nothing are skipped and counted. No pyspark here.
"""
from __future__ import annotations

import sys
import time

from classifiers.training_data import iter_batches
from pipeline.cli import run_main, tool_parser
from pipeline.config import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = tool_parser("perplexity_teacher", __doc__)
    parser.add_argument("--checkpoint", required=True, help="checkpoint.pt written by python -m trainer.train")
    parser.add_argument("--tokenizer", required=True, help="the tokenizer the model's shards were made with")
    parser.add_argument("--input", nargs="+", required=True, help="Parquet / JSONL[.gz] files or Parquet directories")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--output", required=True, help="Parquet file with text and score")
    parser.add_argument("--max-tokens", type=int, default=512, help="tokens scored per document (default: 512)")
    parser.add_argument("--batch", type=int, default=64, help="texts per tokenizer call")

    def job() -> int:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from pipeline.tokens.tokenizer import load_tokenizer
        from trainer.evaluate import document_losses, load_model

        args = parser.parse_args(argv)
        if args.max_tokens < 1:
            raise ConfigError(f"--max-tokens must be >= 1, got {args.max_tokens}")
        model, _ = load_model(args.checkpoint)
        tokenizer = load_tokenizer(args.tokenizer)
        texts, scores, skipped, started = [], [], 0, time.monotonic()
        for path in args.input:
            for batch in iter_batches(path, [args.text_column]):
                chunk = [t for t in batch.column(0).to_pylist() if t]
                skipped += batch.num_rows - len(chunk)
                for i in range(0, len(chunk), args.batch):
                    part = chunk[i:i + args.batch]
                    for text, loss in zip(part, document_losses(model, tokenizer, part, args.max_tokens)):
                        if loss is None:
                            skipped += 1
                        else:
                            texts.append(text)
                            scores.append(-loss)
                print(f"[perplexity_teacher] {len(texts)} scored", flush=True)
        pq.write_table(pa.table({"text": pa.array(texts, pa.string()), "score": pa.array(scores, pa.float64())}),
                       args.output)
        print(f"[perplexity_teacher] wrote {len(texts)} scores ({skipped} texts skipped: empty) to {args.output} "
              f"in {time.monotonic() - started:.1f}s")
        return 0

    return run_main(job)


if __name__ == "__main__":
    sys.exit(main())
