"""curate: the pipeline's documented entry points for scripts and notebooks.

    import curate

    config = curate.load_config("conf/default.yaml", ["output=out/run1"])   # a RunConfig, checked
    chain = curate.build_filter_chain(["gopher_quality_v1", "c4_v1"], config)
    records = curate.score([{"text": "Some document ...", "lang": "en"}], chain)
    for name, info in curate.filters().items(): ...                        # the registered filters
    reader = curate.read_shards("out/demo/shards/train")   # memory-mapped: len(reader), reader.document(i)
    stats = curate.run("conf/default.yaml", ["stages=[extract, filter]"])  # {stage: stats}, on Spark

Each name re-exports (or wraps, a few lines) the real function; its own docstring tells the rest.
Whole runs: `curate.run` here, the `curate run` command (jobs/run.py), or spark-submit jobs/run.py
on a cluster.

This package sits on top like jobs/: it may import the other packages, none imports it
(tests/test_layers.py).
"""
from __future__ import annotations

from curate.api import build_filter_chain, filters, read_shards, run, score
from pipeline.config import ConfigError, RunConfig, load_config

__all__ = ["load_config", "RunConfig", "ConfigError", "build_filter_chain", "score", "filters", "read_shards", "run"]
