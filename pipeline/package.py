"""The project as one zip for `spark-submit --py-files` (what `make dist` builds first).

    python -m pipeline.package --out dist/curate.zip

Holds the Python packages (pipeline, filters, dedup, classifiers, jobs, trainer) and conf/, so
executors import the same code as the driver and the demo config travels with it. Entries are
sorted and stamped with a fixed date: the same tree gives a byte-identical zip, so a cluster can
cache it by hash. Compiled files and caches are left out.
"""
from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "filters", "dedup", "decontam", "classifiers", "jobs", "trainer", "curate")
DATA_DIRS = ("conf",)
_FIXED_DATE = (2024, 1, 1, 0, 0, 0)


def project_files(root: Path = ROOT) -> list[Path]:
    """Every file that goes into the zip, relative to root, sorted."""
    files = []
    for top in PACKAGES + DATA_DIRS:
        for path in (root / top).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                files.append(path.relative_to(root))
    return sorted(files)


def build_zip(out: Path, root: Path = ROOT) -> int:
    """Write the zip; returns the number of files in it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    files = project_files(root)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for relative in files:
            info = zipfile.ZipInfo(relative.as_posix(), date_time=_FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (root / relative).read_bytes())
    tmp.replace(out)
    return len(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.package", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "curate.zip", help="default: dist/curate.zip")
    args = parser.parse_args(argv)
    count = build_zip(args.out)
    print(f"wrote {args.out} ({count} files, {args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
