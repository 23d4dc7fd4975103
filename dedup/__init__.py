"""Deduplication: URL, exact, MinHash-LSH near-duplicates, ccNet lines, semantic; nothing compares all pairs.

stage_spark.py       the driver: the steps in order, the keep policy, commit and duplicate stats
keep_spark.py        which member of a duplicate group survives (quality, then recency, then id)
exact_spark.py       URL and exact-text dedup by key
minhash.py lsh.py    MinHash signatures, LSH band keys, candidate verification (batch functions)
minhash_spark.py     signatures -> buckets -> verified pairs -> clusters
components_spark.py  connected components of the duplicate graph (large-star / small-star); reliable checkpoints
lines_spark.py       ccNet line dedup: lines frequent across documents are removed
embeddings.py semdedup.py semantic_spark.py   SemDeDup: embed, cluster (a k-means tree), drop near neighbours
"""
