"""The commands: each parses its arguments, loads the config, calls one function, prints the outcome.

A stage's command (extract, filter, classify, dedup, tokens) is stage_job.stage_main over the stage
table; run.py runs every configured stage; cli_entry.py is `curate`; the rest are tools (report,
mix, mix_search, train_classifier, train_tokenizer, perplexity_teacher, demo_models). Nothing
imports jobs/.
"""

import os as _os
import sys as _sys

# `spark-submit jobs/<stage>.py` puts this folder first on sys.path, where jobs/dedup.py would
# shadow the `dedup` package: the jobs are imported as `jobs.<stage>`, never from here. The folder
# is found by what it holds, not by this file's path: on a cluster this package comes from the
# --py-files zip while the script's folder on sys.path is the submitted copy.


def _is_jobs_folder(path: str) -> bool:
    path = _os.path.abspath(path or ".")
    return _os.path.basename(path) == "jobs" and _os.path.isfile(_os.path.join(path, "stage_job.py"))


_sys.path[:] = [_p for _p in _sys.path if not _is_jobs_folder(_p)]
