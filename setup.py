"""The build hook only: metadata, pins and entry points live in setup.cfg.

A wheel carries the demo inside the package tree, under curate/demo/: conf/ (the default and cluster
configs, training presets, mixes, the demo tokenizer), samples/sample.warc.gz and
samples/classifier/*.jsonl.gz (the demo classifiers' training text). pipeline/demo.py finds them
there, so `curate demo-models && curate run` works from any directory after `pip install`. An
editable install copies nothing: pipeline/demo.py reads the checkout's conf/ and samples/.
"""
from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DEMO_TARGET = Path("curate", "demo")
DEMO_FILES = ("conf/**/*", "samples/sample.warc.gz", "samples/classifier/*.jsonl.gz")
DEMO_REQUIRED = ("conf/default.yaml", "conf/tokenizer/demo/tokenizer.json", "samples/sample.warc.gz",
                 "samples/classifier/quality.jsonl.gz", "samples/classifier/domain.jsonl.gz")


def demo_files(root: Path = ROOT) -> list[Path]:
    """The demo files, relative to root, sorted (caches and dot files left out)."""
    found = {path.relative_to(root) for pattern in DEMO_FILES for path in root.glob(pattern) if path.is_file()}
    return sorted(p for p in found if "__pycache__" not in p.parts and not any(part.startswith(".") for part in p.parts))


class BuildPyWithDemo(build_py):
    """build_py, then the demo files copied to <build_lib>/curate/demo/ (not in editable mode)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        missing = [name for name in DEMO_REQUIRED if not (ROOT / name).is_file()]
        if missing:                              # a wheel without its demo would fail only at `curate run`
            raise SystemExit(f"error: demo files missing from {ROOT}: {', '.join(missing)}")
        for relative in demo_files():
            target = Path(self.build_lib) / DEMO_TARGET / relative
            self.mkpath(str(target.parent))
            self.copy_file(str(ROOT / relative), str(target), preserve_mode=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        return outputs + [str(Path(self.build_lib) / DEMO_TARGET / relative) for relative in demo_files()]


setup(cmdclass={"build_py": BuildPyWithDemo})
