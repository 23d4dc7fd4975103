"""Train the Llama 3 style decoder on token shards.

    python -m trainer.train --conf conf/train/tiny.yaml --data out/demo/shards/train --steps 30
    python -m trainer.train --conf conf/train/125m.yaml --data web code --weights 0.8 0.2 --valid heldout
    torchrun --nproc_per_node 8 -m trainer.train --conf conf/train/1b.yaml --data shards --out runs/1b --resume

Writes <out>/checkpoint.pt (replaced atomically every train.ckpt_interval steps and at the end),
<out>/metrics.jsonl (always) and <out>/tb/ (when the tensorboard package is installed), and
<out>/config.yaml (the resolved config). Errors in the inputs (missing or corrupt shards, a model
vocabulary smaller than the shards', a bad config key) print one line and exit with status 2.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import json
import math
import os
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
import yaml

from pipeline.config import ConfigError
from pipeline.tokens.shards import ShardError
from trainer import loss as loss_kernels
from trainer.checkpoint import CHECKPOINT, load_checkpoint, save_checkpoint, set_rng_states
from trainer.config import TrainConfig, TrainerConfig, load_trainer_config, to_dict
from trainer.data import PackedDataset, TrainLoader, eval_batches
from trainer.model import Transformer, count_parameters, flops_per_token


class TrainerError(ValueError):
    """A problem with the run's inputs; the message is one line saying what to do."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m trainer.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Under torchrun (WORLD_SIZE > 1) it runs DDP; each rank reads its slice of one global batch, "
               "so the data order does not depend on the number of GPUs. conf/train/*.yaml lists every "
               "model.* and train.* key.")
    parser.add_argument("--conf", required=True, help="trainer config YAML (conf/train/tiny.yaml for a CPU run)")
    parser.add_argument("--data", nargs="+", required=True, metavar="DIR",
                        help="shard directories (manifest.json + NNNNN.ds); several are mixed by --weights")
    parser.add_argument("--weights", nargs="+", type=float, metavar="W",
                        help="sampling weight of each --data directory (default: equal)")
    parser.add_argument("--valid", metavar="DIR", help="held-out shard directory for the eval loss")
    parser.add_argument("--out", default="out/train", help="checkpoint and log directory (default: out/train)")
    parser.add_argument("--steps", type=int, help="optimizer steps: overrides train.steps (the LR schedule's length)")
    parser.add_argument("--stop-at", type=int, metavar="STEP",
                        help="stop after this step with a checkpoint, schedule unchanged (time-limited jobs)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from <out>/checkpoint.pt (model, optimizer, data order, RNG); "
                             "starts fresh when there is none")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set train.lr=1.0e-3 (repeatable)")
    parser.add_argument("--skip-sha256", action="store_true",
                        help="check shard sizes and offsets but not checksums (fast start on big sets)")
    return parser.parse_args(argv)


def lr_at(step: int, config: TrainerConfig) -> float:
    """Linear warmup to train.lr, then cosine to lr * min_lr_ratio at train.steps (step is 0-based)."""
    t = config.train
    if step < t.warmup_steps:
        return t.lr * (step + 1) / t.warmup_steps
    progress = min(1.0, (step - t.warmup_steps) / max(1, t.steps - t.warmup_steps))
    low = t.lr * t.min_lr_ratio
    return low + 0.5 * (t.lr - low) * (1 + math.cos(math.pi * progress))


