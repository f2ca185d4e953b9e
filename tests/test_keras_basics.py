"""The Keras-basics lab's own helpers: the logistic map, its forecasts and horizons,
the early-stopping sentence, the curve summary and the computed claims."""

import matplotlib
import numpy as np
import pytest

from helpers import train
from helpers.labs import keras_basics

matplotlib.use("Agg")


class ExactMap:
    """A stand-in model that computes the logistic map exactly."""

    def predict_on_batch(self, x):
        x = np.asarray(x, dtype=np.float64)
        return 4 * x * (1 - x)


class ExactXor:
    """A stand-in model whose output over the plane is x1 + x2 - 2·x1·x2."""

    def predict(self, x, verbose=0):
        x = np.asarray(x)
        return (x[:, 0] + x[:, 1] - 2 * x[:, 0] * x[:, 1])[:, None]


def test_logistic_map_iterates_the_parabola_inside_the_unit_interval():
    x = keras_basics.logistic_map(100, 0.2)
    assert x.shape == (101,) and x.dtype == np.float32
    assert x[0] == np.float32(0.2) and x[1] == pytest.approx(0.64)
    assert x[2] == pytest.approx(4 * 0.64 * 0.36, rel=1e-6)
    assert 0 <= x.min() and x.max() <= 1
    with pytest.raises(ValueError, match="maps \\[0, 1\\]"):
        keras_basics.logistic_map(10, 1.5)


def test_free_run_feeds_predictions_back():
    forecast = keras_basics.free_run(ExactMap(), 0.3, 5)
    truth = keras_basics.logistic_map(5, 0.3)[1:]
    np.testing.assert_allclose(forecast, truth, rtol=1e-5)


def test_steps_until_off_is_one_based_or_none():
    truth = np.zeros(5)
    assert keras_basics.steps_until_off([0, 0.05, 0.2, 0, 0], truth) == 3
    assert keras_basics.steps_until_off([0.2, 0, 0, 0, 0], truth) == 1
    assert keras_basics.steps_until_off(np.zeros(5), truth) is None


def test_chaos_horizon_adds_one_step_per_halving():
    assert keras_basics.chaos_horizon(0.1) == pytest.approx(1.0)
    assert keras_basics.chaos_horizon(0.1 / 8) == pytest.approx(4.0)
    assert keras_basics.chaos_horizon(0.1 / 16) - keras_basics.chaos_horizon(
        0.1 / 8
    ) == pytest.approx(1.0)
    assert keras_basics.chaos_horizon(0.5) == 1.0  # already off at the first step
    with pytest.raises(ValueError):
        keras_basics.chaos_horizon(0.0)


def test_training_stop_says_whether_early_stopping_fired():
    stopped = {"val_loss": [3.0, 2.0, 1.0, 1.5, 1.6]}
    text = keras_basics.training_stop(stopped, max_epochs=100, patience=2)
    assert text.startswith("stopped early") and "epoch 3" in text and "epoch 5" in text
    running = {"val_loss": [3.0, 2.0, 1.0]}
    text = keras_basics.training_stop(running, max_epochs=3, patience=2)
    assert text.startswith("did not converge within 3 epochs")


def _run(seed, val_acc, acc, val_loss, test):
    history = {
        "accuracy": acc,
        "val_accuracy": val_acc,
        "loss": [1.0] * len(acc),
        "val_loss": val_loss,
    }
    return train.Run(seed, history, {"accuracy": test})


def test_curve_summary_and_per_seed_read_the_curves():
    runs = {
        "a": [
            _run(0, [0.5, 0.7], [0.6, 0.9], [0.7, 0.8], 0.70),
            _run(1, [0.6, 0.8], [0.6, 0.9], [0.6, 0.5], 0.72),
        ]
    }
    table = keras_basics.curve_summary(runs)
    assert table.loc["validation accuracy, epoch 1", "a"] == pytest.approx(0.55)
    assert table.loc["epoch of lowest validation loss", "a"] == pytest.approx(1.5)
    gap = "train − validation accuracy, last epoch"
    assert keras_basics.per_seed(runs["a"], gap) == pytest.approx([0.2, 0.1])
    assert keras_basics.per_seed(
        runs["a"], "validation loss rise above its minimum"
    ) == pytest.approx([0.1, 0.0])


