"""t-SNE and the numbers that check a t-SNE picture (helpers/embed.py)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from helpers import embed
from helpers.labs import tsne as tsne_plots


def blobs(centres, n=60, dims=20, spread=1.0, seed=0):
    """Gaussian clusters around ``centres`` (first coordinates; the rest are noise)."""
    rng = np.random.default_rng(seed)
    x, y = [], []
    for label, centre in enumerate(centres):
        points = rng.normal(0, spread, (n, dims))
        points[:, : len(centre)] += centre
        x.append(points)
        y += [label] * n
    return np.vstack(x).astype(np.float32), np.array(y)


@pytest.mark.slow
def test_tsne_keeps_separated_clusters_apart():
    x, y = blobs([(12, 0), (0, 12), (-12, -12)], n=70)
    e = embed.tsne(x, perplexity=20, n_jobs=1)
    assert e.points.shape == (len(x), 2)
    assert e.input_dims == 20 and e.seconds > 0
    assert embed.neighbour_agreement(e.points, y) > 0.97
    # a random mix agrees about as often as chance (1/3)
    assert (
        embed.neighbour_agreement(np.random.default_rng(1).normal(size=(210, 2)), y)
        < 0.5
    )


def test_tsne_refuses_a_perplexity_too_large_for_the_points():
    x, _ = blobs([(5, 0), (0, 5)], n=20)
    with pytest.raises(
        ValueError, match="perplexity 30 needs more than 90 points; got 40"
    ):
        embed.tsne(x, perplexity=30)


def test_reduce_applies_pca_only_to_wide_features():
    wide = np.random.default_rng(0).normal(size=(120, 80))
    assert embed.reduce(wide).shape == (120, embed.PCA_DIMS)
    assert embed.reduce(wide[:30]).shape == (30, 30)  # fewer points than components
    narrow = wide[:, :10]
    np.testing.assert_allclose(embed.reduce(narrow), narrow.astype(np.float32))


def test_linear_probe_tells_separable_from_random_labels():
    x, y = blobs([(4, 0), (-4, 0)], n=80)
    assert embed.linear_probe(x, y) > 0.95
    shuffled = np.random.default_rng(0).permutation(y)
    assert embed.linear_probe(x, shuffled) < 0.7
    # with a separate test set: fitted on one, scored on the other
    x2, y2 = blobs([(4, 0), (-4, 0)], n=40, seed=1)
    assert embed.linear_probe(x, y, x2, y2) > 0.95


def test_separating_line_counts_the_points_on_the_wrong_side():
    x, y = blobs([(5, 5), (-5, -5)], n=50, dims=2, spread=0.8)
    line = embed.separating_line(x, y)
    assert line.errors == 0
    side = np.sign(x @ line.w + line.b)
    assert (
        len(set(side[y == 0])) == 1
        and len(set(side[y == 1])) == 1
        and side[0] != side[-1]
    )
    # a point on the line: w · p + b = 0
    p = np.array([1.5, float(line.y(1.5))])
    assert abs(p @ line.w + line.b) < 1e-6
    mixed, ym = blobs([(0.5, 0), (-0.5, 0)], n=50, dims=2, spread=1.0)
    assert 5 < embed.separating_line(mixed, ym).errors < 50
    with pytest.raises(ValueError, match="two classes"):
        embed.separating_line(x, np.zeros(len(x), int))


def test_overlapping_pairs_names_the_classes_that_mix():
    x, y = blobs([(0, 0), (1.0, 0), (30, 30)], n=60, dims=2, spread=1.0)
    pairs = embed.overlapping_pairs(x, y, ["a", "b", "c"])
    assert pairs[0][:2] == ("a", "b") and pairs[0][2] > 0.99
    assert all({p, q} != {"a", "c"} for p, q, _ in pairs)


def test_plot_embedding_draws_every_class_and_the_line():
    x, y = blobs([(5, 5), (-5, -5)], n=30, dims=2)
    line = embed.separating_line(x, y)
    ax = tsne_plots.plot_embedding(
        x, y, ["ants", "bees"], "t-SNE", line=line, note="probe 1.00"
    )
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["ants", "bees", "linear separation (0 errors)"]
    assert ax.get_title() == "t-SNE\nprobe 1.00"


@pytest.mark.slow
@pytest.mark.parametrize("method", ["fft", "bh"])
def test_both_gradient_methods_and_scikit_learn_keep_clusters(method):
    x, y = blobs([(12, 0), (0, 12), (-12, -12)], n=40)
    e = embed.tsne(x, perplexity=10, method=method)
    assert e.points.shape == (len(x), 2)
    assert embed.neighbour_agreement(e.points, y) > 0.95
    sk = embed.tsne_sklearn(x, perplexity=10, n_jobs=1)
    assert sk.points.shape == (len(x), 2) and sk.input_dims == 20
    with pytest.raises(ValueError, match="needs more than"):
        embed.tsne_sklearn(x, perplexity=50)


def test_time_tsne_runs_each_configuration_once_and_fastest_picks_the_quickest():
    x, _ = blobs([(5, 0), (0, 5)], n=30, dims=3)
    calls = []

    def fake(seconds):
        def run(features, *, perplexity, seed):
            calls.append((seconds, perplexity, seed, len(features)))
            return embed.Embedding(np.zeros((len(features), 2)), perplexity, seconds, 3)

        return run

    timed = embed.time_tsne(
        x, {"slow": fake(2.0), "quick": fake(0.5), "middle": fake(1.0)}, perplexity=7
    )
    assert list(timed) == ["slow", "quick", "middle"]
    assert calls == [(2.0, 7, 0, 60), (0.5, 7, 0, 60), (1.0, 7, 0, 60)]
    assert embed.fastest(timed) == "quick"


def test_legend_below_puts_one_legend_under_the_panels():
    import matplotlib.pyplot as plt

    x, y = blobs([(5, 5), (-5, -5)], n=20, dims=2)
    fig, axes = plt.subplots(1, 2)
    for ax in axes:
        tsne_plots.plot_embedding(x, y, ["ants", "bees"], "map", ax=ax, legend=False)
    legend = tsne_plots.legend_below(fig, axes[0], ncol=2)
    assert [t.get_text() for t in legend.get_texts()] == ["ants", "bees"]
    assert all(ax.get_legend() is None for ax in axes)
    assert fig.subplotpars.bottom > 0.08
    plt.close(fig)


def test_legend_below_names_the_line_without_one_panels_errors():
    import matplotlib.pyplot as plt

    x, y = blobs([(5, 5), (-5, -5)], n=20, dims=2)
    fig, ax = plt.subplots()
    tsne_plots.plot_embedding(
        x,
        y,
        ["ants", "bees"],
        "map",
        ax=ax,
        legend=False,
        line=embed.separating_line(x, y),
    )
    legend = tsne_plots.legend_below(fig, ax, ncol=3)
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == ["ants", "bees", "best separating line"]
    plt.close(fig)


def test_legend_under_sits_below_its_own_panel():
    import matplotlib.pyplot as plt

    x, y = blobs([(5, 5), (-5, -5)], n=20, dims=2)
    fig, ax = plt.subplots()
    tsne_plots.plot_embedding(x, y, ["ants", "bees"], "map", ax=ax, legend=False)
    legend = tsne_plots.legend_under(ax, ncol=2)
    assert [t.get_text() for t in legend.get_texts()] == ["ants", "bees"]
    fig.canvas.draw()
    assert legend.get_window_extent().y1 <= ax.get_window_extent().y0 + 1
    plt.close(fig)
