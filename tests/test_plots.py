"""The shared figures: learning curves, comparisons, image grids, confusion matrices,
and the house style (two panels a row at most, legends inside the figure)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_history_draws_train_and_validation_with_labelled_axes():
    one = {
        "loss": [1.0, 0.5],
        "val_loss": [1.1, 0.7],
        "accuracy": [0.5, 0.8],
        "val_accuracy": [0.4, 0.7],
    }
    fig = plots.plot_history({"a": one, "b": [one, one]}, title="t")
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_xlabel() == "epoch" and "loss" in loss_ax.get_ylabel()
    assert acc_ax.get_ylabel() == "accuracy"
    labels = [line.get_label() for line in acc_ax.get_lines()]
    assert labels == ["a (train)", "a (validation)", "b (train)", "b (validation)"]
    assert len(acc_ax.collections) == 2  # std bands for "b" only, which has two seeds


def test_image_grid_and_bars():
    import numpy as np

    fig = plots.image_grid(np.zeros((5, 28, 28)), titles=list("abcde"), ncols=4)
    assert len(fig.axes) == 8 and [a.get_title() for a in fig.axes[:5]] == list("abcde")
    fig = plots.compare_bars({"dense": {"orig": [0.9, 0.92], "perm": [0.9, 0.91]}})
    assert len(fig.axes[0].patches) == 2


def test_plot_history_label_overrides_and_log_scale():
    one = {"loss": [400.0, 30.0], "val_loss": [500.0, 40.0]}
    fig = plots.plot_history(
        {"a": one},
        metrics=("loss",),
        ylabels={"loss": "loss (mean squared error, $²)"},
        log_y=True,
    )
    (ax,) = fig.axes
    assert (
        ax.get_ylabel() == "loss (mean squared error, $²)" and ax.get_yscale() == "log"
    )
    assert ax.get_title() == "Loss"
    assert (
        plots.plot_history({"a": one}, metrics=("loss",)).axes[0].get_ylabel()
        == "loss (cross-entropy)"
    )


def test_compare_bars_points_and_image_grid_row_labels():
    import numpy as np

    fig = plots.compare_bars(
        {"seed 0": {"a": [0.7, 0.8, 0.75], "b": [0.6, 0.65, 0.7]}}, points=True
    )
    dots = [line for line in fig.axes[0].get_lines() if line.get_marker() == "o"]
    assert sorted(len(d.get_ydata()) for d in dots) == [3, 3]
    assert sorted(dots[0].get_ydata()) == [0.7, 0.75, 0.8]
    fig = plots.image_grid(
        np.zeros((6, 28, 28)), ncols=3, row_labels=["noisy", "clean"]
    )
    assert [t.get_text() for t in fig.axes[0].texts] == ["noisy"]
    assert [t.get_text() for t in fig.axes[3].texts] == ["clean"]


def test_confusion_matrix_and_most_confused_on_a_known_example():
    import numpy as np

    y_true = [0, 0, 0, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 1, 2, 0, 1, 2]
    matrix = plots.confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(matrix, [[1, 2, 0], [0, 2, 0], [1, 1, 2]])
    assert plots.confusion_matrix([0], [0], n_classes=3).shape == (3, 3)
    assert plots.most_confused(matrix, ["a", "b", "c"], k=5) == [
        ("a", "b", 2),
        ("c", "a", 1),
        ("c", "b", 1),
    ]
    assert plots.most_confused(np.eye(3, dtype=int)) == []


def test_confusion_matrix_plot_and_misclassified_grid():
    import numpy as np

    matrix = plots.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
    fig = plots.plot_confusion_matrix(matrix, ["cat", "dog", "frog"])
    ax = fig.axes[0]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert sorted(t.get_text() for t in ax.texts) == ["1", "1", "1", "1"]
    images = np.zeros((4, 8, 8))
    fig = plots.misclassified_grid(
        images, [0, 1, 1, 2], [0, 2, 2, 2], ["cat", "dog", "frog"], ncols=4
    )
    assert [a.get_title() for a in fig.axes if a.get_title()] == [
        "dog → frog",
        "dog → frog",
    ]
    assert "2 of 2 misclassified" in fig._suptitle.get_text()
    empty = plots.misclassified_grid(images, [0, 1], [0, 1], ["cat", "dog"])
    assert "no misclassified" in empty.axes[0].texts[0].get_text()


def test_bar_value_labels_stay_inside_the_axes_below_the_title():
    fig = plots.compare_bars({"net": {"best": [0.99, 0.994]}}, title="a title")
    (ax,) = fig.axes
    fig.canvas.draw()
    inside = ax.get_window_extent()
    (label,) = [t for t in ax.texts if t.get_text() == "0.992"]
    assert label.get_window_extent().y1 <= inside.y1
    assert max(ax.get_yticks()) == 1.0


def test_bars_start_at_zero_mark_the_reported_value_beside_and_write_means_above():
    fig = plots.compare_bars(
        {"dense": {"orig": [0.95, 0.96], "perm": [0.94, 0.95]}},
        points=True,
        reported={("dense", "orig"): 0.99},
    )
    (ax,) = fig.axes
    assert ax.get_ylim()[0] == 0.0 and ax.get_ylabel() == "value"
    (mark,) = [line for line in ax.lines if line.get_label() == "reported"]
    (bar, _) = ax.patches
    assert mark.get_ydata()[0] == 0.99 and mark.get_marker() == "D"
    assert bar.get_x() < mark.get_xdata()[0] < bar.get_x() + bar.get_width()
    assert mark.get_xdata()[0] != bar.get_x() + bar.get_width() / 2  # beside
    (label,) = [t for t in ax.texts if t.get_text() == "0.955"]
    assert label.xy[1] == 0.99  # written above the highest mark, the reported one
    legend = ax.get_legend()
    assert sorted(t.get_text() for t in legend.get_texts()) == [
        "orig",
        "perm",
        "reported",
    ]
    fig.canvas.draw()
    assert legend.get_window_extent().y1 <= ax.get_window_extent().y0  # off the bars
    one = plots.compare_bars({"net": {"best validation accuracy": [0.9, 0.91]}})
    assert one.axes[0].get_ylabel() == "best validation accuracy"


def test_learning_curves_have_integer_epoch_ticks():
    history = {"loss": [3.0, 2.0, 1.5], "val_loss": [3.1, 2.2, 1.9]}
    fig = plots.plot_history({"a": history}, metrics=("loss",))
    ticks = fig.axes[0].get_xticks()
    assert all(float(t).is_integer() for t in ticks)


def test_tables_show_long_notes_whole():
    import pandas as pd

    note = (
        "CIFAR-10 for CIFAR-100 (offline); first 10,000 training images; "
        "epochs 10, seeds 1"
    )
    frame = pd.DataFrame({"note": [note]}, index=["x"])
    assert note in frame._repr_html_() and note in repr(frame)
    assert pd.get_option("display.max_colwidth") is None


# --- dots and intervals ---------------------------------------------------------------
def _dots_and_marks(ax):
    """The seeds' dots and the reported diamonds that compare_runs drew."""
    lines = ax.get_lines()
    dots = [line for line in lines if line.get_marker() == "o" and line.get_alpha()]
    marks = [line for line in lines if line.get_marker() == "D"]
    return dots, marks


