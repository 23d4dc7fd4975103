"""The commands: each parses its arguments, loads the config, calls one function, prints the outcome.

A stage's command (extract, filter, dedup, classify, tokens) is stage_job.stage_main over the stage
table; run.py runs every configured stage; cli_entry.py is `curate`; the rest are tools (report,
mix, mix_search, train_classifier, train_tokenizer, perplexity_teacher). Nothing imports jobs/.
"""

import os as _os
import sys as _sys

# `spark-submit jobs/<stage>.py` puts this folder first on sys.path, where jobs/dedup.py would
# shadow the `dedup` package: the jobs are imported as `jobs.<stage>`, never from here.
_HERE = _os.path.dirname(_os.path.abspath(__file__))
_sys.path[:] = [_p for _p in _sys.path if _os.path.abspath(_p or ".") != _HERE]
