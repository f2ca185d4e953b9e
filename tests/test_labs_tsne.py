"""The t-SNE lab's rankings: an order is only read where the seeds separate it."""

from helpers.labs.tsne import order_held, ranked

APART = {"a": [0.90, 0.91, 0.92], "b": [0.80, 0.81, 0.82], "c": [0.79, 0.83, 0.80]}


def test_ranked_marks_separated_steps_and_ties_within_noise():
    assert ranked(APART) == "a > b ≈ c (tie within noise)"


def test_ranked_with_lower_is_better_puts_the_smallest_first():
    errors = {"x": [40, 42, 44], "y": [10, 11, 12]}
    assert ranked(errors, higher_is_better=False) == "y > x"


def test_ranked_with_fewer_than_three_seeds_decides_nothing():
    assert ranked({"a": [0.9], "b": [0.1]}) == "a ? b (undecided: n < 3)"


def test_order_held_counts_the_steps_that_hold_and_names_ties_and_reversals():
    assert order_held(APART, ["b", "a", "c"]) == (
        "holds beyond noise at 1 of 2 steps; reversed beyond noise: b vs a"
    )
    assert order_held(APART, ["a", "b", "c"]) == (
        "holds beyond noise at 1 of 2 steps; tie within noise: b vs c"
    )
