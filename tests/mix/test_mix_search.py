import json
"""RegMix-style search on a synthetic proxy: it must recover a planted best mixture."""
import numpy as np
import pytest

from jobs.mix_search import fit_regression, main as search_main, objective, regression_record, sample_mixtures, search

PLANTED = np.array([0.5, 0.3, 0.2])


def planted_losses(w):
    """Two 'languages': losses are quadratic bowls around the planted mixture (plus a small offset)."""
    d = np.asarray(w) - PLANTED
    return [2.0 + 3.0 * float(d @ d), 2.5 + 2.0 * float(d @ d) + 0.5 * float(d[0] ** 2)]


def test_search_recovers_planted_mixture_and_ranks_holdout():
    prior = np.array([1 / 3, 1 / 3, 1 / 3])
    record = search(planted_losses, prior, k=24, holdout=8, concentration=6.0, simulate=20_000, top=20, seed=3)
    chosen = np.array(record["chosen"])
    assert chosen.sum() == pytest.approx(1.0)
    assert np.abs(chosen - PLANTED).max() < 0.05
    assert record["holdout"]["spearman"] > 0.9
    assert record["train_r2"] > 0.99
    # the measured objective is the mean of the two losses
    assert record["objective_values"][0] == pytest.approx(np.mean(record["losses"][0]))


def test_worst_objective_and_dirichlet_mean():
    losses = np.array([[1.0, 3.0], [2.0, 2.5]])
    assert objective(losses, "worst").tolist() == [3.0, 2.5]
    assert objective(losses, "mean").tolist() == [2.0, 2.25]
    draws = sample_mixtures(np.array([0.7, 0.2, 0.1]), 20_000, 8.0, np.random.default_rng(0))
    assert np.allclose(draws.sum(axis=1), 1.0)
    assert draws.mean(axis=0) == pytest.approx([0.7, 0.2, 0.1], abs=0.01)


def test_cli_rejects_missing_shards(tmp_path, capsys):
    assert search_main(["--data", f"a={tmp_path}", "--valid", f"v={tmp_path}"]) == 2
    assert "manifest.json" in capsys.readouterr().err


def test_regression_is_saved_as_numbers_that_reproduce_its_predictions():
    rng = np.random.default_rng(0)
    x = rng.dirichlet([1.0, 1.0, 1.0], size=30)
    y = 2.0 + x[:, 0] ** 2 - 3 * x[:, 1] * x[:, 2]
    model = fit_regression(x, y)
    record = json.loads(json.dumps(regression_record(model, ["web", "code", "math"])))
    assert record["features"][:4] == ["1", "web", "code", "math"] and "code math" in record["features"]
    columns = {"1": np.ones(len(x)), "web": x[:, 0], "code": x[:, 1], "math": x[:, 2]}

    def feature(name):
        out = np.ones(len(x))
        for part in name.split(" "):
            base, _, power = part.partition("^")
            out = out * columns[base] ** int(power or 1)
        return out

    predicted = record["intercept"] + sum(c * feature(f) for c, f in zip(record["coef"], record["features"]))
    assert np.allclose(predicted, model.predict(x))
