"""The shared figures: learning curves, bars, image grids, confusion matrices."""

import matplotlib

matplotlib.use("Agg")

from helpers import plots  # noqa: E402


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


def test_bars_start_at_zero_mark_the_reported_value_and_keep_the_legend_off_the_bars():
    fig = plots.compare_bars(
        {"dense": {"orig": [0.95, 0.96], "perm": [0.94, 0.95]}},
        reported={("dense", "orig"): 0.95},
    )
    (ax,) = fig.axes
    assert ax.get_ylim()[0] == 0.0
    (mark,) = [c for c in ax.collections if c.get_label() == "reported"]
    assert mark.get_segments()[0][0][1] == 0.95
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["reported", "orig", "perm"]
    fig.canvas.draw()
    box = legend.get_window_extent()
    assert box.y1 <= ax.get_window_extent().y0  # under the axes, not over the bars


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
