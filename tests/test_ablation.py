"""The greedy ablation: the decision rule, the step runner, the table, and
building configurations (R4's nets, ablation.r4_net)."""

import numpy as np
import pytest

from helpers import ablation, models_keras, train


def _counts(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return model.count_params(), trainable


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


def _score(config):
    """A fake run's validation accuracy: normalising and flipping help, zooming hurts,
    fewer epochs cost 0.1."""
    score = {"normalize": 0.1, "flip": 0.05, "zoom": -0.02}
    value = 0.3 + sum(score[k] for k in score if config[k])
    return value - 0.1 * (config["epochs"] < 30)


STEPS = [
    dict(step="normalisation", change=dict(normalize=True)),
    dict(step="flip", change=dict(flip=True), family="aug"),
    dict(step="zoom", change=dict(zoom=0.2), family="aug"),
    dict(step="fewer epochs", change=dict(epochs=10), decide=False),
    dict(step="flip again", change=dict(flip=True), family="again"),
    dict(step="no zoom", change=dict(zoom=0.0), family="again"),
    dict(step="no flip", change=dict(flip=False), decide=False, why="R4 did"),
]


@pytest.fixture
def greedy_example():
    """``greedy`` over :data:`STEPS` with fake runs; the result and the configurations
    it ran."""
    calls = []

    def run(config):
        calls.append(config)
        return _runs(_score(config), _score(config), test=_score(config))

    return ablation.greedy(ablation.BASENET, STEPS, run), calls


def test_greedy_keeps_improvements_skips_repeats_and_takes_budget_steps(
    greedy_example,
):
    result, calls = greedy_example
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
    with pytest.raises(ValueError, match="lacks"):
        ablation.greedy(
            ablation.BASENET, [dict(step="x", change=dict(colour=True))], print
        )
    with pytest.raises(KeyError):
        result.row("nothing")


def test_greedy_families_and_table(greedy_example):
    result, _ = greedy_example
    assert list(result.family("aug")) == ["reference (normalisation)", "flip", "zoom"]
    assert list(result.family("again")) == ["flip again = reference (fewer epochs)"]
    frame = ablation.table(result)
    assert list(frame.index) == ["baseline"] + [step["step"] for step in STEPS]
    assert (
        frame.loc["zoom", "decision"] == "dropped"
        and "(-0.0200)" in frame.loc["zoom", "why"]
    )
    assert frame.loc["fewer epochs", "images × epochs"] == "all × 10"
    assert frame.loc["flip", "validation accuracy"].startswith("0.4500")
    assert (
        ablation.describe({"optimizer": "adam", "learning_rate": None})
        == "optimizer=adam, learning_rate=Keras default"
    )


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
    best = dict(ablation.BASENET)
    for change, count, rates in [
        (ablation.R4_NET_1, 581_365, []),
        (dict(dropout="r4"), 581_365, [0.25, 0.5, 0.25]),
        (ablation.R4_NET_2, 3_667_841, [0.25, 0.5, 0.5, 0.25]),
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


@pytest.mark.slow
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
            (data[0][0], kw["validation"][0], kw["seed"])
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


# --- ablation.r4_net: BaseNet and R4's improved nets, as options of one builder -------
def test_r4_net_defaults_are_basenet_layer_by_layer():
    shapes = (
        lambda m: [  # noqa: E731
            (type(x).__name__, tuple(x.output.shape[1:]))
            for x in m.layers
            if type(x).__name__ != "InputLayer"
        ]
    )
    built, printed = ablation.r4_net(10), models_keras.basenet(10)
    assert shapes(built) == shapes(printed) and len(shapes(built)) == 10
    assert _counts(built) == _counts(printed) == (23_432, 23_432)


def test_r4_net_options_build_the_ablation_variants():
    names = lambda m: [type(layer).__name__ for layer in m.layers]  # noqa: E731
    before = names(ablation.r4_net(batchnorm="before"))
    after = names(ablation.r4_net(batchnorm="after"))
    assert before[1:4] == ["Conv2D", "BatchNormalization", "ReLU"]
    assert after[1:4] == ["Conv2D", "ReLU", "BatchNormalization"]
    assert before.count("BatchNormalization") == after.count("BatchNormalization") == 3
    assert names(ablation.r4_net(dropout=0.25)).count("Dropout") == 3
    with pytest.raises(ValueError):
        ablation.r4_net(batchnorm="between")
    with pytest.raises(ValueError):
        ablation.r4_net(dropout=(0.1, 0.2))
    with pytest.raises(ValueError):
        ablation.r4_net(dropout="R3")


# R4's tables of its deeper nets (Cuadros 1-3): each layer's type and output shape
# (R4 gives sizes and channels; its Linear rows start from the flattened features,
# our Flatten).
def _conv_block(widths, size, bn=False, dropout=False):
    rows = []
    for width in widths:
        size -= 2
        rows += [("Conv2D", (size, size, width))]
        rows += [("BatchNormalization", (size, size, width))] * bn
        rows += [("ReLU", (size, size, width))]
    rows += [("MaxPooling2D", (size // 2, size // 2, widths[-1]))]
    return rows + [("Dropout", (size // 2, size // 2, widths[-1]))] * dropout


def _dense_rows(widths, bn=False, dropout=False):
    rows = []
    for width in widths:
        rows += [("Dense", (width,))] + [("BatchNormalization", (width,))] * bn
        rows += [("ReLU", (width,))] + [("Dropout", (width,))] * dropout
    return rows + [("Dense", (25,))]


R4_CUADRO_1 = [
    *_conv_block((16, 32), 32),
    *_conv_block((64, 128), 14),
    ("Flatten", (3200,)),
    *_dense_rows((150,)),
]
R4_CUADRO_2 = [
    *_conv_block((32, 64), 32),
    *_conv_block((128, 256), 14),
    ("Flatten", (6400,)),
    *_dense_rows((500, 150)),
]
R4_CUADRO_3 = [
    *_conv_block((32, 64), 32, bn=True, dropout=True),
    *_conv_block((128, 256), 14, bn=True, dropout=True),
    ("Flatten", (6400,)),
    *_dense_rows((500, 150), bn=True, dropout=True),
]


def _types_and_shapes(model):
    return [(type(x).__name__, tuple(x.output.shape[1:])) for x in model.layers[1:]]


def test_r4_tables_spelled_out():
    assert R4_CUADRO_1[:5] == [
        ("Conv2D", (30, 30, 16)),
        ("ReLU", (30, 30, 16)),
        ("Conv2D", (28, 28, 32)),
        ("ReLU", (28, 28, 32)),
        ("MaxPooling2D", (14, 14, 32)),
    ]
    assert R4_CUADRO_3[14:16] == [
        ("MaxPooling2D", (5, 5, 256)),
        ("Dropout", (5, 5, 256)),
    ]
    assert len(R4_CUADRO_3) == 25 + 1  # R4's 25 rows and our Flatten


def test_r4_deeper_nets_are_its_tables_with_counts_from_their_layers():
    conv = lambda c_in, c_out: c_in * c_out * 9 + c_out  # noqa: E731
    dense = lambda n_in, n_out: n_in * n_out + n_out  # noqa: E731
    net_1 = ablation.r4_net(25, **ablation.R4_NET_1)
    net_2 = ablation.r4_net(25, **ablation.R4_NET_2)
    assert _types_and_shapes(net_1) == R4_CUADRO_1
    assert _types_and_shapes(net_2) == R4_CUADRO_2
    count_1 = conv(3, 16) + conv(16, 32) + conv(32, 64) + conv(64, 128)
    count_1 += dense(3200, 150) + dense(150, 25)
    count_2 = conv(3, 32) + conv(32, 64) + conv(64, 128) + conv(128, 256)
    count_2 += dense(6400, 500) + dense(500, 150) + dense(150, 25)
    assert (count_1, count_2) == (581_365, 3_667_841)
    assert _counts(net_1) == (count_1, count_1)
    assert _counts(net_2) == (count_2, count_2)


def test_r4_dropout_scheme_and_final_model():
    net_options = lambda net: (net["blocks"], net["dense"])  # noqa: E731
    assert ablation.r4_dropout(*net_options(ablation.R4_NET_1)) == (
        0.25,
        0.5,
        0.25,
    )
    assert ablation.r4_dropout(*net_options(ablation.R4_NET_2)) == (
        0.25,
        0.5,
        0.5,
        0.25,
    )
    assert ablation.r4_dropout(((6,), (16,)), (50,)) == (0.25, 0.5, 0.25)
    rates = lambda m: [x.rate for x in m.layers if type(x).__name__ == "Dropout"]
    net_1 = ablation.r4_net(**ablation.R4_NET_1, dropout="r4")
    assert rates(net_1) == [0.25, 0.5, 0.25]
    final = ablation.r4_net(**ablation.R4_NET_2, batchnorm="before", dropout="r4")
    assert rates(final) == [0.25, 0.5, 0.5, 0.25]
    assert _types_and_shapes(final) == R4_CUADRO_3
    statistics = 2 * (32 + 64 + 128 + 256 + 500 + 150)  # BN moving mean and variance
    assert _counts(final) == (3_667_841 + 2 * statistics, 3_667_841 + statistics)
    assert final.count_params() == 3_672_361


def test_greedy_with_the_noise_rule_leaves_a_gain_within_noise_undecided():
    steps = [
        dict(step="normalisation", change=dict(normalize=True)),
        dict(step="flip", change=dict(flip=True)),
        dict(step="zoom", change=dict(zoom=0.2)),
    ]
    finals = {  # three seeds each: normalising helps beyond noise, the flip by
        # less than its noise, zoom hurts beyond noise
        (False, False, 0.0): (0.40, 0.41, 0.42),
        (True, False, 0.0): (0.50, 0.51, 0.52),
        (True, True, 0.0): (0.49, 0.53, 0.52),
        (True, False, 0.2): (0.30, 0.31, 0.32),
    }

    def run(config):
        return _runs(*finals[config["normalize"], config["flip"], config["zoom"]])

    result = ablation.greedy(ablation.BASENET, steps, run, rule="noise")
    decisions = [r["decision"] for r in result.rows]
    assert decisions == ["reference", "kept", "undecided", "dropped"]
    assert "a tie within noise" in result.row("flip")["why"]
    assert result.row("zoom")["reference"] == "normalisation"  # undecided: not taken
    assert result.best == {**ablation.BASENET, "normalize": True}
    with pytest.raises(ValueError, match="rule"):
        ablation.greedy(ablation.BASENET, steps, run, rule="vote")


def test_build_model_zooms_filling_with_the_nearest_pixel():
    model = ablation.build_model({**ablation.BASENET, "zoom": 0.2}, 10)
    zoom = model.get_layer("augmentation").layers[-1]
    assert zoom.fill_mode == "nearest" == ablation.FILL_MODE
    assert models_keras.augmentation(zoom=0.2).layers[-1].fill_mode == "reflect"


def test_r4s_final_model_matches_its_cuadro_3_row_by_row():
    from helpers.labs import augmentation_ablation as lab

    model = ablation.r4_net(25, **ablation.R4_NET_2, batchnorm="before", dropout="r4")
    frame = lab.against_cuadro_3(model)
    assert len(frame) == 25 and (frame["same"] == "yes").all()
    assert frame["our parameters"].sum() == model.count_params() == 3_672_361
    assert frame.loc[16, "our layer"].endswith("0.5")  # R4's 0.5 after the last block
    plain = lab.against_cuadro_3(ablation.r4_net(25, **ablation.R4_NET_2, dropout="r4"))
    assert (plain["same"] == "NO").any()  # no BatchNorm: the rows no longer line up


def test_budget_lines_say_flat_chance_and_equal_budgets(greedy_example):
    from helpers.labs import augmentation_ablation as lab

    result, _ = greedy_example
    lines = lab.budget_lines(result, num_classes=10)
    decided = [r for r in result.rows if r["decision"] in ("kept", "dropped")]
    assert len(lines) == len(decided)
    assert lines[0].startswith("- **normalisation**: still rising (+0.300)")
    assert "equal budgets" in lines[0]
    rising = _runs(0.5, 0.5, epochs=10)
    for run in rising:
        run.history["val_accuracy"] = list(np.linspace(0.1, 0.5, 10))
    assert lab.trained(rising, 10).startswith("still rising (+0.0")
    assert lab.trained(_runs(0.15, 0.15), 10).endswith("NEAR CHANCE")
    flat = _runs(0.5, 0.5, epochs=10)
    for run in flat:
        run.history["val_accuracy"] = [0.3] + [0.5] * 9
    assert lab.trained(flat, 10) == "flat (+0.000), above chance"