def open_data(args, config: TrainerConfig) -> tuple[list[PackedDataset], PackedDataset | None]:
    verify = not args.skip_sha256
    train = [PackedDataset(d, config.train.seq_len, verify=verify) for d in args.data]
    valid = PackedDataset(args.valid, config.train.seq_len, verify=verify) if args.valid else None
    first = train[0].reader
    for ds in train[1:] + ([valid] if valid else []):
        if (ds.reader.manifest["tokenizer"]["sha256"], ds.reader.eos_id) != (
                first.manifest["tokenizer"]["sha256"], first.eos_id):
            raise TrainerError(f"{ds.directory} was tokenized differently from {train[0].directory} "
                               "(tokenizer sha256 or EOS id differ); mix only shards of one tokenizer")
    widest = max(train + ([valid] if valid else []), key=lambda ds: ds.reader.vocab_size)
    vocab = widest.reader.vocab_size
    if config.model.vocab_size == 0:       # from the shards, rounded up for tensor-core friendly shapes
        config.model.vocab_size = -(-vocab // 64) * 64
    elif config.model.vocab_size < vocab:
        raise TrainerError(f"model.vocab_size {config.model.vocab_size} < vocab_size {vocab} in "
                           f"{widest.directory}/manifest.json: set model.vocab_size >= {vocab} (0: from the shards)")
    return train, valid


def setup_distributed() -> tuple[int, int, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return rank, world, device


def mean_across_ranks(value: torch.Tensor, world: int) -> float:
    if world > 1:
        dist.all_reduce(value, op=dist.ReduceOp.AVG)
    return value.item()


def build_optimizer(model: torch.nn.Module, t: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    matrices = [p for p in model.parameters() if p.dim() >= 2]
    vectors = [p for p in model.parameters() if p.dim() < 2]      # norms: no weight decay
    return torch.optim.AdamW([{"params": matrices, "weight_decay": t.weight_decay},
                              {"params": vectors, "weight_decay": 0.0}],
                             lr=t.lr, betas=(t.beta1, t.beta2), eps=t.adam_eps, fused=device.type == "cuda")


class Metrics:
    """metrics.jsonl always; TensorBoard event files too when tensorboard is installed."""

    def __init__(self, out: Path, enabled: bool):
        self.enabled = enabled
        self.file = open(out / "metrics.jsonl", "a", encoding="utf-8") if enabled else None
        self.tb = None
        if enabled and importlib.util.find_spec("tensorboard") is not None:
            from torch.utils.tensorboard import SummaryWriter
            self.tb = SummaryWriter(str(out / "tb"))

    def log(self, step: int, **values) -> None:
        if not self.enabled:
            return
        self.file.write(json.dumps({"step": step, **values}) + "\n")
        self.file.flush()
        if self.tb is not None:
            for key, value in values.items():
                if isinstance(value, (int, float)):
                    self.tb.add_scalar(key, value, step)

    def close(self) -> None:
        if self.file:
            self.file.close()
        if self.tb:
            self.tb.close()


def train_step(ddp: torch.nn.Module, optimizer: torch.optim.Optimizer, loader: TrainLoader, t, autocast,
               eos_id: int | None) -> tuple[torch.Tensor, float]:
    """One optimizer step over t.grad_accum micro-batches: (mean loss as a device tensor, seconds
    spent waiting for data). No host sync, so the CPU queues work ahead of the GPU."""
    distributed = isinstance(ddp, torch.nn.parallel.DistributedDataParallel)
    loss_sum, wait = None, 0.0
    for micro in range(t.grad_accum):
        began = time.perf_counter()
        tokens, _ = next(loader)
        wait += time.perf_counter() - began
        # gradients are all-reduced once per step, on the last micro-batch
        sync = ddp.no_sync() if distributed and micro < t.grad_accum - 1 else contextlib.nullcontext()
        with sync:
            with autocast():
                loss = ddp(tokens[:, :-1], tokens[:, 1:], eos_id=eos_id, ce_chunk_tokens=t.ce_chunk_tokens)
            (loss / t.grad_accum).backward()
        loss = loss.detach() / t.grad_accum
        loss_sum = loss if loss_sum is None else loss_sum + loss
    if t.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_([p for group in optimizer.param_groups for p in group["params"]], t.grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss_sum, wait


def evaluate(model: Transformer, valid: PackedDataset, config: TrainerConfig, autocast, eos_id, rank, world,
             device) -> float:
    model.eval()
    total = torch.zeros((), device=device)
    with torch.no_grad(), autocast():
        for tokens in eval_batches(valid, config.train.batch_size, config.train.eval_batches, rank=rank,
                                   world_size=world, device=device):
            total += model(tokens[:, :-1], tokens[:, 1:], eos_id=eos_id,
                           ce_chunk_tokens=config.train.ce_chunk_tokens)
    model.train()
    return mean_across_ranks(total / config.train.eval_batches, world)


def train(args: argparse.Namespace) -> int:
    config = load_trainer_config(args.conf, args.set)
    if args.steps is not None:
        if args.steps <= 0:
            raise TrainerError(f"--steps must be > 0, got {args.steps}")
        config.train.steps = args.steps
    if args.stop_at is not None and args.stop_at <= 0:
        raise TrainerError(f"--stop-at must be > 0, got {args.stop_at}")
    if args.weights is not None and len(args.weights) != len(args.data):
        raise TrainerError(f"--weights has {len(args.weights)} values for {len(args.data)} --data directories")
    train_sets, valid = open_data(args, config)
    t = config.train
    out = Path(args.out)
    ckpt_path = out / CHECKPOINT
    if ckpt_path.exists() and not args.resume:
        raise TrainerError(f"{ckpt_path} exists: pass --resume to continue it, or choose another --out")
    checkpoint = load_checkpoint(ckpt_path) if args.resume and ckpt_path.exists() else None
    if checkpoint is not None:
        saved = checkpoint["config"]
        for section, keys in (("model", [f.name for f in dataclasses.fields(config.model)]),
                              ("train", ["seq_len", "batch_size", "grad_accum", "seed"])):
            for key in keys:
                if saved[section][key] != getattr(getattr(config, section), key):
                    raise TrainerError(f"{ckpt_path} was trained with {section}.{key}={saved[section][key]!r}, "
                                       f"this run has {getattr(getattr(config, section), key)!r}")

    rank, world, device = setup_distributed()
    use_bf16 = t.dtype == "bf16" or (t.dtype == "auto" and device.type == "cuda")
    autocast = lambda: torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16)  # noqa: E731
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(t.seed)
    model = Transformer(config.model).to(device)
    optimizer = build_optimizer(model, t, device)
    start = 0
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        set_rng_states(checkpoint["rng"])
        start = checkpoint["step"]
    if t.compile:
        for block in model.layers:       # per block: one compiled graph serves every layer
            block.compile()
        loss_kernels.use_compiled_kernel(True)
    ddp = torch.nn.parallel.DistributedDataParallel(
        model, device_ids=[device.index] if device.type == "cuda" else None) if world > 1 else model
    eos_id = train_sets[0].reader.eos_id if t.doc_mask else None
    try:
        loader = TrainLoader(train_sets, args.weights or [1.0] * len(train_sets), t.batch_size, t.seed, rank=rank,
                             world_size=world, device=device, prefetch=t.prefetch,
                             state=checkpoint["sampler"] if checkpoint else None)
    except ValueError as err:       # weights, or a checkpoint's data state that does not fit these sets
        raise TrainerError(f"{ckpt_path if checkpoint else '--weights'}: {err}") from None
    is_main = rank == 0
    if is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.yaml").write_text(yaml.safe_dump(to_dict(config), sort_keys=False), encoding="utf-8")
    metrics = Metrics(out, enabled=is_main)
    data_info = {"train": [ds.directory for ds in train_sets], "valid": args.valid, "weights": args.weights,
                 "tokenizer": train_sets[0].reader.manifest["tokenizer"], "eos_id": train_sets[0].reader.eos_id,
                 "bos_id": train_sets[0].reader.bos_id}
    tokens_per_step = t.batch_size * t.grad_accum * world * t.seq_len
    flops = flops_per_token(config.model, t.seq_len)
    stop = min(t.steps, args.stop_at) if args.stop_at else t.steps
    if is_main:
        n = count_parameters(config.model)
        print(f"model: {n['total'] / 1e6:.1f}M parameters ({n['layers'] / 1e6:.1f}M in blocks), "
              f"vocab {config.model.vocab_size}; data: {sum(len(d) for d in train_sets)} sequences of "
              f"{t.seq_len}; {tokens_per_step} tokens/step on {world} {device.type} rank(s); "
              f"steps {start}->{stop} of {t.steps}", flush=True)

    def checkpoint_now(step):
        if is_main:
            save_checkpoint(out, model=model, optimizer=optimizer, step=step, sampler=loader.state_dict(),
                            config=to_dict(config), data=data_info)

    loss_sum, wait, window_start, window_steps = torch.zeros((), device=device), 0.0, time.perf_counter(), 0
    last_loss = eval_loss = None
    for step in range(start, stop):
        lr = lr_at(step, config)
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss, waited = train_step(ddp, optimizer, loader, t, autocast, eos_id)
        loss_sum += loss
        wait += waited
        done, window_steps = step + 1, window_steps + 1
        if done % t.log_interval == 0 or done == stop:
            last_loss = mean_across_ranks(loss_sum / window_steps, world)   # .item() syncs: once per interval
            if not math.isfinite(last_loss):
                raise TrainerError(f"loss is {last_loss} at step {done}: lower train.lr or check the data "
                                   f"(last good checkpoint: {ckpt_path})")
            elapsed = time.perf_counter() - window_start
            tps = tokens_per_step * window_steps / elapsed
            mfu = tps / world * flops / t.peak_flops if t.peak_flops else None
            record = {"loss": last_loss, "lr": lr, "tokens_per_s": tps, "mfu": mfu, "data_wait_frac": wait / elapsed}
            metrics.log(done, **record)
            if is_main:
                print(f"step {done:>6}/{t.steps} | loss {last_loss:.4f} | lr {lr:.2e} | {tps:,.0f} tok/s | "
                      f"mfu {'-' if mfu is None else f'{mfu:.1%}'} | data wait {wait / elapsed:.1%}", flush=True)
            loss_sum.zero_()
            wait, window_start, window_steps = 0.0, time.perf_counter(), 0
        paused = time.perf_counter()            # evaluation and checkpoints are not training throughput
        if valid is not None and ((t.eval_interval and done % t.eval_interval == 0) or done == stop):
            eval_loss = evaluate(model, valid, config, autocast, eos_id, rank, world, device)
            metrics.log(done, eval_loss=eval_loss)
            if is_main:
                print(f"step {done:>6}/{t.steps} | eval loss {eval_loss:.4f}", flush=True)
        if (t.ckpt_interval and done % t.ckpt_interval == 0) or done == stop:
            checkpoint_now(done)
        window_start += time.perf_counter() - paused
    loader.close()
    metrics.close()
    if is_main:
        print(f"done: step {stop}, loss {last_loss if last_loss is None else round(last_loss, 4)}"
              + (f", eval loss {eval_loss:.4f}" if eval_loss is not None else "") + f"; checkpoint {ckpt_path}",
              flush=True)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return train(args)
    except (ConfigError, ShardError, TrainerError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
