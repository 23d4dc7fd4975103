"""Decontamination: remove evaluation-benchmark text from the training corpus by n-gram overlap.

ngrams.py       normalised word (or character) n-grams as 64-bit hashes, with their spans
evalsets.py     evaluation files -> one sorted n-gram index; contamination rates per benchmark
stage.py        the executors: find indexed n-grams in documents; cut matched spans
stage_spark.py  the driver: broadcast the index, drop too-common n-grams, drop or cut, stats

Runs after classify, just before tokenize: it checks exactly the text that will be tokenized,
after every earlier stage has rewritten it (line removal, PII redaction), on the smallest corpus.
"""
