"""trainer/evaluate.py: a checkpoint loads back into the model that wrote it; per-document losses
are the model's cross-entropy and separate text like the training data from noise; the held-out
loss is the trainer's own eval loss."""
import json

import numpy as np
import pytest
import torch

from pipeline.config import ConfigError
from tests.trainer.corpus import english_documents, train_bpe, write_text_shards
from trainer.evaluate import document_losses, heldout_losses, load_model, run_heldout_losses
from trainer.train import main

CONF = "conf/train/tiny.yaml"
STEPS = 30


class CorpusTokenizer:
    """tests/trainer/corpus.py's BPE (the one the shards were written with) behind the interface of
    pipeline.tokens.tokenizer: encode_batch, vocab_size, eos_id, bos_id."""

    def __init__(self):
        self.bpe = train_bpe()
        self.vocab_size = self.bpe.get_vocab_size()
        self.eos_id = self.bpe.token_to_id("<eos>")
        self.bos_id = None

    def encode_batch(self, texts):
        return [np.array(e.ids, dtype=np.int64) for e in self.bpe.encode_batch(texts)]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate")
    write_text_shards(root / "train", english_documents(120, seed=0), num_shards=2)
    write_text_shards(root / "valid", english_documents(10, seed=1), num_shards=1)
    assert main(["--conf", CONF, "--data", str(root / "train"), "--valid", str(root / "valid"),
                 "--out", str(root / "run"), "--steps", str(STEPS)]) == 0
    return root


def test_heldout_loss_is_the_trainers_eval_loss(run):
    logged = [json.loads(line) for line in (run / "run" / "metrics.jsonl").read_text().splitlines()]
    eval_loss = {r["step"]: r["eval_loss"] for r in logged if "eval_loss" in r}[STEPS]
    valid, train = run_heldout_losses(run / "run", [str(run / "valid"), str(run / "train")])
    assert valid == pytest.approx(eval_loss, rel=1e-6)
    assert 0 < train < np.log(320) and valid < np.log(320)     # learnt something: below uniform over the vocab
    model, config = load_model(run / "run" / "checkpoint.pt")
    assert heldout_losses(model, config, [str(run / "valid")]) == [valid]
    assert not model.training                                   # evaluate() does not leave it in training mode


def test_document_losses_are_the_models_cross_entropy_and_rank_text_above_noise(run):
    model, config = load_model(run / "run" / "checkpoint.pt")
    assert config.train.seq_len == 128 and model.config.vocab_size == 320
    tokenizer = CorpusTokenizer()
    english = english_documents(8, seed=5)
    rng = np.random.default_rng(0)
    noise = ["".join(rng.choice(list("qxzjkvw0123456789#%&"), size=300)) for _ in range(8)]
    losses = document_losses(model, tokenizer, english + noise + [""], max_tokens=100)
    assert losses[-1] is None                                   # no tokens: no loss
    english_loss, noise_loss = np.mean(losses[:8]), np.mean(losses[8:16])
    assert english_loss < noise_loss - 1.0                      # nats per token

    # the value: mean next-token cross-entropy over the first max_tokens tokens then EOS
    ids = tokenizer.encode_batch([english[0]])[0][:100].tolist() + [tokenizer.eos_id]
    tokens = torch.tensor([ids])
    with torch.no_grad():
        logits = model(tokens[:, :-1])
    expected = torch.nn.functional.cross_entropy(logits[0].float(), tokens[0, 1:]).item()
    assert losses[0] == pytest.approx(expected, rel=1e-5)
    # max_tokens is capped at the model's context
    assert document_losses(model, tokenizer, english[:1], max_tokens=10 ** 6) == \
        document_losses(model, tokenizer, english[:1], max_tokens=model.config.max_seq_len)


def test_unreadable_checkpoint_and_a_wider_tokenizer_are_config_errors(run, tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="not a readable trainer checkpoint"):
        load_model(tmp_path / "checkpoint.pt")
    model, _ = load_model(run / "run" / "checkpoint.pt")
    tokenizer = CorpusTokenizer()
    tokenizer.vocab_size = 1000
    with pytest.raises(ConfigError, match="1000 ids but the model only 320"):
        document_losses(model, tokenizer, ["text"], max_tokens=10)
