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


def sample_mixtures(prior: np.ndarray, n: int, concentration: float, rng: np.random.Generator) -> np.ndarray:
    """n mixtures from a Dirichlet whose mean is the prior (higher concentration = closer to it)."""
    alpha = np.maximum(prior / prior.sum() * concentration, 1e-3)
    return rng.dirichlet(alpha, size=n)


def fit_regression(x: np.ndarray, y: np.ndarray, alpha: float = 1e-4):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures

    return make_pipeline(PolynomialFeatures(degree=2), Ridge(alpha=alpha)).fit(x, y)


def regression_record(model, names: list[str]) -> dict:
    """The fitted regression as plain numbers (no pickle: loading one would execute code)."""
    poly, ridge = model.steps[0][1], model.steps[-1][1]
    return {"model": f"ridge (alpha {ridge.alpha}) on degree-{poly.degree} polynomial features of the weights",
            "features": [str(f) for f in poly.get_feature_names_out(names)],
            "coef": [float(c) for c in ridge.coef_], "intercept": float(ridge.intercept_)}


def objective(losses: np.ndarray, kind: str) -> np.ndarray:
    """losses: (mixtures, valid sets) -> one value per mixture."""
    return losses.max(axis=1) if kind == "worst" else losses.mean(axis=1)


def search(measure: Callable[[np.ndarray], list[float]], prior: np.ndarray, *, k: int, holdout: int,
           concentration: float = 4.0, kind: str = "mean", simulate: int = 100_000, top: int = 100,
           seed: int = 0) -> dict:
    """measure(weights) -> held-out losses (one per valid set). Returns the search record."""
    from scipy.stats import spearmanr

    rng = np.random.default_rng(seed)
    mixtures = sample_mixtures(prior, k + holdout, concentration, rng)
    losses = np.array([measure(w) for w in mixtures], dtype=float)
    target = objective(losses, kind)
    model = fit_regression(mixtures[:k], target[:k])
    record = {"prior": prior.tolist(), "objective": kind, "mixtures": mixtures.tolist(), "losses": losses.tolist(),
              "objective_values": target.tolist(), "train_r2": float(model.score(mixtures[:k], target[:k]))}
    if holdout >= 2:
        predicted = model.predict(mixtures[k:])
        rho = spearmanr(predicted, target[k:]).statistic
        record["holdout"] = {"predicted": predicted.tolist(), "measured": target[k:].tolist(),
                             "spearman": None if np.isnan(rho) else float(rho)}
    candidates = rng.dirichlet(np.ones(len(prior)), size=simulate)   # the whole simplex, as RegMix
    scores = model.predict(candidates)
    best = candidates[np.argsort(scores)[:top]].mean(axis=0)
    record["chosen"] = (best / best.sum()).tolist()
    record["chosen_predicted"] = float(model.predict(best[None, :])[0])
    record["_model"] = model
    return record


# --- the real proxy: the bundled trainer ---------------------------------------------------------------

def trainer_measure(data: list[str], valid: list[str], conf: str, steps: int, runs_dir: str,
                    extra: list[str]) -> Callable[[np.ndarray], list[float]]:
    counter = iter(range(10 ** 6))

    def measure(weights: np.ndarray) -> list[float]:
        out = os.path.join(runs_dir, f"{next(counter):03d}")
        cmd = [sys.executable, "-m", "trainer.train", "--conf", conf, "--data", *data,
               "--weights", *[f"{w:.6f}" for w in weights], "--out", out, "--steps", str(steps), *extra]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"proxy run {out} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
        return evaluate_checkpoint(out, valid)

    return measure


def evaluate_checkpoint(run_dir: str, valid: list[str]) -> list[float]:
    """The final checkpoint of a trainer run, evaluated on each held-out shard directory."""
    import torch

    from trainer.checkpoint import CHECKPOINT, load_checkpoint
    from trainer.config import load_trainer_config
    from trainer.data import PackedDataset
    from trainer.model import Transformer
    from trainer.train import evaluate

    config = load_trainer_config(os.path.join(run_dir, "config.yaml"), [])
    model = Transformer(config.model)
    model.load_state_dict(load_checkpoint(os.path.join(run_dir, CHECKPOINT))["model"])
    losses = []
    for directory in valid:
        ds = PackedDataset(directory, config.train.seq_len)
        eos = ds.reader.eos_id if getattr(config.train, "doc_mask", False) else None
        losses.append(float(evaluate(model, ds, config, lambda: torch.autocast("cpu", enabled=False), eos, 0, 1,
                                     torch.device("cpu"))))
    return losses


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


def prior_from_manifests(paths: list[str]) -> np.ndarray:
    tokens = []
    for p in paths:
        with open(os.path.join(p, "manifest.json"), encoding="utf-8") as f:
            tokens.append(float(json.load(f)["num_tokens"]))
    return np.array(tokens) / sum(tokens)


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
