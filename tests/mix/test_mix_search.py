"""RegMix-style search on a synthetic proxy: it must recover a planted best mixture."""
import json

import numpy as np
import pytest

from jobs.mix_search import main as search_main
from pipeline.mix.search import (fit_regression, objective, prior_from_manifests, regression_record, sample_mixtures,
                                 search)

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


def test_prior_is_the_token_proportions_of_the_manifests(tmp_path):
    for name, tokens in (("a", 300), ("b", 100)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text(json.dumps({"num_tokens": tokens}))
    assert prior_from_manifests([str(tmp_path / "a"), str(tmp_path / "b")]).tolist() == [0.75, 0.25]


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


@pytest.mark.slow
def test_cli_trains_proxies_with_the_trainer_and_writes_the_choice(tmp_path, capsys):
    pytest.importorskip("torch")
    import yaml

    from tests.trainer.corpus import english_documents, write_text_shards
    from trainer.evaluate import run_heldout_losses

    for name, seed in (("a", 0), ("b", 1), ("valid", 2)):
        write_text_shards(tmp_path / name, english_documents(20, seed=seed), num_shards=1)
    out = tmp_path / "search"
    assert search_main(["--data", f"a={tmp_path / 'a'}", f"b={tmp_path / 'b'}", "--valid", f"v={tmp_path / 'valid'}",
                        "--k", "2", "--holdout", "0", "--steps", "2", "--simulate", "50", "--top", "5",
                        "--out", str(out)]) == 0
    record = json.loads((out / "search.json").read_text())
    assert record["components"] == ["a", "b"] and record["valid"] == ["v"] and len(record["losses"]) == 2
    # each proxy's loss is its final checkpoint evaluated on --valid
    assert record["losses"][1] == [run_heldout_losses(out / "runs" / "001", [str(tmp_path / "valid")])[0]]
    assert 0 < record["losses"][0][0] < np.log(320) + 1
    mix = yaml.safe_load((out / "mix.yaml").read_text())
    assert sum(mix["weights"]) == pytest.approx(1.0, abs=1e-5) and list(mix["mix"]) == ["a", "b"]
    assert "chosen mixture: a " in capsys.readouterr().out
