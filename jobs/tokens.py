"""Tokenize: documents -> mixed, shuffled, fixed-size token shards for the trainer.

    spark-submit jobs/tokens.py --conf conf/x.yaml --output out/run1 \\
        --set tokenize.tokenizer=models/llama3/tokenizer.model --set 'tokenize.mix={en/wiki: 3, "*/cc/CC-MAIN-2024-10": 0.5}'

Reads the previous stage's output (<output>/dedup, or <output>/classify in a run without
dedup) or --input Parquet documents with id, text, lang, source. In order, every step keyed
by a seeded hash so that the same input and seed give byte-identical shards whatever the
partitioning:
  1. held-out split by document (tokenize.valid_fraction of the ids go to valid/);
  2. mix weights per (lang, source): weight w gives floor(w) copies plus one more for a
     seeded-hash fraction w - floor(w) of the documents (w < 1 down-samples); valid gets at most one;
  3. tokens in mapInArrow, the tokenizer loaded once per Python worker: [BOS] ids EOS;
  4. a global shuffle (sort by a seeded hash of (id, copy)), token offsets by partition prefix
     sums, shard = offset // tokenize.shard_tokens;
  5. executors write their shards in parallel; the driver only assembles manifest.json from the
     per-shard rows.
Writes <output>/shards/{train,valid}/ (NNNNN.ds, NNNNN.ds.index, manifest.json: pipeline/tokens/shards.py),
<output>/rejected/tokenize/ (drop_reason empty_text or mix_sampled_out) and <output>/stats/tokenize.json.
Shards are written by the executors through pipeline/storage.py: --output may be local, mounted or
an object store (where completeness rests on the stats file, written last).
The stage's code is pipeline/tokens/ (stage_spark.py, stage.py, shards.py, tokenizer.py).
"""
from __future__ import annotations

import sys

from jobs.stage_job import stage_main


def main(argv: list[str] | None = None) -> int:
    return stage_main("tokenize", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