def test_compare_runs_draws_the_report_beside_the_dots_on_an_axis_fitted_to_them():
    import numpy as np

    scores = {"dense": [0.951, 0.953, 0.952], "TomiNet": [0.985, 0.986, 0.984]}
    fig = plots.compare_runs(
        scores, {"dense": 0.95, "TomiNet": 0.98}, title="t", ylabel="test accuracy"
    )
    (ax,) = fig.axes
    dots, marks = _dots_and_marks(ax)
    assert [len(d.get_xdata()) for d in dots] == [3, 3] and len(marks) == 2
    dot_rows = np.concatenate([d.get_ydata() for d in dots])
    for mark in marks:  # off the dots: on a row of its own beside them
        assert not np.isclose(mark.get_ydata()[0], dot_rows).any()
    assert sorted(m.get_xdata()[0] for m in marks) == [0.95, 0.98]
    low, high = ax.get_xlim()
    assert 0.9 < low < 0.95 and 0.986 < high < 1.0  # fitted, not from zero
    assert ax.get_xlabel() == "test accuracy" and fig.get_suptitle() == "t"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("dense\n0.952 ± 0.001 (n=3)")
    assert labels[0].endswith("reported 0.950")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["one seed", "mean ± std", "reported"]


def test_compare_runs_draws_a_single_run_without_an_interval():
    fig = plots.compare_runs({"SVM": [0.876]}, {"SVM": 0.905}, report="R2")
    (ax,) = fig.axes
    dots, marks = _dots_and_marks(ax)
    assert len(dots) == 1 and len(marks) == 1
    assert [line for line in ax.get_lines() if line.get_linestyle() == "-"] == []
    assert ax.get_yticklabels()[0].get_text() == "SVM\n0.876 (n=1), R2 0.905"
    assert ax.get_xlabel() == "accuracy"  # the kind, when nothing names the values


