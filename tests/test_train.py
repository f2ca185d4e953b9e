"""Training runs: learning really happens on small data, and a seed fixes the result on
a CPU."""

import numpy as np
import pytest

from helpers import data, models_keras, train

pytestmark = pytest.mark.usefixtures("fits_on_the_cpu")


@pytest.fixture(scope="module")
def small_mnist():
    (x, y), (x_test, y_test) = data.load_mnist(profile="smoke")
    scale = lambda a: a[..., None].astype("float32") / 255  # noqa: E731
    return (scale(x[:1000]), y[:1000]), (scale(x_test[:300]), y_test[:300])


@pytest.mark.slow
def test_tominet_learns_digits_from_a_thousand_examples(small_mnist):
    run = train.fit_keras(
        models_keras.tominet, small_mnist, seed=0, epochs=10, batch_size=16
    )
    assert set(run.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(run.history["loss"]) == 10
    assert run.history["loss"][-1] < run.history["loss"][0]
    # chance is 0.1. BatchNorm's moving statistics (momentum 0.99) need a few hundred
    # steps before evaluation-mode accuracy catches up with training accuracy.
    assert run.test["accuracy"] > 0.8, run
    assert run.best("val_accuracy")[1] in range(1, 11)


@pytest.mark.slow
def test_same_seed_same_result_other_seed_other_result(small_mnist):
    fit = lambda seed: train.fit_keras(
        models_keras.dense_mnist_net, small_mnist, seed=seed, epochs=1
    )  # noqa: E731
    first, again, other = fit(3), fit(3), fit(4)
    assert first.history == again.history and first.test == again.test
    assert first.history != other.history


def test_split_validation_is_seeded_disjoint_and_complete():
    x, y = np.arange(100), np.arange(100) % 10
    (xt, _), (xv, _) = train.split_validation(x, y, 0.1, seed=1)
    assert len(xv) == 10 and len(xt) == 90 and set(xt) | set(xv) == set(x)
    assert np.array_equal(xv, train.split_validation(x, y, 0.1, seed=1)[1][0])
    assert not np.array_equal(xv, train.split_validation(x, y, 0.1, seed=2)[1][0])


@pytest.mark.slow
def test_an_open_progress_bar_counts_the_epochs_of_the_fits_inside_it(small_mnist):
    with train.progress(total=3) as bar:
        train.fit_keras(models_keras.dense_mnist_net, small_mnist, seed=0, epochs=2)
        with train.progress(total=1) as inner:  # the innermost open bar counts
            train.fit_keras(models_keras.dense_mnist_net, small_mnist, seed=0, epochs=1)
        assert (bar.n, inner.n) == (2, 1)
    train.fit_keras(models_keras.dense_mnist_net, small_mnist, seed=0, epochs=1)
    assert bar.n == 2  # closed: no longer counts


def test_kfold_splits_are_disjoint_covering_stratified_and_seeded():
    labels = np.array([0] * 70 + [1] * 33)
    splits = train.kfold_splits(labels, 5, seed=0)
    assert len(splits) == 5
    held_out = np.concatenate([val for _, val in splits])
    assert sorted(held_out.tolist()) == list(
        range(103)
    )  # every example held out exactly once
    for fit, val in splits:
        assert set(fit).isdisjoint(val) and len(fit) + len(val) == 103
        assert len(val) in (20, 21) and labels[val].sum() in (
            6,
            7,
        )  # each fold keeps the class shares
    again, other = (
        train.kfold_splits(labels, 5, seed=0),
        train.kfold_splits(labels, 5, seed=1),
    )
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(splits, again))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(splits, other))
    with pytest.raises(ValueError):
        train.kfold_splits(labels, 1, seed=0)


