"""Shard sets for the trainer tests: real English tokenised with a tiny BPE, or seeded random ids."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from pipeline.tokens.shards import dtype_for_vocab, write_manifest, write_shard

SENTENCES = """\
The river runs past the old mill and under the stone bridge before it reaches the sea.
Every morning the baker opens the shop at six and sells warm bread to the people of the village.
A small cat sleeps on the windowsill while the rain falls softly on the garden.
The children walk to school along the narrow road that climbs the green hill.
In the evening the fishermen bring their boats back to the harbour and mend their nets.
The library on the main square keeps thousands of books about history, science and art.
She planted tomatoes, beans and potatoes in the garden behind the house last spring.
The train to the city leaves from the north platform at half past eight every day.
A cold wind blew from the mountains and the first snow covered the fields overnight.
The teacher asked the students to write a short story about their summer holidays.
Farmers in the valley grow wheat and barley and keep sheep on the higher pastures.
The museum opened a new exhibition of paintings from the last century.
He repaired the bicycle with a new chain and pumped air into both of the tyres.
The market is busy on Saturdays when traders sell fruit, cheese, fish and flowers.
Scientists measured the temperature of the lake every week for ten years.
The old lighthouse still guides ships safely along the rocky coast at night.
My grandmother tells stories about the war and the long winters of her childhood.
The council decided to build a new bridge across the river next to the station.
Birds gather in the tall trees by the church before they fly south for the winter.
The doctor told him to rest for a week and to drink plenty of water.
A good map and a warm coat are useful when you walk in the hills in autumn.
The company hired twenty new workers to build the houses on the edge of town.
Students in the chemistry class mixed two liquids and watched the colour change.
The orchestra played music by three composers and the audience stood to applaud.
Heavy rain flooded the low road, so the bus took a longer way through the forest.
The baker's son learned to make bread from his father when he was twelve years old.
On clear nights you can see the stars and the bright band of the milky way.
The government published a report on the cost of energy for families and businesses.
Our neighbours keep bees and sell honey at the market in the summer months.
The football team trained hard all week and won the match on Sunday afternoon.
A new road connects the village to the motorway and shortens the trip to the city.
The engineer checked the bridge for cracks after the storm had passed.
Tourists come to the island in summer to swim, sail and eat fresh fish.
The writer finished her novel after working on it every morning for three years.
Water boils at one hundred degrees at sea level but at a lower temperature in the mountains.
The hospital opened a new wing for children with a playroom and a garden.
The farmer drove the tractor slowly along the edge of the muddy field.
Most shops in the old town close early on Sunday and open again on Monday morning.
The students visited the castle and learned how people lived there long ago.
A strong coffee and a slice of cake made the long afternoon meeting easier.
""".splitlines()


def english_documents(n: int, seed: int = 0) -> list[str]:
    """n documents of 3 to 8 sentences drawn from SENTENCES (seeded)."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(SENTENCES, size=int(rng.integers(3, 9)))) for _ in range(n)]


def train_bpe(vocab_size: int = 300):
    """A byte-level BPE trained on SENTENCES, with <eos> as id 0."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<eos>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(SENTENCES, trainer=trainer)
    return tokenizer


def write_text_shards(directory: Path, documents: list[str], num_shards: int = 2) -> dict:
    tokenizer = train_bpe()
    eos = tokenizer.token_to_id("<eos>")
    docs = [np.array(tokenizer.encode(d).ids + [eos]) for d in documents]
    vocab = tokenizer.get_vocab_size()
    sha = hashlib.sha256(tokenizer.to_str().encode()).hexdigest()
    return _write(directory, docs, num_shards, vocab, eos, "test-bpe-300", sha)


def write_random_shards(directory: Path, *, vocab: int = 100, documents: int = 40, num_shards: int = 3,
                        seed: int = 0, eos: int = 0, max_len: int = 60) -> dict:
    """Documents of random ids in [1, vocab), each ending in EOS (id 0)."""
    rng = np.random.default_rng(seed)
    docs = [np.append(rng.integers(1, vocab, size=int(rng.integers(1, max_len))), eos) for _ in range(documents)]
    return _write(directory, docs, num_shards, vocab, eos, "random", "0" * 64)


def _write(directory, docs, num_shards, vocab, eos, name, sha) -> dict:
    dtype = dtype_for_vocab(vocab)
    parts = np.array_split(np.arange(len(docs)), num_shards)
    metas = [write_shard(directory, k, [docs[i] for i in part], dtype) for k, part in enumerate(parts)]
    return write_manifest(directory, metas, tokenizer_name=name, tokenizer_sha256=sha, vocab_size=vocab,
                          bos_id=None, eos_id=eos, seed=0)


def stream(directory: Path) -> np.ndarray:
    """All tokens of a shard set, concatenated in shard order (the trainer's stream)."""
    from pipeline.tokens.shards import ShardReader

    reader = ShardReader(directory)
    return np.concatenate([np.asarray(reader.shard_tokens(k)) for k in range(reader.num_shards)])
