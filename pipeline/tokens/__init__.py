"""Tokenization: documents -> mixed, shuffled, fixed-size token shards for the trainer.

(Named `tokens`, not `tokenize`, which would shadow the standard library.)
stage_spark.py  the driver: split, mix sampling, global shuffle, shard placement, manifests
stage.py        the executors: tokenize batches, place sequences, write whole shards
shards.py       the shard format (NNNNN.ds + .ds.index + manifest.json): write, verify, read
tokenizer.py    one interface over Llama 3 tokenizer.model and Hugging Face tokenizer.json files
training.py     train a byte-level BPE tokenizer on a per-language sample (jobs/train_tokenizer.py)
"""
