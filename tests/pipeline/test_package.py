"""`make dist`'s project zip: deterministic, complete, and importable by a Python that has only it."""
import subprocess
import sys
import zipfile

from pipeline.package import PACKAGES, build_zip


def test_zip_is_deterministic_and_importable(tmp_path):
    first, second = tmp_path / "a" / "curate.zip", tmp_path / "b" / "curate.zip"
    count = build_zip(first)
    build_zip(second)
    assert first.read_bytes() == second.read_bytes()
    names = zipfile.ZipFile(first).namelist()
    assert len(names) == count and names == sorted(names)
    assert "conf/default.yaml" in names and "jobs/run.py" in names
    assert all(f"{p}/__init__.py" in names for p in PACKAGES)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    # Run from an empty folder with only the zip on the path, as an executor with --py-files does.
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import pipeline.config as c, filters.registry, pipeline.stage_spark; "
            "print(c.__file__)")
    result = subprocess.run([sys.executable, "-c", code, str(first)], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(first))
