"""Mixture search, RegMix style (Liu et al. 2024): sample mixtures around a prior, measure each with a
proxy, regress the objective on the mixture, pick the mixture with the lowest predicted objective.

    record = search(measure, prior, k=16, holdout=4)   # measure(weights) -> one loss per valid set

numpy, scipy and scikit-learn only: the proxy is passed in as `measure` (jobs/mix_search.py trains
and evaluates the bundled trainer; the tests plant a known optimum).
"""
from __future__ import annotations

import json
import os
from typing import Callable

import numpy as np


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


def prior_from_manifests(paths: list[str]) -> np.ndarray:
    """Token proportions of shard directories (num_tokens of each manifest.json)."""
    tokens = []
    for p in paths:
        with open(os.path.join(p, "manifest.json"), encoding="utf-8") as f:
            tokens.append(float(json.load(f)["num_tokens"]))
    return np.array(tokens) / sum(tokens)
