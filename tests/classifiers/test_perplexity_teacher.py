"""The perplexity teacher: a tiny model trained on reference text prefers reference-like text,
and its scores distil into a fastText student through jobs/train_classifier.py."""
import json
import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("torch")

from jobs.perplexity_teacher import main as teacher_main  # noqa: E402
from jobs.train_classifier import main as train_main  # noqa: E402
from pipeline.tokens.shards import dtype_for_vocab, write_manifest, write_shard  # noqa: E402
from pipeline.tokens.tokenizer import train_bpe  # noqa: E402
from tests.classifiers.data import lq_text  # noqa: E402
from tests.trainer.corpus import english_documents  # noqa: E402
from trainer.train import main as trainer_main  # noqa: E402

pytestmark = pytest.mark.slow


def test_reference_model_scores_reference_text_higher_and_distils(tmp_path):
    reference = english_documents(300, seed=1)
    tokenizer = train_bpe(reference, str(tmp_path / "tok"), vocab_size=400)
    docs = [np.append(ids, tokenizer.eos_id) for ids in tokenizer.encode_batch(reference)]
    dtype = dtype_for_vocab(tokenizer.vocab_size)
    meta = [write_shard(tmp_path / "shards", 0, docs, dtype)]
    write_manifest(tmp_path / "shards", meta, tokenizer_name=tokenizer.name, tokenizer_sha256=tokenizer.sha256,
                   vocab_size=tokenizer.vocab_size, bos_id=tokenizer.bos_id, eos_id=tokenizer.eos_id, seed=0)
    assert trainer_main(["--conf", "conf/train/tiny.yaml", "--data", str(tmp_path / "shards"),
                         "--out", str(tmp_path / "lm"), "--steps", "40"]) == 0

    rng = random.Random(2)
    crawl = english_documents(60, seed=7) + [lq_text(rng) for _ in range(60)]
    pq.write_table(pa.table({"text": crawl + [""]}), tmp_path / "crawl.parquet")
    assert teacher_main(["--checkpoint", str(tmp_path / "lm" / "checkpoint.pt"), "--tokenizer", str(tmp_path / "tok"),
                         "--input", str(tmp_path / "crawl.parquet"), "--output", str(tmp_path / "scores.parquet"),
                         "--max-tokens", "100"]) == 0
    scores = pq.read_table(tmp_path / "scores.parquet").to_pydict()
    assert scores["text"] == crawl                              # the empty text is skipped, order kept
    by_text = dict(zip(scores["text"], scores["score"]))
    english = np.mean([by_text[t] for t in crawl[:60]])
    spam = np.mean([by_text[t] for t in crawl[60:]])
    assert english > spam + 0.5                                 # nats per token

    out = tmp_path / "student"
    assert train_main(["--teacher-scores", str(tmp_path / "scores.parquet"), "--teacher-top-percent", "50",
                       "--output", str(out), "--dim", "16", "--bucket", "20000"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["recipe"] == "teacher_student" and metrics["teacher_spearman"] > 0.5
