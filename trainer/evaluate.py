"""Evaluate a trained model: load a checkpoint, the loss of each of a list of documents, the held-out
loss over validation shard directories. Torch only, on the CPU.

    model, config = load_model("out/ref_lm/checkpoint.pt")
    document_losses(model, tokenizer, ["some text", ...], max_tokens=512)   # per document, nats/token
    heldout_losses(model, config, ["shards/en/valid", "shards/de/valid"])   # per directory

jobs/perplexity_teacher.py scores documents with document_losses (score = -loss); jobs/mix_search.py
measures each proxy run with run_heldout_losses.
"""
from __future__ import annotations

import os
import pickle
from typing import Sequence

import numpy as np
import torch

from pipeline.config import ConfigError
from trainer.checkpoint import CHECKPOINT, load_checkpoint
from trainer.config import TrainerConfig, from_dict
from trainer.data import PackedDataset
from trainer.model import Transformer
from trainer.train import evaluate


def load_model(checkpoint: str | os.PathLike) -> tuple[Transformer, TrainerConfig]:
    """(model in eval mode on the CPU, the config it was trained with) from a trainer checkpoint.pt."""
    try:
        state = load_checkpoint(checkpoint)
    except (OSError, RuntimeError, pickle.UnpicklingError) as err:     # missing, truncated, not torch.save's
        reason = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        raise ConfigError(f"{checkpoint}: not a readable trainer checkpoint ({reason})") from err
    config = from_dict(state["config"])
    model = Transformer(config.model)
    model.load_state_dict(state["model"])
    return model.eval(), config


def document_losses(model: Transformer, tokenizer, texts: Sequence[str], max_tokens: int) -> list[float | None]:
    """Mean negative log-likelihood per token (nats) of each text's first max_tokens tokens (at most
    model.max_seq_len) followed by EOS, after BOS when the tokenizer has one; None for a text with no
    tokens. tokenizer: pipeline.tokens.tokenizer's (encode_batch, vocab_size, eos_id, bos_id)."""
    config = model.config
    if tokenizer.vocab_size > config.vocab_size:
        raise ConfigError(f"the tokenizer has {tokenizer.vocab_size} ids but the model only {config.vocab_size}")
    limit = min(max_tokens, config.max_seq_len)
    losses: list[float | None] = []
    with torch.no_grad():
        for ids in tokenizer.encode_batch(list(texts)):
            if len(ids) == 0:
                losses.append(None)
                continue
            ids = np.append(ids[:limit], tokenizer.eos_id).astype(np.int64)
            if tokenizer.bos_id is not None:
                ids = np.insert(ids, 0, tokenizer.bos_id)
            tokens = torch.from_numpy(ids)[None]
            losses.append(float(model(tokens[:, :-1], tokens[:, 1:])))
    return losses


def heldout_losses(model: Transformer, config: TrainerConfig, directories: Sequence[str]) -> list[float]:
    """The trainer's eval loss (train.eval_batches batches of train.seq_len, fp32) on each shard directory."""
    training = model.training
    losses = []
    for directory in directories:
        ds = PackedDataset(directory, config.train.seq_len)
        eos = ds.reader.eos_id if getattr(config.train, "doc_mask", False) else None
        losses.append(float(evaluate(model, ds, config, lambda: torch.autocast("cpu", enabled=False), eos, 0, 1,
                                     torch.device("cpu"))))
    model.train(training)           # evaluate() leaves the model in training mode
    return losses


def run_heldout_losses(run_dir: str | os.PathLike, directories: Sequence[str]) -> list[float]:
    """The final checkpoint of a trainer run (<run_dir>/checkpoint.pt), evaluated on each shard directory."""
    model, config = load_model(os.path.join(run_dir, CHECKPOINT))
    return heldout_losses(model, config, directories)