def test_compare_runs_takes_compare_bars_groups_and_many_configurations():
    grouped = {
        "dense": {"original": [0.95, 0.96], "permuted": [0.94, 0.95]},
        "TomiNet": {"original": [0.98, 0.99], "permuted": [0.95, 0.96]},
    }
    fig = plots.compare_runs(grouped, {("TomiNet", "permuted"): 0.95})
    (ax,) = fig.axes
    labels = [t.get_text().split("\n")[0] for t in ax.get_yticklabels()]
    assert labels == [
        "dense · original",
        "dense · permuted",
        "TomiNet · original",
        "TomiNet · permuted",
    ]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[-2:] == ["original", "permuted"]
    one = plots.compare_runs({"MNIST": {"best validation accuracy": [0.99, 0.98]}})
    assert one.axes[0].get_xlabel() == "best validation accuracy"
    many = plots.compare_runs({f"config {i}": [0.8 + i / 100] * 3 for i in range(12)})
    assert len(many.axes[0].get_yticks()) == 12
    assert many.get_figheight() > fig.get_figheight()  # a row each, never squeezed


def test_compare_runs_says_what_it_needs():
    with pytest.raises(ValueError, match="no scores to draw"):
        plots.compare_runs({})
    with pytest.raises(ValueError, match="unknown kind 'speed'"):
        plots.compare_runs({"a": [1.0]}, kind="speed")
    counts = plots.compare_runs({"a": [12.0, 14.0, 13.0]}, {"a": 9}, kind="count")
    assert (
        counts.axes[0].get_yticklabels()[0].get_text() == "a\n13 ± 1 (n=3), reported 9"
    )


# --- house style ----------------------------------------------------------------------
def _inside(fig, legend) -> bool:
    fig.canvas.draw()
    box, page = legend.get_window_extent(), fig.bbox
    return page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0


def test_legends_stay_inside_the_figure_however_long_their_labels():
    one = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}
    long = {f"convolutional net on embeddings of size {16 * i}": one for i in range(4)}
    fig = plots.plot_history(long, metrics=("loss",), figsize=(7, 4))
    (legend,) = fig.legends
    assert _inside(fig, legend) and len(legend.get_texts()) == 8
    fig = plots.compare_runs(
        {name: [0.9, 0.91] for name in long}, dict.fromkeys(long, 0.9)
    )
    assert _inside(fig, fig.axes[0].get_legend())
    fig = plots.compare_bars({"g": {name: [0.9, 0.91] for name in long}})
    assert _inside(fig, fig.axes[0].get_legend())


def test_no_figure_has_more_than_two_panels_a_row():
    one = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "mae": [3, 2], "val_mae": [4, 3]}
    one |= {"accuracy": [0.5, 0.6], "val_accuracy": [0.4, 0.5]}
    fig = plots.plot_history({"a": one}, metrics=("loss", "accuracy", "mae"))
    assert [ax.get_subplotspec().get_gridspec().ncols for ax in fig.axes] == [2, 2, 2]
    assert len(fig.axes) == 3 and fig.axes[2].get_ylabel() == "mean absolute error"
    fig, axes = plots.panel_grid(5, (8, 3))
    assert len(axes) == 5 and fig.get_size_inches().tolist() == [8, 9]


def test_a_spike_is_left_off_the_axis_and_noted_under_it():
    import numpy as np

    rng = np.random.default_rng(0)
    runs = [
        {"loss": list(1 / np.arange(1, 11) + 0.01 * rng.random(10))} for _ in range(3)
    ]
    runs[1]["loss"][4] = 6.4
    fig = plots.plot_history({"b": runs}, metrics=("loss",))
    (ax,) = fig.axes
    assert ax.get_ylim()[1] < 1.2  # the other points keep the axis
    (note,) = ax.texts
    assert note.get_text().replace("\n", " ") == (
        "1 point above the axis: 6.4 (b, train, epoch 5, run 2 of 3)"
    )
    fig.canvas.draw()
    assert note.get_window_extent().y1 <= ax.get_window_extent().y0  # off the data


def test_a_start_all_runs_share_is_no_spike():
    import numpy as np

    runs = [{"loss": [9.0] + list(np.linspace(0.5, 0.1, 9)) + [0.1]} for _ in range(3)]
    fig = plots.plot_history({"b": runs}, metrics=("loss",))
    (ax,) = fig.axes
    assert ax.get_ylim()[1] > 9.0 and len(ax.texts) == 0


def test_many_lines_get_distinct_colours_and_styles():
    looks = plots.distinct_styles(12)
    assert len(set(looks)) == 12 and looks[0][0] != looks[1][0]
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}
    fig = plots.plot_history(
        {f"run {i}": history for i in range(12)}, metrics=("loss",)
    )
    drawn = {
        (line.get_color(), line.get_marker(), line.get_linestyle())
        for line in fig.axes[0].get_lines()
    }
    assert len(drawn) == 24  # 12 runs x (train, validation)
