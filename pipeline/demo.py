"""Where the demo's files are: conf/ (default.yaml and the rest), the sample crawl
(samples/sample.warc.gz) and the text the demo classifiers are trained on (samples/classifier/).

A wheel carries them inside the package tree, under curate/demo/ (setup.py copies them there at
build time); a source checkout, or an editable install of one, has them at its root. Found by path
beside this package, never by importing `curate` (nothing imports it: docs/architecture.md).
"""
from __future__ import annotations

from pathlib import Path

# The folder above the packages: site-packages for a wheel, the checkout's root for the source.
_ROOT = Path(__file__).resolve().parents[1]
PACKAGED_DIR = ("curate", "demo")                  # where setup.py puts the demo files in a wheel
CONFIG = "conf/default.yaml"
SAMPLE = "samples/sample.warc.gz"
CLASSIFIER_TEXT = "samples/classifier"             # <model name>.jsonl.gz, one per demo classifier


def demo_root(root: Path = _ROOT) -> Path | None:
    """The folder holding the demo's conf/ and samples/: the packaged copy (curate/demo/) when it
    is there, else the source checkout's root; None when neither has conf/default.yaml (the code
    zip of `make dist`, say)."""
    for folder in (root.joinpath(*PACKAGED_DIR), root):
        if (folder / CONFIG).is_file():
            return folder
    return None


def is_packaged(root: Path = _ROOT) -> bool:
    """Whether the demo files come from an installed wheel (curate/demo/) rather than a checkout."""
    found = demo_root(root)
    return found is not None and found == root.joinpath(*PACKAGED_DIR)


def demo_config(root: Path = _ROOT) -> Path | None:
    """The demo's run config (conf/default.yaml): its relative paths resolve against it, so its
    input, tokenizer and mix files are the demo's own wherever the working directory is."""
    found = demo_root(root)
    return found / CONFIG if found else None


def classifier_text(name: str, root: Path = _ROOT) -> Path | None:
    """The labelled text the demo classifier `name` (quality, domain) is trained on, if there is any."""
    found = demo_root(root)
    path = found / CLASSIFIER_TEXT / f"{name}.jsonl.gz" if found else None
    return path if path is not None and path.is_file() else None
