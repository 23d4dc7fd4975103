"""Mix search (RegMix style): train small proxies on sampled mixtures, regress loss on the mixture,
pick the mixture with the lowest predicted loss.

    python -m jobs.mix_search --data en=shards/en/train de=shards/de/train code=shards/code/train \\
        --valid en=shards/en/valid de=shards/de/valid --k 16 --holdout 4 --steps 200 \\
        --conf conf/train/tiny.yaml --out out/mix_search

Steps (Liu et al. 2024, "RegMix"):
  1. sample K + H mixtures around the prior (Dirichlet with mean = prior, --concentration; the prior
     is --prior or the token proportions of the --data manifests);
  2. train the bundled trainer (python -m trainer.train, --conf, --steps) on each, one shard
     directory per mixture component, --weights = the mixture; then evaluate the final checkpoint
     on every --valid directory (held-out loss per language/domain);
  3. fit a scikit-learn regression (degree-2 polynomial ridge) from mixture to the objective
     (--objective mean: average of the valid losses, worst: their maximum) on the K training mixtures;
  4. report predicted vs measured objective on the H held-out mixtures (Spearman rank correlation);
  5. predict the objective on --simulate random mixtures and choose the mean of the best --top ones.
Writes <out>/search.json (every mixture with its losses, the fit, the rank correlation, the chosen
mixture), <out>/regression.json (the fitted regression as numbers) and <out>/mix.yaml (the chosen weights,
`weights:` in --data order, plus `mix:` keyed by component name). Proxy runs go to <out>/runs/NNN/.
The command and the trainer proxy only: sampling, the fit and the choice are pipeline/mix/search.py,
the held-out loss trainer/evaluate.py.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Callable

import numpy as np

from pipeline.cli import EXIT_USAGE, tool_parser
from pipeline.mix.search import prior_from_manifests, regression_record, search


def trainer_measure(data: list[str], valid: list[str], conf: str, steps: int, runs_dir: str,
                    extra: list[str]) -> Callable[[np.ndarray], list[float]]:
    """The real proxy: train the bundled trainer (python -m trainer.train) on one mixture, then the held-out
    loss of its final checkpoint on each --valid directory (trainer/evaluate.py)."""
    counter = iter(range(10 ** 6))

    def measure(weights: np.ndarray) -> list[float]:
        from trainer.evaluate import run_heldout_losses

        out = os.path.join(runs_dir, f"{next(counter):03d}")
        cmd = [sys.executable, "-m", "trainer.train", "--conf", conf, "--data", *data,
               "--weights", *[f"{w:.6f}" for w in weights], "--out", out, "--steps", str(steps), *extra]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"proxy run {out} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
        return run_heldout_losses(out, valid)

    return measure


def _named(items: list[str], flag: str) -> tuple[list[str], list[str]]:
    names, paths = [], []
    for item in items:
        name, sep, path = item.partition("=")
        if not sep:
            name, path = os.path.basename(os.path.normpath(item)), item
        names.append(name)
        paths.append(path)
    if len(set(names)) != len(names):
        raise ValueError(f"{flag}: names must be distinct, got {names}")
    return names, paths


def build_parser() -> argparse.ArgumentParser:
    p = tool_parser("mix_search", __doc__)
    p.add_argument("--data", nargs="+", required=True, metavar="NAME=DIR",
                   help="one shard directory per mixture component (NAME= optional: default the folder name)")
    p.add_argument("--valid", nargs="+", required=True, metavar="NAME=DIR",
                   help="held-out shard directories; the loss on each is measured per proxy")
    p.add_argument("--prior", nargs="+", type=float, metavar="W", help="prior weights (default: token proportions)")
    p.add_argument("--k", type=int, default=16, help="mixtures to fit on (default 16)")
    p.add_argument("--holdout", type=int, default=4, help="extra mixtures for the rank correlation (default 4)")
    p.add_argument("--concentration", type=float, default=4.0,
                   help="Dirichlet concentration around the prior (default 4; larger = closer)")
    p.add_argument("--objective", choices=("mean", "worst"), default="mean",
                   help="average or worst-language held-out loss (default mean)")
    p.add_argument("--conf", default="conf/train/tiny.yaml", help="trainer config of the proxy")
    p.add_argument("--steps", type=int, default=30, help="proxy training steps (default 30)")
    p.add_argument("--simulate", type=int, default=100_000, help="random mixtures scored by the fit (default 1e5)")
    p.add_argument("--top", type=int, default=100, help="average the best N simulated mixtures (default 100)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="out/mix_search", help="output directory (default out/mix_search)")
    p.add_argument("--trainer-arg", action="append", default=[], metavar="ARG",
                   help="extra argument passed to trainer.train, repeatable (e.g. --trainer-arg=--skip-sha256)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        names, data = _named(args.data, "--data")
        valid_names, valid = _named(args.valid, "--valid")
        for path in data + valid:
            if not os.path.isfile(os.path.join(path, "manifest.json")):
                raise ValueError(f"{path}: no manifest.json (a shard directory written by the tokenize job)")
        prior = np.array(args.prior, dtype=float) if args.prior else prior_from_manifests(data)
        if len(prior) != len(data) or not (prior >= 0).all() or prior.sum() <= 0:
            raise ValueError(f"--prior needs {len(data)} non-negative weights, not all 0")
        if args.k < 2 or args.holdout < 0:
            raise ValueError("--k must be >= 2 and --holdout >= 0")
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    os.makedirs(args.out, exist_ok=True)
    measure = trainer_measure(data, valid, args.conf, args.steps, os.path.join(args.out, "runs"), args.trainer_arg)
    record = search(measure, prior / prior.sum(), k=args.k, holdout=args.holdout, concentration=args.concentration,
                    kind=args.objective, simulate=args.simulate, top=args.top, seed=args.seed)
    model = record.pop("_model")
    record.update(components=names, valid=valid_names)
    with open(os.path.join(args.out, "search.json"), "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2)
    with open(os.path.join(args.out, "regression.json"), "w", encoding="utf-8") as f:
        json.dump(regression_record(model, names), f, indent=2)
    import yaml
    with open(os.path.join(args.out, "mix.yaml"), "w", encoding="utf-8") as f:
        yaml.safe_dump({"weights": [round(w, 6) for w in record["chosen"]],
                        "mix": {n: round(w, 6) for n, w in zip(names, record["chosen"])},
                        "predicted_objective": record["chosen_predicted"]}, f, sort_keys=False)
    rho = (record.get("holdout") or {}).get("spearman")
    print("chosen mixture: " + ", ".join(f"{n} {w:.3f}" for n, w in zip(names, record["chosen"]))
          + f" (predicted {args.objective} loss {record['chosen_predicted']:.4f})")
    print(f"fit R² {record['train_r2']:.3f}" + (f", held-out Spearman {rho:.3f}" if rho is not None else ""))
    print(f"wrote {args.out}/search.json, regression.json, mix.yaml  (trainer: --weights "
          + " ".join(f"{w:.4f}" for w in record["chosen"]) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
