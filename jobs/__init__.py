"""Thin job entry points: parse args, load config, build the Spark session, run, write stats."""

import os as _os
import sys as _sys

# `spark-submit jobs/<stage>.py` puts this folder first on sys.path, where jobs/dedup.py would
# shadow the `dedup` package: the jobs are imported as `jobs.<stage>`, never from here.
_HERE = _os.path.dirname(_os.path.abspath(__file__))
_sys.path[:] = [_p for _p in _sys.path if _os.path.abspath(_p or ".") != _HERE]
