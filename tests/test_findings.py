"""Findings computed from results: verdicts, the stored table, statements."""

import pytest

from helpers import findings


@pytest.mark.parametrize(
    ("reported", "ours", "expected"),
    [
        (0.95, [0.9523, 0.9500, 0.9549], "reproduced"),  # within the tolerance
        (0.90, [0.95, 0.96, 0.94], "differs (higher)"),  # 5 points above, spread 0.01
        (0.98, [0.90], "differs (lower)"),  # one run: the tolerance alone decides
        (0.80, [0.70, 0.90, 0.80], "reproduced"),  # within two standard deviations
        (0.80, [0.80, 0.80], "reproduced"),
    ],
)
def test_verdict_rule(reported, ours, expected):
    assert findings.verdict(reported, ours) == expected


def test_a_stated_tolerance_or_reason_overrides_the_default():
    assert findings.verdict(0.95, [0.97], tolerance=0.03) == "reproduced"
    assert findings.verdict(0.95, [0.97], tolerance=0.001) == "differs (higher)"
    assert findings.verdict(0.95, [0.95], not_comparable="CIFAR-10 for CIFAR-100") == (
        "not comparable"
    )
    assert findings.verdict(None, [0.5]) == "not comparable"


def test_compare_keeps_the_numbers_and_says_why_not_comparable():
    rows = findings.compare(
        [
            {"experiment": "a", "report": "R3", "reported": 0.9, "ours": [0.9, 0.92]},
            {
                "experiment": "b",
                "reported": 0.5,
                "ours": [0.4],
                "not_comparable": "reduced budget: 5 of 50 epochs",
                "note": "one seed",
            },
        ]
    )
    assert rows[0]["n"] == 2 and rows[0]["std"] == pytest.approx(0.0141, abs=1e-4)
    assert rows[0]["verdict"] == "reproduced"
    assert rows[1]["std"] is None and rows[1]["verdict"] == "not comparable"
    assert rows[1]["note"] == "reduced budget: 5 of 50 epochs; one seed"
    smoke = findings.compare(
        [{"experiment": "a", "reported": 0.9, "ours": [0.9]}], profile="smoke"
    )
    assert smoke[0]["verdict"] == "not comparable" and "smoke" in smoke[0]["note"]


def test_table_is_shown_and_stored_machine_readably(monkeypatch):
    shown = []
    monkeypatch.setattr(
        "IPython.display.publish_display_data",
        lambda data, metadata=None: shown.append((data, metadata)),
    )
    rows = [
        {"experiment": "dense", "report": "R3", "reported": 0.95, "ours": [0.952, 0.95]}
    ]
    compared = findings.reported_vs_ours(rows, profile="cpu")
    ((data, metadata),) = shown
    assert (
        "reproduced" in data["text/html"]
        and "0.9510 ± 0.0014 (n=2)" in data["text/plain"]
    )
    stored = metadata[findings.METADATA_KEY]
    assert stored["profile"] == "cpu" and stored["results"] == compared
    assert stored["results"][0]["ours"] == [0.952, 0.95]


def test_statements_come_from_the_numbers():
    compared = findings.compare(
        [
            {"experiment": "a", "reported": 0.9, "ours": [0.9]},
            {"experiment": "b", "reported": 0.5, "ours": [0.9]},
            {"experiment": "c", "reported": 0.5, "ours": [0.9], "not_comparable": "x"},
        ]
    )
    assert findings.tally(compared) == (
        "1 of 2 comparable numbers reproduced, 1 differs, 1 not comparable"
    )
    scores = {"dense": [0.95, 0.96], "conv": [0.98, 0.99]}
    assert findings.ranking(scores) == ["conv", "dense"]
    assert findings.ranking(scores, higher_is_better=False) == ["dense", "conv"]
    assert findings.separated([0.95, 0.951, 0.949], [0.98, 0.981, 0.979])
    assert not findings.separated([0.95, 0.99], [0.96, 0.98])
    assert not findings.separated([0.5], [0.9])  # one run each: never an effect
