"""The training mixture: how much of each language, source and domain the model sees (no torch).

weights.py  token counts -> sampling weights (natural, temperature, unimax, targets) and the mix file
counts.py   token counts per (lang, source, domain) from a run's documents (Spark) or shard manifests
search.py   RegMix proxy search: sample mixtures, regress the loss on them, choose the best (proxy passed in)
"""
