"""The figures only one lab draws (helpers.labs): filter visualisation's ascent
figures, t-SNE's maps, the ablation's family curves."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from helpers.labs import augmentation_ablation, filter_visualisation, tsne  # noqa: E402


def test_flagged_grid_frames_the_flagged_images_in_red():
    fig = filter_visualisation.flagged_grid(
        np.zeros((3, 8, 8, 3)), ["a", "b", "c"], [False, True, False], ncols=2
    )
    framed = [bool(ax.patches) for ax in fig.axes[:3]]
    assert framed == [False, True, False]
    assert fig.axes[1].title.get_color() == "tab:red"
    assert any("not converged" in t.get_text() for t in fig.texts)


def test_ascent_curves_draw_a_line_per_image_at_most_two_panels_a_row():
    values = np.cumsum(np.ones((11, 4)), axis=0)
    status = ["converged", "still rising", "converged", "did not rise"]
    fig = filter_visualisation.ascent_curves(
        {"a": values, "b": values, "c": values},
        {"a": status, "b": status, "c": status},
        styles={"a": ["noise", "noise", "dog", "dog"]},
    )
    assert fig.axes[0].get_subplotspec().get_gridspec().ncols == 2
    a = fig.axes[0]
    assert len(a.get_lines()) == 4 and a.get_xlabel() == "gradient-ascent step"
    colours = [line.get_color() for line in a.get_lines()]
    assert colours[1] == "tab:orange" and colours[3] == "tab:red"
    assert [line.get_linestyle() for line in a.get_lines()] == ["-", "-", "--", "--"]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == [
        "converged",
        "still rising",
        "did not rise",
        "from noise",
        "from dog",
    ]


def test_stretched_change_is_mid_grey_where_nothing_changed():
    start = np.full((4, 4, 3), 0.5)
    results = np.stack([start, start + 0.1, start - 0.2])
    out = filter_visualisation.stretched_change(results, start)
    np.testing.assert_allclose(out[0], 0.5)
    assert out[1].min() > 0.5 and out[2].max() < 0.5 and out.min() >= 0


def test_curve_panels_one_panel_per_family_with_a_band_for_several_seeds():
    import matplotlib.pyplot as plt

    seeds = [{"val_accuracy": [0.2, 0.3, 0.4]}, {"val_accuracy": [0.4, 0.5, 0.6]}]
    fig = augmentation_ablation.curve_panels(
        {
            "zoom": {"zoom 0.2": seeds, "zoom 0.5": seeds[0]},
            "optimisers": {"SGD": seeds[1], "Adam": seeds, "Adagrad": seeds[0]},
        }
    )
    zoom, optimisers = fig.axes
    assert zoom.get_title() == "zoom" and optimisers.get_title() == "optimisers"
    assert zoom.get_xlabel() == "epoch" and zoom.get_ylabel() == "validation accuracy"
    assert [t.get_text() for t in optimisers.get_legend().get_texts()] == [
        "SGD",
        "Adam",
        "Adagrad",
    ]
    np.testing.assert_allclose(zoom.lines[0].get_ydata(), [0.3, 0.4, 0.5])
    assert all(tick == int(tick) for tick in zoom.get_xticks())  # whole epochs
    assert (
        len(zoom.collections) == 1 and len(optimisers.collections) == 1
    )  # bands only for several seeds
    plt.close(fig)


def test_plot_embedding_colours_each_class_and_draws_the_separating_line():
    import matplotlib.pyplot as plt

    class Line:
        errors = 3

        def y(self, x):
            return np.asarray(x) * 0.0

    points = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, -1.0], [3.0, -2.0]])
    ax = tsne.plot_embedding(
        points, [0, 0, 1, 1], ["ants", "bees"], "map", line=Line(), note="probe 0.9"
    )
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["ants", "bees", "linear separation (3 errors)"]
    assert ax.get_title() == "map\nprobe 0.9" and list(ax.get_xticks()) == []
    assert [len(c.get_offsets()) for c in ax.collections] == [2, 2]
    legend = tsne.legend_below(ax.figure, ax, ncol=3)
    below = [t.get_text() for t in legend.get_texts()]
    assert below == ["ants", "bees", "best separating line"]
    plt.close(ax.figure)