def test_claim_names_the_winner_the_test_and_r3():
    apart = {"x": [0.90, 0.91, 0.92], "y": [0.80, 0.81, 0.82]}
    line = keras_basics.claim("Accuracy", apart, "x")
    assert "**x** ranks first, ahead of y beyond noise" in line
    assert "as R3 found" in line and "Welch" in line and "x 0.910, y 0.810" in line
    assert "unlike R3, where y came first" in keras_basics.claim("Accuracy", apart, "y")
    close = {"x": [0.90, 0.80, 0.85], "y": [0.84, 0.86, 0.85]}
    line = keras_basics.claim("Accuracy", close, "y")
    assert "no first place" in line and "tie within noise" in line
    assert "R3 put y first; here no first place" in line
    assert "as R3 found: alike" in keras_basics.claim("Accuracy", close, None)
    assert "unlike R3, which found them alike" in keras_basics.claim(
        "Accuracy", apart, None
    )
    assert "**y** ranks first" in keras_basics.claim("Error", apart, None, higher=False)


def test_gap_at_reads_train_minus_validation_accuracy_at_an_epoch():
    run = _run(0, [0.5, 0.7, 0.6], [0.6, 0.9, 1.0], [0.7, 0.8, 0.9], 0.7)
    assert keras_basics.gap_at(run) == pytest.approx(0.4)
    assert keras_basics.gap_at(run, 2) == pytest.approx(0.2)
    assert keras_basics.gap_at(run, 1) == pytest.approx(0.1)


def test_majority_share_is_the_accuracy_of_always_guessing_the_common_class():
    assert keras_basics.majority_share([0, 1, 1, 1]) == pytest.approx(0.75)
    assert keras_basics.majority_share(np.array([2, 2, 0, 1, 0, 2])) == 0.5


def test_learning_from_start_compares_the_first_epochs_with_chance():
    # chance 0.5 on 2,500 reviews: twice the binomial std is 0.02
    flat = [_run(s, [0.51, 0.50, 0.8], [0.5] * 3, [0.7] * 3, 0.8) for s in range(3)]
    line = keras_basics.learning_from_start(flat, 0.5, 2_500)
    assert "no learning in the first 2 epochs, as R3 saw" in line
    assert "0.500 ± 0.020" in line and "above chance in 0 of 3 seeds" in line
    late = [_run(s, [0.51, 0.60, 0.8], [0.5] * 3, [0.7] * 3, 0.8) for s in range(3)]
    assert "learns by epoch 2 in every seed" in keras_basics.learning_from_start(
        late, 0.5, 2_500
    )
    early = [_run(s, [0.85, 0.86], [0.9] * 2, [0.4] * 2, 0.8) for s in range(3)]
    line = keras_basics.learning_from_start(early, 0.5, 2_500, epochs=1)
    assert "learns from the first epoch, unlike R3" in line
    assert "epoch 2" not in line


def test_the_lab_figures_draw():
    truth = keras_basics.logistic_map(40, 0.7)[1:]
    fig = keras_basics.plot_forecast(truth, truth, truth[:10])
    assert len(fig.axes) == 2
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
    y = np.array([0, 1, 1, 0])
    fig = keras_basics.plot_xor_surfaces({"exact": ExactXor()}, x, y, {"exact": 1.0})
    assert fig.axes[0].get_title().startswith("exact")


def test_predicted_vs_true_labels_axes_and_draws_the_diagonal():
    import numpy as np

    fig = keras_basics.predicted_vs_true(
        np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.5]), "price", "$1000s"
    )
    (ax,) = fig.axes
    assert (
        ax.get_xlabel() == "true price ($1000s)"
        and ax.get_ylabel() == "predicted price ($1000s)"
    )
    diagonal, points = ax.get_lines()
    assert list(diagonal.get_xdata()) == list(diagonal.get_ydata()) == [1.0, 3.0]
    assert list(points.get_ydata()) == [1.5, 2.0, 2.5]


def test_per_variant_reads_one_quantity_per_seed_for_each_name():
    runs = {
        "a": [_run(0, [0.5, 0.7], [0.6, 0.9], [0.7, 0.8], 0.70)],
        "b": [_run(0, [0.6], [0.6], [0.6], 0.8), _run(1, [0.4], [0.5], [0.6], 0.9)],
    }
    values = keras_basics.per_variant(runs, "test accuracy")
    assert values == {"a": [0.70], "b": [0.8, 0.9]}
