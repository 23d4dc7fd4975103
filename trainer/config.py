"""Trainer configuration: conf/train/*.yaml has a `model:` and a `train:` section.

Validated like every other config of the project (pipeline/config_file.py's loader): an unknown key or a
wrong type raises ConfigError naming the key and the file. PyYAML reads `3e-4` and `989.0e12` as
strings: write `3.0e-4` and `989.0e+12` (a dot, and a signed exponent).
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

from pipeline.config_file import ConfigError, load_dataclass
from trainer.model import ModelConfig

DTYPES = ("auto", "bf16", "fp32")


@dataclass
class TrainConfig:
    seq_len: int = 2048             # tokens per training sequence (windows of seq_len + 1 over the stream)
    batch_size: int = 16            # sequences per micro-batch on each device
    grad_accum: int = 1             # micro-batches per optimizer step
    steps: int = 10_000             # optimizer steps; warmup + cosine span exactly these
    lr: float = 3.0e-4              # peak learning rate
    min_lr_ratio: float = 0.1       # cosine decays to lr * min_lr_ratio
    warmup_steps: int = 200         # linear warmup from 0
    weight_decay: float = 0.1       # on matrices only, not on norms
    beta1: float = 0.9
    beta2: float = 0.95
    adam_eps: float = 1.0e-8
    grad_clip: float = 1.0          # global gradient-norm clip; 0 disables
    seed: int = 0                   # model init and the data order
    dtype: str = "auto"             # auto: bf16 autocast on CUDA, fp32 on CPU | bf16 | fp32
    compile: bool = False           # torch.compile each block and the loss kernel (GPU presets turn it on)
    doc_mask: bool = False          # attention stops at EOS (costs the flash kernel: dense mask)
    ce_chunk_tokens: int = 8192     # tokens per cross-entropy chunk: chunk x vocab logits alive at once
    log_interval: int = 10          # steps between progress lines and metric records
    eval_interval: int = 500        # steps between held-out evaluations (needs --valid); 0: at the end only
    eval_batches: int = 20          # micro-batches per evaluation
    ckpt_interval: int = 1000       # steps between checkpoints; 0: at the end only
    prefetch: int = 4               # batches prepared ahead by a background thread; 0: inline
    peak_flops: float = 989.0e+12    # per-device peak for MFU (H100 SXM dense bf16); 0: do not report MFU


@dataclass
class TrainerConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def load_trainer_config(path: str | os.PathLike, overrides: list[str] = ()) -> TrainerConfig:
    config = load_dataclass(TrainerConfig, path, overrides)
    _check(config, str(path))
    return config


def _check(config: TrainerConfig, where: str) -> None:
    t = config.train
    if t.dtype not in DTYPES:
        raise ConfigError(f"{where}: key 'train.dtype': unknown dtype '{t.dtype}' (known: {', '.join(DTYPES)})")
    for key in ("seq_len", "batch_size", "grad_accum", "steps", "log_interval", "eval_batches", "ce_chunk_tokens"):
        if getattr(t, key) <= 0:
            raise ConfigError(f"{where}: key 'train.{key}' must be > 0, got {getattr(t, key)}")
    for key in ("warmup_steps", "eval_interval", "ckpt_interval", "prefetch", "grad_clip", "weight_decay",
                "peak_flops"):
        if getattr(t, key) < 0:
            raise ConfigError(f"{where}: key 'train.{key}' must be >= 0, got {getattr(t, key)}")
    if not 0 < t.lr or not 0 <= t.min_lr_ratio <= 1:
        raise ConfigError(f"{where}: keys 'train.lr' > 0 and 0 <= 'train.min_lr_ratio' <= 1 required")
    if t.seq_len > config.model.max_seq_len:
        raise ConfigError(f"{where}: key 'train.seq_len' {t.seq_len} exceeds model.max_seq_len "
                          f"{config.model.max_seq_len}")
    model = dataclasses.replace(config.model, vocab_size=config.model.vocab_size or 1)  # 0 = from the shards
    try:
        model.check()
    except ValueError as err:
        raise ConfigError(f"{where}: {err}") from None


def to_dict(config: TrainerConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def from_dict(raw: dict[str, Any]) -> TrainerConfig:
    """Rebuild the config saved in a checkpoint."""
    return TrainerConfig(model=ModelConfig(**raw["model"]), train=TrainConfig(**raw["train"]))