@pytest.mark.slow
def test_cross_validate_prepares_each_fold_from_its_training_part_only():
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    seen = []

    def prepare(x_train, x_val):
        seen.append((x_train.copy(), x_val.copy()))
        return x_train - x_train.mean(axis=0), x_val - x_train.mean(axis=0)

    build = lambda: keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")]
    )  # noqa: E731
    runs = train.cross_validate(
        build,
        x,
        y,
        k=4,
        seed=3,
        prepare=prepare,
        epochs=2,
        batch_size=8,
        loss="binary_crossentropy",
    )
    assert len(runs) == len(seen) == 4
    for run, (fit, val), (x_fit, x_val) in zip(
        runs, train.kfold_splits(y, 4, seed=3), seen
    ):
        assert np.array_equal(x_fit, x[fit]) and np.array_equal(x_val, x[val])
        assert len(run.history["val_accuracy"]) == 2 and 0 <= run.test["accuracy"] <= 1
        # the held-out fold is the validation set: its last validation loss is the
        # test loss
        assert run.history["val_loss"][-1] == pytest.approx(run.test["loss"], rel=1e-4)


def test_fit_keras_regression_with_explicit_or_no_validation():
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype("float32")
    y = (3 * x[:, 0] - x[:, 1] + 1).astype("float32")
    build = lambda: keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    sgd = lambda: keras.optimizers.SGD(0.05)  # noqa: E731
    run = train.fit_keras(
        build,
        ((x[:150], y[:150]), (x[150:], y[150:])),
        seed=0,
        epochs=20,
        batch_size=16,
        validation=(x[150:], y[150:]),
        optimizer=sgd,
        loss="mse",
        metrics=("mae",),
        keep_model=True,
    )
    assert set(run.history) == {"loss", "mae", "val_loss", "val_mae"} and set(
        run.test
    ) == {"loss", "mae"}
    assert run.test["loss"] < 0.01 and run.history["val_loss"][-1] == pytest.approx(
        run.test["loss"], rel=1e-3
    )
    np.testing.assert_allclose(run.model.get_weights()[0].ravel(), [3, -1], atol=0.1)
    bare = train.fit_keras(
        build,
        ((x, y), None),
        seed=0,
        epochs=1,
        validation=None,
        loss="mse",
        metrics=(),
    )
    assert set(bare.history) == {"loss"} and bare.test == {} and bare.model is None


def test_progress_postfix_shows_validation_accuracy_only_when_there_is_one(small_mnist):
    import keras

    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    build = lambda: keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with train.progress(total=1) as bar:
        train.fit_keras(
            build, ((x, x[:, 0]), None), seed=0, epochs=1, loss="mse", metrics=()
        )
        assert bar.n == 1 and "val_accuracy" not in str(bar.postfix)
    with train.progress(total=1) as bar:
        train.fit_keras(models_keras.dense_mnist_net, small_mnist, seed=0, epochs=1)
        assert "val_accuracy" in str(bar.postfix)


# --- PyTorch --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_mnist_nchw(small_mnist):
    (x, y), (x_test, y_test) = small_mnist
    return (x.transpose(0, 3, 1, 2), y), (x_test.transpose(0, 3, 1, 2), y_test)


@pytest.mark.slow
def test_fit_torch_learns_digits_and_returns_a_keras_like_run(small_mnist_nchw):
    from helpers import models_torch

    with train.progress(total=3) as bar:
        run = train.fit_torch(
            models_torch.SimpleCNN,
            small_mnist_nchw,
            seed=0,
            epochs=3,
            batch_size=32,
            keep_model=True,
        )
        assert bar.n == 3 and "val_accuracy" in str(bar.postfix)
    assert set(run.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in run.history.values()) and set(run.test) == {
        "loss",
        "accuracy",
    }
    assert run.history["loss"][-1] < run.history["loss"][0]
    assert run.test["accuracy"] > 0.8, run  # chance is 0.1
    assert next(run.model.parameters()).device.type == "cpu"
    logits, features = train.predict_torch(
        run.model, small_mnist_nchw[1][0], features=True, batch_size=64
    )
    assert logits.shape == (300, 10) and features.shape == (300, 6272)
    assert np.mean(logits.argmax(1) == small_mnist_nchw[1][1]) == pytest.approx(
        run.test["accuracy"]
    )


def test_predict_torch_features_need_a_net_with_an_embedding():
    import torch

    with pytest.raises(TypeError, match="Linear has no embedding"):
        train.predict_torch(torch.nn.Linear(3, 2), np.zeros((4, 3)), features=True)


