"""pipeline/mix/counts.py without Spark: exact counts from the shard manifests, the measured chars per
token, the last complete document output; and the mix package stays below report, trainer and torch."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.mix import main as mix_main
from pipeline.mix.counts import chars_per_token, manifest_counts
from pipeline.mix.weights import Bucket, MixError
from pipeline.outputs import final_documents_path


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_manifest_counts_undo_the_mix_weights(tmp_path):
    _write(tmp_path / "shards" / "train" / "manifest.json", {
        "mix": {"applied": {"en/web": 2.0, "de/web": 0.5}},
        "totals": {"en/web": {"tokens": 1000, "documents": 10, "unique_documents": 5},   # upsampled x2
                   "de/web": {"tokens": 100, "documents": 4, "unique_documents": 4},     # half kept
                   "fr/wiki": {"tokens": 30, "documents": 3, "unique_documents": 3}}})
    _write(tmp_path / "shards" / "valid" / "manifest.json",
           {"totals": {"en/web": {"tokens": 50, "documents": 1, "unique_documents": 1}}})
    assert manifest_counts(str(tmp_path)) == [Bucket("de", "web", None, 200), Bucket("en", "web", None, 550),
                                              Bucket("fr", "wiki", None, 30)]
    out = tmp_path / "mix.yaml"
    assert mix_main(["--run", str(tmp_path), "--from-manifest", "--out", str(out)]) == 0
    assert "mix:" in out.read_text()


def test_no_manifest_is_a_mix_error(tmp_path, capsys):
    with pytest.raises(MixError, match="run the tokenize stage first"):
        manifest_counts(str(tmp_path))
    assert mix_main(["--run", str(tmp_path), "--from-manifest"]) == 2
    assert "no shards/train" in capsys.readouterr().err


def test_chars_per_token_and_final_documents_path(tmp_path):
    assert chars_per_token(str(tmp_path)) == {}
    _write(tmp_path / "stats" / "tokenize.json", {"chars_per_token_by_lang": {"en": 4.2, "de": 3, "xx": 0}})
    assert chars_per_token(str(tmp_path)) == {"en": 4.2, "de": 3.0}      # 0: not measured
    stages = ("extract", "filter", "dedup")
    assert final_documents_path(str(tmp_path), stages) is None
    for stage in ("extract", "filter"):
        (tmp_path / stage).mkdir()
        (tmp_path / stage / "_SUCCESS").touch()
    (tmp_path / "dedup").mkdir()                                          # started, not complete
    assert final_documents_path(str(tmp_path), stages) == str(tmp_path / "filter")


def test_the_mix_package_imports_no_report_trainer_or_torch():
    code = ("import sys, pipeline.mix.counts, pipeline.mix.search, pipeline.mix.weights, pipeline.outputs; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'trainer', 'jobs', 'pyspark') "
            "or m.startswith('pipeline.report')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
