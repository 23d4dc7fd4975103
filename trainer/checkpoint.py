"""Atomic checkpoints: everything a resume needs to continue exactly where the run stopped.

One file, `<out>/checkpoint.pt`, replaced atomically (write a temporary file in the same
directory, fsync, os.replace), so a run killed mid-save leaves the previous checkpoint intact.
"""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

CHECKPOINT = "checkpoint.pt"


def rng_states() -> dict:
    # numpy's key array as a tensor, so the file loads with torch.load(weights_only=True)
    name, keys, pos, has_gauss, cached = np.random.get_state()
    states = {"python": random.getstate(), "numpy": [name, torch.from_numpy(keys.astype(np.int64)), pos,
                                                     has_gauss, cached], "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    random.setstate(states["python"])
    name, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_checkpoint(out_dir: str | os.PathLike, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    step: int, sampler: dict, config: dict, data: dict, extra: dict | None = None) -> Path:
    path = Path(out_dir) / CHECKPOINT
    tmp = path.with_name(f"{CHECKPOINT}.tmp-{os.getpid()}")
    state = {"step": step, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "sampler": sampler, "rng": rng_states(), "config": config, "data": data, **(extra or {})}
    with open(tmp, "wb") as handle:
        torch.save(state, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def load_checkpoint(path: str | os.PathLike) -> dict:
    """The checkpoint dict; tensors on the CPU (load_state_dict moves them to the model's device).

    weights_only: tensors and plain containers only, so a checkpoint cannot run code when loaded.
    """
    return torch.load(path, map_location="cpu", weights_only=True)
