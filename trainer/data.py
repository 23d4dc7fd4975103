"""Training data: packed sequences over token shards, a resumable seeded sampler, weighted mixing.

A shard set's documents (each already ending in EOS) form one token stream; sequence i is the
window of seq_len + 1 tokens starting at i * seq_len, so consecutive windows share one token and
every token is a prediction target exactly once per epoch. A sequence may cross documents (EOS
separates them; the model can mask attention at EOS) and shard files.

The sampler visits the sequences of each set in a seeded random order, every one once per epoch;
its whole state is (epoch, position) per set plus the draw counts of the mixture, saved in each
checkpoint so that a resume produces exactly the batches an uninterrupted run would. The global
batch does not depend on the number of ranks: each rank reads its own slice of it.
"""
from __future__ import annotations

import bisect
import queue
import threading
from typing import Iterator

import numpy as np
import torch

from pipeline.tokens.shards import ShardError, ShardReader


class PackedDataset:
    """Fixed-length windows over the concatenated tokens of one shard directory."""

    def __init__(self, directory, seq_len: int, verify: bool = True):
        self.reader = ShardReader(directory, verify=verify)   # checks the manifest before mapping
        self.directory, self.seq_len = str(directory), seq_len
        self.num_tokens = self.reader.num_tokens
        self._starts = np.cumsum([0] + [s["tokens"] for s in self.reader.manifest["shards"]]).tolist()
        self.num_sequences = max(0, (self.num_tokens - 1) // seq_len)
        if self.num_sequences == 0:
            raise ShardError(f"{directory}: {self.num_tokens} tokens, fewer than one sequence of "
                             f"{seq_len + 1} (lower train.seq_len or add data)")

    def __len__(self) -> int:
        return self.num_sequences

    def sequence(self, i: int) -> np.ndarray:
        """Tokens [i * seq_len, i * seq_len + seq_len + 1) of the stream, as int64."""
        start, end = i * self.seq_len, i * self.seq_len + self.seq_len + 1
        out = np.empty(end - start, dtype=np.int64)
        k, filled = bisect.bisect_right(self._starts, start) - 1, 0
        while filled < out.size:                               # the window may span shard files
            lo = start + filled - self._starts[k]
            piece = self.reader.shard_tokens(k)[lo:lo + out.size - filled]
            out[filled:filled + piece.size] = piece
            filled += piece.size
            k += 1
        return out


class EpochSampler:
    """Indices 0..n-1 in a new seeded permutation each epoch; state (epoch, position).

    Memory: 8 bytes per sequence for the current epoch's order (400 MB at 100B tokens of 2048).
    """

    def __init__(self, n: int, seed: int, stream: int = 0, epoch: int = 0, position: int = 0):
        self.n, self.seed, self.stream, self.epoch, self.position = n, seed, stream, epoch, position
        self._order_epoch, self._order = -1, None

    def _current_order(self) -> np.ndarray:
        if self._order_epoch != self.epoch:
            self._order = np.random.default_rng([self.seed, self.stream, self.epoch]).permutation(self.n)
            self._order_epoch = self.epoch
        return self._order

    def take(self) -> int:
        index = int(self._current_order()[self.position])
        self.position += 1
        if self.position == self.n:
            self.epoch, self.position = self.epoch + 1, 0
        return index

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        if not 0 <= state["position"] < self.n:
            raise ValueError(f"sampler position {state['position']} is outside 0..{self.n - 1} "
                             "(the data changed since the checkpoint?)")
        self.epoch, self.position = state["epoch"], state["position"]


class MixtureSampler:
    """Draws (set, sequence) pairs; set d gets weight_d of the draws, deterministically.

    Each draw goes to the set furthest behind its share (largest weight_d * draws - drawn_d), so
    any prefix of the stream matches the weights to within one sequence per set, with no random
    state to save. A small set is repeated (new epoch, new order) as often as its weight asks.
    """

    def __init__(self, sizes: list[int], weights: list[float], seed: int):
        if len(sizes) != len(weights) or any(w <= 0 for w in weights):
            raise ValueError(f"need one positive weight per dataset, got {weights} for {len(sizes)} datasets")
        total = float(sum(weights))
        self.weights = [w / total for w in weights]
        self.samplers = [EpochSampler(n, seed=seed, stream=d) for d, n in enumerate(sizes)]
        self.drawn = [0] * len(sizes)

    def take(self, k: int) -> list[tuple[int, int]]:
        out = []
        for _ in range(k):
            total = sum(self.drawn) + 1
            d = max(range(len(self.weights)), key=lambda j: self.weights[j] * total - self.drawn[j])
            self.drawn[d] += 1
            out.append((d, self.samplers[d].take()))
        return out

    def state_dict(self) -> dict:
        return {"drawn": list(self.drawn), "samplers": [s.state_dict() for s in self.samplers]}

    def load_state_dict(self, state: dict) -> None:
        if len(state["samplers"]) != len(self.samplers):
            raise ValueError(f"checkpoint has {len(state['samplers'])} datasets, this run {len(self.samplers)}")
        self.drawn = list(state["drawn"])
        for sampler, s in zip(self.samplers, state["samplers"]):
            sampler.load_state_dict(s)


class TrainLoader:
    """Iterates (tokens (batch, seq_len + 1) int64 on `device`, sampler state after this batch).

    A background thread assembles `prefetch` batches ahead (pinned memory on CUDA, so the copy to
    the GPU overlaps compute). Batches come out in sampler order whatever the thread's timing.
    """

    def __init__(self, datasets: list[PackedDataset], weights: list[float], batch_size: int, seed: int, *,
                 rank: int = 0, world_size: int = 1, device: torch.device | str = "cpu", prefetch: int = 4,
                 state: dict | None = None):
        self.datasets, self.batch_size, self.rank, self.world_size = datasets, batch_size, rank, world_size
        self.device = torch.device(device)
        self.sampler = MixtureSampler([len(d) for d in datasets], weights, seed)
        if state is not None:
            self.sampler.load_state_dict(state)
        self.state = self.sampler.state_dict()
        self.prefetch = prefetch
        self._queue: queue.Queue | None = None
        self._stop = threading.Event()

    def _make_batch(self) -> tuple[torch.Tensor, dict]:
        draws = self.sampler.take(self.batch_size * self.world_size)      # the global micro-batch
        mine = draws[self.rank * self.batch_size:(self.rank + 1) * self.batch_size]
        tokens = torch.from_numpy(np.stack([self.datasets[d].sequence(i) for d, i in mine]))
        if self.device.type == "cuda":
            tokens = tokens.pin_memory()
        return tokens, self.sampler.state_dict()

    def _worker(self) -> None:
        try:
            while not self._stop.is_set():
                item = self._make_batch()
                while not self._stop.is_set():
                    try:
                        self._queue.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except BaseException as err:          # surfaced in the training thread by __next__
            self._queue.put(err)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, dict]]:
        return self

    def __next__(self) -> tuple[torch.Tensor, dict]:
        if self.prefetch == 0:
            tokens, state = self._make_batch()
        else:
            if self._queue is None:
                self._queue = queue.Queue(maxsize=self.prefetch)
                threading.Thread(target=self._worker, name="train-prefetch", daemon=True).start()
            item = self._queue.get()
            if isinstance(item, BaseException):
                raise item
            tokens, state = item
        self.state = state
        return tokens.to(self.device, non_blocking=True), state

    def state_dict(self) -> dict:
        """The sampler state after the last batch handed out (not the prefetched ones)."""
        return self.state

    def close(self) -> None:
        self._stop.set()


def eval_batches(dataset: PackedDataset, batch_size: int, num_batches: int, *, rank: int = 0,
                 world_size: int = 1, device: torch.device | str = "cpu") -> Iterator[torch.Tensor]:
    """The same held-out batches every time: the first sequences of the set, in order (wrapping)."""
    for b in range(num_batches):
        first = (b * world_size + rank) * batch_size
        rows = [dataset.sequence((first + j) % len(dataset)) for j in range(batch_size)]
        yield torch.from_numpy(np.stack(rows)).to(device)
