"""The greedy ablation: the decision rule, the step runner, the table, and
building configurations."""

import numpy as np
import pytest

from helpers import ablation, train


def _runs(*finals, test=0.5, epochs=3):
    """Fake runs whose last validation accuracy is each of ``finals``."""
    return [
        train.Run(
            seed=i,
            history={"val_accuracy": [0.1] * (epochs - 1) + [v]},
            test={"accuracy": test, "loss": 1.0},
        )
        for i, v in enumerate(finals)
    ]


def test_keep_if_better_compares_mean_final_validation():
    keep, why = ablation.keep_if_better(_runs(0.50, 0.52), _runs(0.49, 0.51))
    assert not keep and why == "validation 0.5000 vs 0.5100 (-0.0100)"
    keep, why = ablation.keep_if_better(_runs(0.50, 0.52), _runs(0.60, 0.50))
    assert keep and why == "validation 0.5500 vs 0.5100 (+0.0400)"
    assert not ablation.keep_if_better(_runs(0.5), _runs(0.5))[
        0
    ]  # a tie is not an improvement


def test_greedy_keeps_improvements_skips_repeats_and_takes_budget_steps():
    score = {"normalize": 0.1, "flip": 0.05, "zoom": -0.02}
    calls = []

    def run(config):
        calls.append(config)
        value = (
            0.3
            + sum(score[k] for k in score if config[k])
            - 0.1 * (config["epochs"] < 30)
        )
        return _runs(value, value, test=value)

    steps = [
        dict(step="normalisation", change=dict(normalize=True)),
        dict(step="flip", change=dict(flip=True), family="aug"),
        dict(step="zoom", change=dict(zoom=0.2), family="aug"),
        dict(step="fewer epochs", change=dict(epochs=10), decide=False),
        dict(step="flip again", change=dict(flip=True), family="again"),
        dict(step="no zoom", change=dict(zoom=0.0), family="again"),
        dict(step="no flip", change=dict(flip=False), decide=False, why="R4 did"),
    ]
    result = ablation.greedy(ablation.BASENET, steps, run)
    decisions = [r["decision"] for r in result.rows]
    assert decisions == [
        "reference",
        "kept",
        "kept",
        "dropped",
        "budget",
        "reference",
        "reference",
        "taken",
    ]
    assert result.best == {**ablation.BASENET, "normalize": True, "epochs": 10}
    assert len(calls) == 6  # "flip again" is the current best: not run a second time
    assert result.row("no flip")["why"] == "R4 did"
    assert result.best_after("no flip")["step"] == "no flip"
    assert result.row("zoom")["reference"] == "flip"
    assert (
        result.best_after("zoom")["step"] == "flip"
        and result.best_after("flip again")["step"] == "fewer epochs"
    )
    assert list(result.family("aug")) == ["reference (normalisation)", "flip", "zoom"]
    assert list(result.family("again")) == ["flip again = reference (fewer epochs)"]
    frame = ablation.table(result)
    assert list(frame.index) == [
        "baseline",
        "normalisation",
        "flip",
        "zoom",
        "fewer epochs",
        "flip again",
        "no zoom",
        "no flip",
    ]
    assert (
        frame.loc["zoom", "decision"] == "dropped"
        and "(-0.0200)" in frame.loc["zoom", "why"]
    )
    assert frame.loc["fewer epochs", "images × epochs"] == "all × 10"
    assert (
        ablation.describe({"optimizer": "adam", "learning_rate": None})
        == "optimizer=adam, learning_rate=Keras default"
    )
    with pytest.raises(ValueError, match="lacks"):
        ablation.greedy(
            ablation.BASENET, [dict(step="x", change=dict(colour=True))], run
        )
    with pytest.raises(KeyError):
        result.row("nothing")


