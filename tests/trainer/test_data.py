import numpy as np
import pytest
import torch

from pipeline.tokens.shards import ShardError
from tests.trainer.corpus import stream, write_random_shards
from trainer.data import EpochSampler, MixtureSampler, PackedDataset, TrainLoader, eval_batches


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    directory = tmp_path_factory.mktemp("random")
    write_random_shards(directory, vocab=100, documents=40, num_shards=3, seed=0)
    return directory


def test_sequences_are_windows_over_the_whole_stream(shards):
    ds = PackedDataset(shards, seq_len=16)
    tokens = stream(shards)
    assert len(ds) == (tokens.size - 1) // 16
    for i in range(len(ds)):                  # some windows cross from one shard file into the next
        np.testing.assert_array_equal(ds.sequence(i), tokens[i * 16:i * 16 + 17])
    # every token but the first is a target exactly once
    targets = np.concatenate([ds.sequence(i)[1:] for i in range(len(ds))])
    np.testing.assert_array_equal(targets, tokens[1:len(ds) * 16 + 1])


def test_sampler_covers_every_sequence_once_per_epoch():
    sampler = EpochSampler(37, seed=3)
    epochs = [[sampler.take() for _ in range(37)] for _ in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(37))
    assert epochs[0] != epochs[1] != epochs[2]          # a fresh order each epoch
    assert sampler.state_dict() == {"epoch": 3, "position": 0}


def test_sampler_resumes_mid_epoch_exactly():
    straight = EpochSampler(37, seed=3)
    expected = [straight.take() for _ in range(60)]
    first = EpochSampler(37, seed=3)
    head = [first.take() for _ in range(20)]
    state = first.state_dict()
    assert state == {"epoch": 0, "position": 20}
    second = EpochSampler(37, seed=3)
    second.load_state_dict(state)
    tail = [second.take() for _ in range(40)]
    assert head + tail == expected
    assert sorted(expected[:37]) == list(range(37))      # the epoch split across the resume is still exact


def test_mixture_follows_the_weights_in_every_prefix():
    mix = MixtureSampler([10, 1000], [3.0, 1.0], seed=0)
    draws = mix.take(400)
    counts = np.cumsum([[d == 0, d == 1] for d, _ in draws], axis=0)
    shares = np.arange(1, 401)[:, None] * np.array([0.75, 0.25])
    assert np.abs(counts - shares).max() <= 1
    assert counts[-1].tolist() == [300, 100]
    small = [i for d, i in draws if d == 0]
    for epoch in range(30):                               # the small set repeats, each epoch complete
        assert sorted(small[epoch * 10:(epoch + 1) * 10]) == list(range(10))


def test_mixture_state_round_trip():
    mix = MixtureSampler([10, 20], [1.0, 2.0], seed=5)
    mix.take(13)
    state = mix.state_dict()
    expected = mix.take(50)
    resumed = MixtureSampler([10, 20], [1.0, 2.0], seed=5)
    resumed.load_state_dict(state)
    assert resumed.take(50) == expected


@pytest.mark.parametrize("prefetch", [0, 3])
def test_ranks_read_slices_of_one_global_batch(shards, prefetch):
    ds = PackedDataset(shards, seq_len=8)
    single = TrainLoader([ds], [1.0], batch_size=4, seed=1, prefetch=prefetch)
    ranks = [TrainLoader([ds], [1.0], batch_size=2, seed=1, rank=r, world_size=2, prefetch=prefetch)
             for r in range(2)]
    for _ in range(5):
        whole, state = next(single)
        parts = [next(loader) for loader in ranks]
        torch.testing.assert_close(torch.cat([p[0] for p in parts]), whole)
        assert parts[0][1] == parts[1][1] == state == single.state_dict()
    for loader in [single, *ranks]:
        loader.close()


def test_loader_resumes_from_its_state(shards):
    ds = PackedDataset(shards, seq_len=8)
    loader = TrainLoader([ds], [1.0], batch_size=3, seed=2, prefetch=2)
    for _ in range(4):
        next(loader)
    state = loader.state_dict()                    # not the prefetched batches' state
    expected = [next(loader)[0] for _ in range(6)]
    resumed = TrainLoader([ds], [1.0], batch_size=3, seed=2, prefetch=0, state=state)
    for want in expected:
        torch.testing.assert_close(next(resumed)[0], want)
    loader.close()


def test_eval_batches_are_fixed_and_ordered(shards):
    ds = PackedDataset(shards, seq_len=8)
    batches = list(eval_batches(ds, batch_size=2, num_batches=3))
    assert [b.shape for b in batches] == [(2, 9)] * 3
    np.testing.assert_array_equal(batches[1][0].numpy(), ds.sequence(2))
    torch.testing.assert_close(torch.cat(list(eval_batches(ds, 2, 3))), torch.cat(batches))


def test_corrupt_shard_is_refused(tmp_path):
    write_random_shards(tmp_path, documents=12, num_shards=2)
    data = tmp_path / "00001.ds"
    raw = bytearray(data.read_bytes())
    raw[3] ^= 0xFF
    data.write_bytes(bytes(raw))
    with pytest.raises(ShardError, match="00001.ds.*sha256"):
        PackedDataset(tmp_path, seq_len=8)


def test_too_little_data_for_one_sequence(tmp_path):
    write_random_shards(tmp_path, documents=2, num_shards=1, max_len=5)
    with pytest.raises(ShardError, match="fewer than one sequence"):
        PackedDataset(tmp_path, seq_len=512)


def test_two_ranks_together_read_every_sequence_once_per_epoch(shards):
    ds = PackedDataset(shards, seq_len=8)
    index = {ds.sequence(i).tobytes(): i for i in range(len(ds))}
    assert len(index) == len(ds)                      # windows are distinguishable by content
    ranks = [TrainLoader([ds], [1.0], batch_size=3, seed=4, rank=r, world_size=2, prefetch=0) for r in range(2)]
    seen = []
    while len(seen) < 2 * len(ds):
        for loader in ranks:
            seen += [index[row.numpy().tobytes()] for row in next(loader)[0]]
    assert sorted(seen[:len(ds)]) == list(range(len(ds)))
    assert sorted(seen[len(ds):2 * len(ds)]) == list(range(len(ds)))
