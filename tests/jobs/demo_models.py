"""What `make models` does, for tests: the demo classifiers trained on samples/classifier/."""
from pathlib import Path

from jobs import train_classifier

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
CONF = SAMPLES.parent / "conf" / "default.yaml"


def train_demo_models(directory: Path) -> str:
    """Train both models under `directory`; returns the --set override that points the run at them."""
    for name in ("quality", "domain"):
        assert train_classifier.main(["--conf", str(CONF), "--input", str(SAMPLES / "classifier" / f"{name}.jsonl.gz"),
                                      "--output", str(directory / name)]) == 0
    return f"classify.models={{quality: {directory / 'quality'}, domain: {directory / 'domain'}}}"