def test_build_model_follows_the_config():
    x = np.random.default_rng(0).random((64, 32, 32, 3)).astype("float32") * 2 + 1
    norm = ablation.adapted_normalization(x)
    base = ablation.build_model(ablation.BASENET, 25)
    assert base.count_params() == 24_197
    config = {
        **ablation.BASENET,
        "normalize": True,
        "flip": True,
        "zoom": 0.3,
        "batchnorm": "before",
    }
    model = ablation.build_model(config, 10, normalization=norm)
    names = [type(layer).__name__ for layer in model.layers]
    assert names[1:3] == ["Sequential", "Normalization"]
    normalized = np.asarray(model.layers[2](x))
    np.testing.assert_allclose(normalized.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(normalized.std(axis=(0, 1, 2)), 1, atol=1e-3)
    with pytest.raises(ValueError, match="Normalization"):
        ablation.build_model({**ablation.BASENET, "normalize": True}, 10)


def test_r4_deeper_nets_and_dropout_scheme_as_steps():
    from helpers import models_keras

    best = dict(ablation.BASENET)
    for change, count, rates in [
        (models_keras.R4_NET_1, 581_365, []),
        (dict(dropout="r4"), 581_365, [0.25, 0.5, 0.25]),
        (models_keras.R4_NET_2, 3_667_841, [0.25, 0.5, 0.5, 0.25]),
    ]:
        best = {**best, **change}  # as greedy applies a kept step
        model = ablation.build_model(best, 25)
        assert model.count_params() == count
        assert [x.rate for x in model.layers if type(x).__name__ == "Dropout"] == rates
    assert ablation.describe(dict(dropout="r4")) == "dropout=r4"


def test_make_optimizer_uses_the_named_rate_or_keras_default():
    sgd = ablation.make_optimizer(ablation.BASENET)
    assert type(sgd).__name__ == "SGD" and float(sgd.learning_rate) == pytest.approx(
        0.01
    )
    adam = ablation.make_optimizer(
        {**ablation.BASENET, "optimizer": "adam", "learning_rate": None}
    )
    assert type(adam).__name__ == "Adam" and float(adam.learning_rate) == pytest.approx(
        0.001
    )
    assert ablation.make_optimizer(ablation.BASENET) is not sgd


def test_runner_validates_every_budget_on_the_same_held_out_images_and_learns():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    x = rng.random((400, 32, 32, 3)).astype("float32") * 0.2
    x[y == 1, :16] += 0.8  # class 1: a bright top half
    bar = train.progress(0)
    runner = ablation.Runner(
        ((x, y), (x[:100], y[:100])), num_classes=2, seeds=[0, 1], bar=bar
    )
    config = {
        **ablation.BASENET,
        "n_train": 300,
        "epochs": 4,
        "optimizer": "adam",
        "learning_rate": 3e-3,
    }
    runs = runner(config)
    bar.close()
    assert [r.seed for r in runs] == [0, 1] and bar.total == 8 and bar.n == 8
    assert all(len(r.history["val_accuracy"]) == 4 for r in runs)
    assert all(r.test["accuracy"] > 0.9 for r in runs)


def test_runner_holds_out_the_same_validation_images_whatever_the_budget(monkeypatch):
    seen = []
    monkeypatch.setattr(
        ablation.train,
        "fit_keras",
        lambda build, data, **kw: seen.append(
            (data[0][0], kw["validation_data"][0], kw["seed"])
        ),
    )
    x = np.arange(400, dtype="float32").reshape(400, 1, 1, 1) * np.ones(
        (1, 32, 32, 3), "float32"
    )
    data = ((x, np.zeros(400, int)), None)
    runner = ablation.Runner(data, num_classes=2, seeds=[0, 1])
    runner({**ablation.BASENET, "n_train": 20})
    runner(ablation.BASENET)
    (small0, val0, _), (small1, val1, _), (all0, val0b, _), _ = seen
    assert (
        len(val0) == 40
        and np.array_equal(val0, val0b)
        and not np.array_equal(val0, val1)
    )
    assert len(small0) == 20 and len(all0) == 360
    assert np.array_equal(small0, all0[:20]) and not set(val0[:, 0, 0, 0]) & set(
        all0[:, 0, 0, 0]
    )
