"""The shared figures and the reported-vs-ours table."""
import matplotlib

matplotlib.use("Agg")

from helpers import plots  # noqa: E402


def test_mean_std_uses_the_sample_std():
    assert plots.mean_std([0.9, 0.92, 0.94]) == "0.9200 ± 0.0200 (n=3)"
    assert plots.mean_std([0.5]) == "0.5000 (n=1)"


def test_reported_vs_ours_puts_numbers_side_by_side():
    table = plots.reported_vs_ours([
        {"experiment": "conv", "report": "R3", "reported": 0.98, "ours": [0.99, 0.99, 0.99]},
        {"experiment": "new", "report": "", "reported": None, "ours": [0.5, 0.7], "note": "CIFAR-10 for CIFAR-100"},
    ])
    assert table.loc["conv", "reported"] == "0.98"
    assert table.loc["conv", "difference"] == "+0.0100"
    assert table.loc["new", "ours (mean ± std)"].startswith("0.6000 ± 0.1414")
    assert table.loc["new", "note"] == "CIFAR-10 for CIFAR-100"


def test_plot_history_draws_train_and_validation_with_labelled_axes():
    one = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7]}
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
