"""Tests of helpers.letters: the rendered A–Z stand-in for EMNIST letters."""

import numpy as np
import pytest

from helpers import letters

N = 6


@pytest.fixture(scope="module")
def rendered():
    return letters.render_letters(N, seed=0)


def test_shapes_dtype_and_range(rendered):
    x, y = rendered
    assert x.shape == (26 * N, 28, 28) and x.dtype == np.uint8
    assert y.shape == (26 * N,) and y.dtype == np.int64
    assert y.min() == 0 and y.max() == 25
    assert (
        x.reshape(len(x), -1).max(axis=1) == 255
    ).all()  # each glyph reaches full white
    assert x.mean() < 80  # white on black, like MNIST


def test_class_balanced_and_shuffled(rendered):
    _, y = rendered
    assert (np.bincount(y, minlength=26) == N).all()
    assert not (np.diff(y) >= 0).all()


def test_same_seed_same_arrays_other_seed_other_arrays(rendered):
    x, y = rendered
    x2, y2 = letters.render_letters(N, seed=0)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x3, _ = letters.render_letters(N, seed=1)
    assert not np.array_equal(x, x3)


def test_every_class_has_visible_glyphs_fitted_and_centred(rendered):
    x, y = rendered
    for img, label in zip(x, y):
        rows, cols = np.nonzero(img > 64)
        assert len(rows) >= 10, f"class {letters.LETTERS[label]} has an empty image"
        height, width = np.ptp(rows) + 1, np.ptp(cols) + 1
        assert 13 <= max(height, width) <= 25
        assert abs((rows.min() + rows.max()) / 2 - 13.5) <= 3.5
        assert abs((cols.min() + cols.max()) / 2 - 13.5) <= 3.5


def test_distinct_letters_differ():
    # a nearest-class-mean classifier trained on one seed must beat chance (1/26) by far
    # on another
    x, y = letters.render_letters(20, seed=2, fonts="bundled")
    xt, yt = letters.render_letters(10, seed=3, fonts="bundled")
    means = np.stack([x[y == k].reshape(-1, 784).mean(0) for k in range(26)]).astype(
        np.float32
    )
    dist = (
        (xt.reshape(-1, 784)[:, None, :].astype(np.float32) - means[None]) ** 2
    ).sum(-1)
    assert (dist.argmin(1) == yt).mean() > 0.3
    pairwise = ((means[:, None] - means[None]) ** 2).sum(-1)
    assert (pairwise + np.eye(26) * 1e9).min() > 0


def test_other_sizes():
    x, y = letters.render_letters(1, seed=0, size=32, fonts="bundled")
    assert x.shape == (26, 32, 32)


def test_fonts_always_include_bundled_dejavu_and_leave_out_symbol_fonts():
    fonts = letters.available_fonts()
    names = {p.name for p in fonts}
    assert "DejaVuSans.ttf" in names
    assert not names & {
        "cmex10.ttf",
        "cmsy10.ttf",
        "STIXSizOneSymReg.ttf",
        "LastResortHE-Regular.ttf",
        "D050000L.otf",
        "StandardSymbolsPS.otf",
        "DejaVuSansDisplay.ttf",
    }
    assert len(letters.font_names("all")) == len(fonts)
    assert set(letters.available_fonts(system=False)) <= set(fonts)
    assert all(isinstance(n, str) and n for n in letters.font_names("bundled"))


def test_explicit_fonts_are_checked():
    symbol = letters._bundled_font_dir() / "cmex10.ttf"
    with pytest.raises(ValueError, match="no Latin letters"):
        letters.render_letters(1, fonts=[symbol])
    dejavu = letters._bundled_font_dir() / "DejaVuSans.ttf"
    x, _ = letters.render_letters(2, fonts=[dejavu])
    assert x.shape == (52, 28, 28)
