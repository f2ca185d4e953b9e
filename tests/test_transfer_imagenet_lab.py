"""The ImageNet-transfer lab's analyses: the collapse rule, the table and words of
unfreezing, the SVM over re-drawn splits, parameters by layer; and the flat-curve
rule of findings."""

import numpy as np
import pytest
from torch import nn

from helpers import findings
from helpers.labs import ants_vs_bees, transfer_imagenet
from helpers.train import Run


def run(seed, val, test):
    return Run(seed, {"val_accuracy": list(val)}, {"accuracy": test})


def test_a_seed_that_lost_most_of_its_lead_over_chance_collapsed():
    frozen = run(0, [0.5, 0.7], 0.7)  # 0.5 above chance 0.2
    assert transfer_imagenet.collapsed(frozen, run(0, [0.5, 0.27], 0.27), 0.2)
    assert not transfer_imagenet.collapsed(frozen, run(0, [0.5, 0.6], 0.6), 0.2)


def test_unfreezing_words_count_falls_and_collapses_per_rate():
    frozen = [run(s, [0.7], 0.70 + s / 100) for s in range(3)]
    unfrozen = {
        "fast": [
            run(0, [0.5, 0.6], 0.6),
            run(1, [0.4, 0.25], 0.25),
            run(2, [0.6, 0.5], 0.5),
        ],
        "slow": [run(s, [0.72, 0.74], 0.75 + s / 100) for s in range(3)],
    }
    table = transfer_imagenet.unfreezing_table(frozen, unfrozen, chance=0.2)
    assert list(table.columns) == ["frozen", "epoch 1", "epoch 2", "test", "collapsed"]
    assert table["collapsed"].tolist() == [False, True, False, False, False, False]
    words = transfer_imagenet.unfreezing_findings(table, [0.70, 0.71, 0.72])
    fast, slow = words.splitlines()
    assert "in 3 of 3 seeds and ended below it in 3; 1 of 3 collapsed" in fast
    assert "below the frozen net's" in fast
    assert "in 0 of 3 seeds and ended below it in 0; 0 of 3 collapsed" in slow
    assert "above the frozen net's" in slow and "beyond noise" in slow


def test_the_svm_over_splits_varies_with_the_split_and_keeps_the_sizes():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 40)
    features = rng.normal(size=(80, 5)) + labels[:, None]
    rep = ants_vs_bees.Representation(
        features[:50], labels[:50], features[50:], labels[50:], 0.0, "test"
    )
    settings = ants_vs_bees.two_class_settings("smoke")
    scores = transfer_imagenet.svm_over_splits(rep, [0, 1, 2], settings)
    assert len(scores) == 3 and len(set(scores)) > 1
    assert all(0.5 < s <= 1 for s in scores)
    # one more seed changes nothing before it
    assert transfer_imagenet.svm_over_splits(rep, [0], settings) == scores[:1]
    assert all(round(s * 30) == s * 30 for s in scores)  # scored on 30 photos


def test_parameters_by_layer_sum_to_the_whole_largest_first():
    net = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 2))
    table = transfer_imagenet.parameters_by_layer(net)
    assert table["parameters"].tolist() == [220, 42]
    assert table.index[0] == "0 (Linear)"
    assert table["share"].sum() == pytest.approx(1, abs=0.01)


def test_a_curve_still_rising_in_its_last_fifth_is_not_flat():
    rising = {"val_accuracy": list(np.linspace(0.5, 0.8, 20))}
    flat = {"val_accuracy": [0.5] * 10 + [0.8] * 10}
    gain, is_flat = findings.plateau([rising, rising])
    assert not is_flat and gain == pytest.approx(0.3 / 19 * 4)
    assert findings.plateau([flat]) == (0.0, True)