def test_fit_torch_same_seed_same_result_on_cpu(small_mnist_nchw):
    from helpers import models_torch

    (x, y), test = small_mnist_nchw
    data = (x[:300], y[:300]), (test[0][:100], test[1][:100])
    fit = lambda seed: train.fit_torch(  # noqa: E731
        models_torch.SimpleCNN, data, seed=seed, epochs=1
    )
    first, again, other = fit(5), fit(5), fit(6)
    assert first.history == again.history and first.test == again.test
    assert first.history != other.history


def test_fit_torch_rejects_an_unknown_optimizer(small_mnist_nchw):
    from helpers import models_torch

    with pytest.raises(ValueError, match="'adamw'; use 'adam', 'sgd'"):
        train.fit_torch(
            models_torch.SimpleCNN,
            small_mnist_nchw,
            seed=0,
            epochs=1,
            optimizer="adamw",
        )


def test_train_epoch_is_the_loop_fit_torch_runs(small_mnist_nchw):
    import torch

    from helpers import models_torch, profile

    (x, y), _ = small_mnist_nchw
    x, y = x[:200], y[:200]
    run = train.fit_torch(
        models_torch.SimpleCNN,
        ((x, y), None),
        seed=2,
        epochs=1,
        batch_size=64,
        validation=None,
    )
    profile.seed_everything(2)
    net = models_torch.SimpleCNN()
    loss, accuracy = train.train_epoch(
        net,
        torch.optim.Adam(net.parameters(), lr=1e-3),
        torch.as_tensor(x),
        torch.as_tensor(y).long(),
        batch_size=64,
        order=torch.Generator().manual_seed(2),
    )
    assert (loss, accuracy) == (run.history["loss"][0], run.history["accuracy"][0])


def test_on_epoch_end_sees_each_epochs_validated_net(small_mnist_nchw):
    from helpers import models_torch

    (x, y), (x_val, y_val) = small_mnist_nchw
    seen = []

    def record(epoch, net):
        predicted = train.predict_torch(net, x_val).argmax(1)
        seen.append((epoch, float(np.mean(predicted == y_val))))

    run = train.fit_torch(
        models_torch.SimpleCNN,
        ((x[:300], y[:300]), None),
        seed=0,
        epochs=2,
        validation=(x_val, y_val),
        on_epoch_end=record,
    )
    assert [epoch for epoch, _ in seen] == [1, 2]
    assert [acc for _, acc in seen] == pytest.approx(run.history["val_accuracy"])


def test_the_bar_keyword_the_filter_page_passes_still_counts_epochs(small_mnist_nchw):
    """Transitional (until filter_visualisation is re-executed): ``bar=``, an open
    progress bar, counts the fit's epochs; the other old keywords are gone."""
    from helpers import models_torch

    (x, y), (x_val, y_val) = small_mnist_nchw
    bar = train.progress(total=2)  # passed, not opened
    old = train.fit_torch(
        models_torch.SimpleCNN,
        ((x[:200], y[:200]), None),
        seed=0,
        epochs=2,
        validation=(x_val[:50], y_val[:50]),
        bar=bar,
    )
    assert bar.n == 2 and len(old.history["val_loss"]) == 2
    for gone in ("validation_data", "validation_fraction", "device", "channels_last"):
        with pytest.raises(TypeError, match=gone):
            train.fit_torch(
                models_torch.SimpleCNN,
                ((x[:20], y[:20]), None),
                seed=0,
                epochs=1,
                **{gone: None},
            )


def test_a_run_then_another_joins_histories_and_keeps_the_second_results():
    head = train.Run(
        0,
        {"loss": [3.0, 2.0], "val_accuracy": [0.5, 0.6]},
        {"accuracy": 0.55},
        10.0,
        "head",
    )
    tuned = train.Run(
        0,
        {"loss": [1.0], "val_accuracy": [0.7], "lr": [1e-5]},
        {"accuracy": 0.72},
        5.0,
        "net",
    )
    both = head.then(tuned)
    assert both.history == {"loss": [3.0, 2.0, 1.0], "val_accuracy": [0.5, 0.6, 0.7]}
    assert (both.test, both.seconds, both.model, both.seed) == (
        {"accuracy": 0.72},
        15.0,
        "net",
        0,
    )
    assert both.best() == (0.7, 3) and head.history["loss"] == [
        3.0,
        2.0,
    ]  # the parts are unchanged


