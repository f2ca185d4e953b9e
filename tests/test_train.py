"""Training runs: learning really happens on small data, and a seed fixes the result on a CPU."""
import numpy as np
import pytest

from helpers import data, models_keras, train


@pytest.fixture(scope="module")
def small_mnist():
    (x, y), (x_test, y_test) = data.load_mnist(profile="smoke")
    scale = lambda a: a[..., None].astype("float32") / 255  # noqa: E731
    return (scale(x[:1000]), y[:1000]), (scale(x_test[:300]), y_test[:300])


def test_tominet_learns_digits_from_a_thousand_examples(small_mnist):
    run = train.fit_keras(models_keras.tominet, small_mnist, seed=0, epochs=10, batch_size=16)
    assert set(run.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(run.history["loss"]) == 10
    assert run.history["loss"][-1] < run.history["loss"][0]
    # chance is 0.1. BatchNorm's moving statistics (momentum 0.99) need a few hundred steps
    # before evaluation-mode accuracy catches up with training accuracy.
    assert run.test["accuracy"] > 0.8, run
    assert run.best("val_accuracy")[1] in range(1, 11)


def test_same_seed_same_result_other_seed_other_result(small_mnist):
    fit = lambda seed: train.fit_keras(models_keras.dense_mnist_net, small_mnist, seed=seed, epochs=1)  # noqa: E731
    first, again, other = fit(3), fit(3), fit(4)
    assert first.history == again.history and first.test == again.test
    assert first.history != other.history


def test_split_validation_is_seeded_disjoint_and_complete():
    x, y = np.arange(100), np.arange(100) % 10
    (xt, _), (xv, _) = train.split_validation(x, y, 0.1, seed=1)
    assert len(xv) == 10 and len(xt) == 90 and set(xt) | set(xv) == set(x)
    assert np.array_equal(xv, train.split_validation(x, y, 0.1, seed=1)[1][0])
    assert not np.array_equal(xv, train.split_validation(x, y, 0.1, seed=2)[1][0])


def test_progress_bar_counts_epochs(small_mnist, capsys):
    with train.progress(total=2) as bar:
        train.fit_keras(models_keras.dense_mnist_net, small_mnist, seed=0, epochs=2, bar=bar)
        assert bar.n == 2
