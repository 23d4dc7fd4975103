"""The bundled trainer: a Llama 3 style decoder trained from token shards (torch only, no Spark).

model.py (architecture, parameter and FLOP counts) · loss.py (chunked cross-entropy) · data.py
(packing, resumable sampler, mixing, prefetch) · train.py (the CLI and loop) · checkpoint.py ·
evaluate.py (load a checkpoint; per-document and held-out loss) · export.py (Hugging Face Llama
checkpoint) · config.py (conf/train/*.yaml).
"""
