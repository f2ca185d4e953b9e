"""The filter-visualisation lab's verdicts (helpers.labs.filter_visualisation): when a
climb converged, stalled flat or is still rising, and where a change gathers."""

import numpy as np

from helpers.labs import filter_visualisation as fv

T = np.linspace(0, 1, 51)[:, None]


def test_a_flat_curve_near_zero_is_stalled_and_a_risen_then_flat_one_converged():
    values = np.hstack(
        [
            0.001 + 0.0005 * (1 - np.exp(-10 * T)),  # barely rose, then flat
            1 - np.exp(-10 * T),  # rose, then levelled off
            0.8 * (1 - np.exp(-8 * T)),  # the same, a little lower
            T,  # steady climb
        ]
    )
    assert list(fv.climb_status(values)) == [
        fv.STALLED,
        fv.CONVERGED,
        fv.CONVERGED,
        fv.RISING,
    ]
    # the old rule alone called the flat one converged: the margin is what changed
    assert fv.convergence(values)[0] == fv.CONVERGED
    assert fv.status_counts(fv.climb_status(values)) == (
        "2 converged, 1 stalled flat, 1 still rising"
    )


def test_the_margin_is_measured_within_each_group_and_no_rise_is_stalled():
    small = 0.01 * (1 - np.exp(-10 * T))  # a small rise, levelled off
    large = 1 - np.exp(-10 * T)
    values = np.hstack([small, small, large, large, large])
    # alone with its like, a small climb is typical; beside large ones, it stalled
    status = fv.climb_status(values, groups=["a", "a", "b", "b", "b"])
    assert list(status) == [fv.CONVERGED] * 5
    status = fv.climb_status(values)
    assert list(status) == [fv.STALLED] * 2 + [fv.CONVERGED] * 3
    # a margin of zero leaves stalled only the climbs that did not rise at all
    values = np.hstack([small, np.zeros_like(T), -T, large])
    assert list(fv.climb_status(values, margin=0)) == [
        fv.CONVERGED,
        fv.STALLED,
        fv.STALLED,
        fv.CONVERGED,
    ]


def test_centre_share_is_a_quarter_for_an_even_change_and_one_for_a_central_one():
    even = np.ones((1, 8, 8, 3))
    central = np.zeros((1, 8, 8, 3))
    central[:, 3:5, 3:5] = 1
    assert fv.centre_share(even)[0] == 0.25
    assert fv.centre_share(central)[0] == 1.0


def test_centre_verdict_needs_the_whole_interval_on_one_side_and_three_filters():
    assert fv.centre_verdict([0.6, 0.62, 0.61], 0.375) == "centre"
    assert fv.centre_verdict([0.25, 0.26, 0.24], 0.375) == "whole image"
    assert fv.centre_verdict([0.2, 0.6, 0.4], 0.375) == "undecided"
    assert fv.centre_verdict([0.6, 0.62], 0.375) == "undecided"
