"""The permuted-MNIST lab's measures (helpers/labs/permuted_mnist.py)."""

from helpers.labs import permuted_mnist as lab


def test_epochs_to_converge_is_the_first_epoch_near_the_last_value():
    history = {"val_accuracy": [0.80, 0.90, 0.95, 0.965, 0.97]}
    assert lab.epochs_to_converge(history) == 4  # 0.965 >= 0.99 * 0.97 > 0.95
    assert lab.epochs_to_converge(history, fraction=0.9) == 2
    assert lab.epochs_to_converge({"val_accuracy": [0.5]}) == 1


def test_epochs_to_converge_takes_the_first_crossing_not_the_last():
    history = {"val_accuracy": [0.97, 0.90, 0.96]}
    assert lab.epochs_to_converge(history) == 1


def test_end_gap_is_training_minus_validation_at_the_last_epoch():
    history = {"accuracy": [0.5, 0.99], "val_accuracy": [0.6, 0.95]}
    assert abs(lab.end_gap(history) - 0.04) < 1e-12
    assert lab.end_gap({"accuracy": [0.9], "val_accuracy": [0.92]}) < 0


def test_at_chance_flags_only_nets_under_twice_chance():
    accuracy = {"a": {"x": [0.11, 0.09, 0.10], "y": [0.95, 0.96]}, "b": {"x": [0.5]}}
    assert lab.nets_at_chance(accuracy) == ["a, x"]
    assert lab.at_chance([0.15]) and not lab.at_chance([0.25])


def test_claim_verdicts_follow_welch_at_95_percent():
    high, low = [0.98, 0.981, 0.979], [0.95, 0.951, 0.949]
    assert lab.claim_verdict(high, low) == "agrees"
    assert lab.claim_verdict(low, high) == "contradicts"
    assert (
        lab.claim_verdict([0.95, 0.97, 0.96], [0.96, 0.95, 0.97]) == "tie within noise"
    )
    assert lab.claim_verdict([0.98, 0.97], low) == "undecided"
    assert lab.no_change_verdict([0.95, 0.97, 0.96], [0.96, 0.95, 0.97]) == "agrees"
    assert lab.no_change_verdict(high, low) == "contradicts"


def test_claim_line_names_the_report_the_verdict_and_the_test():
    line = lab.claim_line("A beats B", [3, 3.1, 2.9], [1, 1.1, 0.9])
    assert line.startswith("- R3: A beats B: **agrees with R3** (beyond noise")
    assert "n = 3 and 3" in line
    tie = lab.claim_line("alike", [1, 2, 3], [2, 1, 3], alike=True, report="R4")
    assert "**agrees with R4** (a tie within noise" in tie
