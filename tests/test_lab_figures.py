"""The figures only one lab draws (helpers.labs): filter visualisation's ascent
figures, t-SNE's maps, the ablation's family curves."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.labs import (  # noqa: E402
    augmentation_ablation,
    filter_visualisation,
    keras_basics,
    tsne,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


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
    hues = [c[0] - c[2] for c in colours]  # red minus blue
    assert hues[0] < 0 < hues[1] and hues[2] < 0 < hues[3]  # blue: converged
    assert colours[0] != colours[2]  # two converged lines, two shades
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


def test_a_white_filter_image_stands_out_from_the_page():
    images = np.ones((2, 8, 8, 3))  # white, as a filter that likes white draws
    fig = filter_visualisation.flagged_grid(images, ["a", "b"], [False, False])
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    box = fig.axes[0].get_window_extent()
    top = int(round(fig.bbox.height - box.y1))  # image rows run top-down
    left, right = int(box.x0) + 2, int(box.x1) - 2
    edge = pixels[top - 1 : top + 2, left:right].min(axis=0).max(axis=-1)
    assert (edge < 200).all()  # a frame along the white image's edge
    assert pixels[top + 5, (left + right) // 2].min() == 255  # the image, white


def test_many_ascent_lines_and_many_variants_get_distinct_looks():
    values = np.cumsum(np.ones((5, 12)), axis=0)
    fig = filter_visualisation.ascent_curves({"a": values}, {"a": ["converged"] * 12})
    assert len({line.get_color() for line in fig.axes[0].get_lines()}) == 12
    history = {"val_accuracy": [0.2, 0.3]}
    fig = augmentation_ablation.curve_panels(
        {"zoom": {f"zoom {i}": history for i in range(12)}}
    )
    lines = fig.axes[0].get_lines()
    assert len({(ln.get_color(), ln.get_linestyle()) for ln in lines}) == 12


def test_lab_figures_keep_to_two_panels_a_row_and_label_what_they_plot():
    seeds = [{"accuracy": [0.5, 0.6], "val_accuracy": [0.4, 0.5]}] * 2
    fig = augmentation_ablation.curve_panels(
        {"a": {"x": seeds}, "b": {"y": seeds}, "c": {"z": seeds}}, metric="accuracy"
    )
    assert [ax.get_subplotspec().get_gridspec().ncols for ax in fig.axes] == [2, 2, 2]
    assert fig.axes[0].get_ylabel() == "training accuracy"

    class Net:
        def predict(self, grid, verbose=0):
            return grid[:, :1]

    nets = {f"net {i}": Net() for i in range(4)}
    fig = keras_basics.plot_xor_surfaces(
        nets, [[0, 0], [1, 1]], [0, 0], dict.fromkeys(nets, 1.0), n=5
    )
    panels = [ax for ax in fig.axes if ax.get_subplotspec() is not None]
    assert len(panels) == 4
    assert {ax.get_subplotspec().get_gridspec().ncols for ax in panels} == {2}


def test_legends_under_panels_stay_inside_the_figure():
    points, labels = np.random.default_rng(0).random((40, 2)), np.arange(40) % 10
    names = [f"a rather long class name {i}" for i in range(10)]
    fig, axes = plt.subplots(1, 2, figsize=(10, 5))
    for ax in axes:
        tsne.plot_embedding(points, labels, names, "map", ax=ax, legend=False)
    legend = tsne.legend_under(axes[0], ncol=5)
    fig.tight_layout()
    fig.canvas.draw()
    box = legend.get_window_extent()
    assert box.x1 <= axes[0].get_window_extent().x1 + 1  # not under the next panel
    assert fig.bbox.x0 <= box.x0 and box.y0 >= fig.bbox.y0
    legend = tsne.legend_below(fig, axes[0], ncol=5)
    fig.canvas.draw()
    box = legend.get_window_extent()
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and box.y0 >= 0
    t = np.linspace(0, 1, 20)
    fig = keras_basics.plot_forecast(t, t, t)
    fig.canvas.draw()
    box = fig.axes[1].get_legend().get_window_extent()
    assert box.x1 <= fig.bbox.x1 and box.y0 >= fig.bbox.y0