# --- FIT_SETTINGS: speed options change the time, not the numbers ---------------------
# (tools/bench_training.py measures the speed)
def _tiny_classification():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    return (x[:200], y[:200]), (x[200:], y[200:])


def _tiny_net():
    import keras

    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu"),
            # its random masks too must not depend on the option
            keras.layers.Dropout(0.2),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )


def _tiny_fit(epochs: int, batch_size: int, **settings):
    with train.fit_settings(**settings):
        return train.fit_keras(
            _tiny_net,
            _tiny_classification(),
            seed=0,
            epochs=epochs,
            batch_size=batch_size,
            keep_model=True,
        )


def test_fit_keras_steps_per_execution_keeps_the_numbers():
    one = _tiny_fit(3, 16, steps_per_execution=1)
    many = _tiny_fit(3, 16, steps_per_execution=8)
    assert one.model.steps_per_execution == 1 and many.model.steps_per_execution == 8
    for key in one.history:
        np.testing.assert_allclose(many.history[key], one.history[key], rtol=1e-5)
    assert many.test == pytest.approx(one.test, rel=1e-5)


def test_fit_keras_validation_batch_size_changes_speed_not_numbers():
    small = _tiny_fit(2, 8, validation_batch_size=8)
    large = _tiny_fit(2, 8, validation_batch_size=1024)
    assert small.history["loss"] == large.history["loss"]  # training is untouched
    for key in ("val_loss", "val_accuracy"):
        np.testing.assert_allclose(large.history[key], small.history[key], rtol=1e-5)


def test_fit_settings_change_inside_the_block_only():
    with train.fit_settings(steps_per_execution=4, jit_compile=True):
        assert train.keras_compile_options() == dict(
            steps_per_execution=4, jit_compile=True
        )
    assert train.FIT_SETTINGS.steps_per_execution == "auto"
    with pytest.raises(ValueError, match="no fit setting \\['threads'\\]"):
        with train.fit_settings(threads=2):
            pass


def test_keras_compile_options_resolve_auto_per_backend(monkeypatch):
    import keras

    monkeypatch.setattr(keras.backend, "backend", lambda: "tensorflow")
    assert train.keras_compile_options() == dict(
        steps_per_execution=train.TF_STEPS_PER_EXECUTION, jit_compile="auto"
    )
    for other in ("torch", "jax"):  # the PyTorch backend accepts only 1
        monkeypatch.setattr(keras.backend, "backend", lambda other=other: other)
        assert train.keras_compile_options() == dict(
            steps_per_execution=1, jit_compile="auto"
        )


def test_fit_torch_channels_last_keeps_the_numbers(small_mnist_nchw):
    import torch

    from helpers import models_torch

    (x, y), test = small_mnist_nchw
    data = (x[:300], y[:300]), (test[0][:100], test[1][:100])

    def fit(channels_last):
        with train.fit_settings(channels_last=channels_last):
            return train.fit_torch(
                models_torch.SimpleCNN, data, seed=0, epochs=1, keep_model=True
            )

    plain, nhwc = fit(False), fit(True)
    for key in plain.history:
        np.testing.assert_allclose(nhwc.history[key], plain.history[key], rtol=1e-4)
    assert nhwc.test == pytest.approx(plain.test, rel=1e-4)
    conv = lambda run: run.model.features[2].weight  # 32 -> 32 channels  # noqa: E731
    assert conv(nhwc).is_contiguous(memory_format=torch.channels_last)
    assert not conv(plain).is_contiguous(memory_format=torch.channels_last)  # opt-in


def test_predict_torch_runs_without_autograd_and_leaves_the_model_trainable(
    small_mnist_nchw,
):
    import torch

    from helpers import models_torch

    torch.manual_seed(0)
    model = models_torch.SimpleCNN().train()
    x = small_mnist_nchw[1][0][:40]
    logits = train.predict_torch(model, x, batch_size=16)
    model.eval()
    with torch.no_grad():
        expected = model(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)
    model.train()
    loss = model(torch.as_tensor(x)).sum()
    loss.backward()  # predicting left no trace: training still works
    assert model.training and model.classifier[1].weight.grad is not None
