"""Training throughput and MFU of trainer/ on one GPU, with the real data loader in the loop.

    .venv/bin/python bench/train_gpu.py [--configs a b c] [--warmup 10] [--steps 30]

Three configs at sequence length 2048, vocabulary 128,256, bf16 autocast, compiled blocks and loss
kernel, fused AdamW, flash SDPA, chunked cross-entropy (the presets conf/train/125m, 350m, 1b):
  (a) d 768, 12 layers, 12 heads, 4 KV heads, FFN 2048, batch 16
  (b) d 1024, 24 layers, 16 heads, 4 KV heads, FFN 2816, batch 16
  (c) d 2048, 16 layers, 32 heads, 8 KV heads, FFN 5632, batch 8
Synthetic shards (random ids, random document lengths) are written to a temporary directory with
pipeline/tokens/shards.py and read back through trainer.data.TrainLoader (verified, memory-mapped,
prefetched into pinned memory). Warmup steps (compilation, allocator) are not timed.
MFU = tokens/s x (6N + 12 L d T) / 989e12 (H100 SXM dense bf16), N = all parameters but the input
embedding. Reference (a minimal compiled model of the same architecture on one H100):
327k / 147k / 75k tokens/s, MFU 0.42 / 0.45 / 0.51.

The last line printed is one JSON object: per config tokens_per_s, mfu, data_wait_frac (nulls,
and exit status 0, on a machine without CUDA).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.tokens.shards import dtype_for_vocab, write_manifest, write_shard  # noqa: E402
from trainer import loss as loss_kernels  # noqa: E402
from trainer.config import TrainConfig  # noqa: E402
from trainer.data import PackedDataset, TrainLoader  # noqa: E402
from trainer.model import ModelConfig, Transformer, count_parameters, flops_per_token  # noqa: E402
from trainer.train import build_optimizer, train_step  # noqa: E402

VOCAB, SEQ, PEAK = 128_256, 2048, 989e12
CONFIGS = {
    "a": (dict(dim=768, n_layers=12, n_heads=12, n_kv_heads=4, ffn_dim=2048), 16, 327_000),
    "b": (dict(dim=1024, n_layers=24, n_heads=16, n_kv_heads=4, ffn_dim=2816), 16, 147_000),
    "c": (dict(dim=2048, n_layers=16, n_heads=32, n_kv_heads=8, ffn_dim=5632), 8, 75_000),
}
KEYS = ("tokens_per_s", "mfu", "data_wait_frac")


def write_synthetic_shards(directory: Path, tokens: int, seed: int = 0) -> None:
    """Random ids in documents of 100..8000 tokens, each ending in EOS, over 4 shards."""
    rng = np.random.default_rng(seed)
    eos, dtype = VOCAB - 1, dtype_for_vocab(VOCAB)
    docs, total = [], 0
    while total < tokens:
        doc = rng.integers(0, VOCAB - 1, size=int(rng.integers(100, 8000)), dtype=np.uint32)
        doc[-1] = eos
        docs.append(doc)
        total += doc.size
    parts = np.array_split(np.arange(len(docs)), 4)
    metas = [write_shard(directory, k, (docs[i] for i in part), dtype) for k, part in enumerate(parts)]
    write_manifest(directory, metas, tokenizer_name="synthetic", tokenizer_sha256="0" * 64, vocab_size=VOCAB,
                   bos_id=None, eos_id=eos, seed=seed)


def bench_config(name: str, data: Path, warmup: int, steps: int, device: str = "cuda") -> dict:
    shape, batch, reference = CONFIGS[name]
    model_config = ModelConfig(vocab_size=VOCAB, max_seq_len=SEQ, tie_embeddings=True, **shape)
    t = TrainConfig(seq_len=SEQ, batch_size=batch, grad_accum=1, compile=True, prefetch=4)
    device = torch.device(device)
    cuda = device.type == "cuda"              # the CPU path exists only to smoke-test this script
    torch.manual_seed(0)
    model = Transformer(model_config).to(device)
    for block in model.layers:
        block.compile()
    loss_kernels.use_compiled_kernel(True)
    optimizer = build_optimizer(model, t, device)
    loader = TrainLoader([PackedDataset(data, SEQ)], [1.0], batch, seed=0, device=device,
                         prefetch=t.prefetch)
    autocast = lambda: torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda)  # noqa: E731
    for _ in range(warmup):
        loss, _ = train_step(model, optimizer, loader, t, autocast, None)
    if cuda:
        torch.cuda.synchronize()
    began, wait = time.perf_counter(), 0.0
    for _ in range(steps):
        loss, waited = train_step(model, optimizer, loader, t, autocast, None)
        wait += waited
    final_loss = loss.item()                   # syncs: every queued kernel has run
    elapsed = time.perf_counter() - began
    loader.close()
    tokens_per_s = steps * batch * SEQ / elapsed
    mfu = tokens_per_s * flops_per_token(model_config, SEQ) / PEAK
    result = {"tokens_per_s": round(tokens_per_s), "mfu": round(mfu, 4),
              "data_wait_frac": round(wait / elapsed, 5), "step_ms": round(1000 * elapsed / steps, 1),
              "loss": round(final_loss, 3), "params_m": round(count_parameters(model_config)["total"] / 1e6, 1),
              "peak_memory_gb": round(torch.cuda.max_memory_allocated() / 2**30, 1) if cuda else None,
              "reference_tokens_per_s": reference}
    del model, optimizer, loader
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    torch._dynamo.reset()
    loss_kernels.use_compiled_kernel(False)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=sorted(CONFIGS))
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first (compilation)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per config")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device: this benchmark needs a GPU (an H100 for the reference numbers); nothing measured")
        print(json.dumps({name: dict.fromkeys(KEYS) for name in args.configs}))
        return 0
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}", flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-shards-") as tmp:
        most = max(CONFIGS[c][1] for c in args.configs) * (args.warmup + args.steps) * SEQ
        write_synthetic_shards(Path(tmp), tokens=min(most, 64 << 20))   # sampler wraps round when smaller
        for name in args.configs:
            try:
                results[name] = bench_config(name, Path(tmp), args.warmup, args.steps)
            except torch.cuda.OutOfMemoryError as err:
                results[name] = {**dict.fromkeys(KEYS), "error": f"out of memory: {str(err).splitlines()[0]}"}
                torch.cuda.empty_cache()
            r = results[name]
            print(f"({name}) {r.get('tokens_per_s')} tokens/s (reference {CONFIGS[name][2]}), mfu {r.get('mfu')}, "
                  f"data wait {r.get('data_wait_frac')}, step {r.get('step_ms')} ms, "
                  f"peak memory {r.get('peak_memory_gb')} GB", flush=True)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
