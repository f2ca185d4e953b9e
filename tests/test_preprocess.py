"""Preprocessing fitted on the training part only."""

import numpy as np
import pytest

from helpers import preprocess


def test_standardize_uses_training_statistics_only():
    train = np.array([[0.0, 5.0], [2.0, 5.0], [4.0, 5.0]])
    test = np.array([[2.0, 7.0], [6.0, 5.0]])
    s_train, s_test = preprocess.standardize(train, test)
    np.testing.assert_allclose(s_train.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(s_train[:, 0].std(), 1, rtol=1e-6)
    std = np.std([0.0, 2.0, 4.0])
    np.testing.assert_allclose(
        s_test[:, 0], [0.0, 4.0 / std], rtol=1e-6
    )  # the test part's own mean is 4
    np.testing.assert_allclose(
        s_test[:, 1], [2.0, 0.0]
    )  # a constant column is only centred
    assert s_train.dtype == s_test.dtype == np.float32


def test_zeros_are_replaced_by_the_training_mean_of_non_zero_values():
    train = np.array([[0.0, 1.0, 0.0], [10.0, 0.0, 3.0], [20.0, 3.0, 0.0]])
    val = np.array([[0.0, 0.0, 0.0], [100.0, 9.0, 0.0]])
    r_train, r_val = preprocess.replace_zeros_by_mean(train, val, columns=[0, 1])
    # column 0: mean of 10 and 20 (not 10, the mean with the zero; not the validation
    # part's values)
    assert r_train[:, 0].tolist() == [15.0, 10.0, 20.0] and r_train[:, 1].tolist() == [
        1.0,
        2.0,
        3.0,
    ]
    assert r_val[0].tolist() == [15.0, 2.0, 0.0] and r_val[1].tolist() == [
        100.0,
        9.0,
        0.0,
    ]
    assert r_train[:, 2].tolist() == [
        0.0,
        3.0,
        0.0,
    ]  # a column not named keeps its zeros
    assert train[0, 0] == 0.0 and val[0, 0] == 0.0  # inputs untouched


def test_add_noise_is_seeded_clipped_and_noisy():
    images = np.full((50, 28, 28), 0.5, np.float32)
    a, b, c = (preprocess.add_noise(images, 0.3, seed) for seed in (1, 1, 2))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.min() == 0.0 and a.max() == 1.0 and a.dtype == np.float32
    assert a.std() == pytest.approx(
        0.3 * 0.9, rel=0.15
    )  # clipping trims the tails a little


def test_standardize_images_per_channel_from_train_only_in_torch_layout():
    import numpy as np

    from helpers import preprocess

    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (20, 4, 4, 3)).astype(np.uint8)
    train[..., 2] //= 4  # a darker channel
    test = np.zeros((2, 4, 4, 3), np.uint8)
    x_train, x_test = preprocess.standardize_images(train, test)
    assert x_train.shape == (20, 3, 4, 4) and x_train.dtype == np.float32
    np.testing.assert_allclose(x_train.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(x_train.std(axis=(0, 2, 3)), 1, atol=1e-5)
    expected = -train.reshape(-1, 3).mean(0) / train.reshape(-1, 3).std(
        0
    )  # zeros, in train's units
    np.testing.assert_allclose(x_test[0, :, 0, 0], expected, rtol=1e-5)
    (grey,) = preprocess.standardize_images(train[..., 0])
    assert grey.shape == (20, 1, 4, 4)
    (last,) = preprocess.standardize_images(train, channels_first=False)
    assert last.shape == (20, 4, 4, 3)
