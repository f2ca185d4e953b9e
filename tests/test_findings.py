"""Findings computed from results: verdicts (rule 2, and rule 1 for stored tables),
the stored table, statements that must beat noise."""

import json
from pathlib import Path

import pytest

from helpers import findings

LABS = Path(__file__).resolve().parents[1] / "labs"
WIDE = [0.70, 0.90, 0.80]  # s = 0.1: one more run lies within 0.80 ± 0.50


def test_t_quantile_and_prediction_interval_match_known_values():
    assert findings.t_quantile(3) == pytest.approx(4.303, abs=5e-4)
    assert findings.t_quantile(5) == pytest.approx(2.776, abs=5e-4)
    assert "4.30 for *n* = 3, 2.78 for *n* = 5" in findings.RULE_TEXT
    mean, half = findings.prediction_interval(WIDE)
    assert mean == pytest.approx(0.8)
    assert half == pytest.approx(4.3027 * 0.1 * (4 / 3) ** 0.5, abs=1e-4)
    with pytest.raises(ValueError, match="at least 2 runs"):
        findings.prediction_interval([0.5])


@pytest.mark.parametrize("ours", [[0.95], [0.95, 0.951]])
def test_one_or_two_runs_are_never_reproduced(ours):
    assert findings.verdict(0.95, ours, rule=1) == "reproduced"  # what rule 1 said
    assert findings.verdict(0.95, ours) == "inconclusive (n < 3)"
    assert findings.verdict(0.95, ours, tolerance=1.0) == "inconclusive (n < 3)"
    assert findings.verdict(0.50, ours) == "inconclusive (n < 3)"  # no differs either


def test_a_wide_interval_is_inconclusive_and_says_how_wide():
    assert findings.verdict(0.80, WIDE, rule=1) == "reproduced"  # within 2 s
    assert findings.verdict(0.80, WIDE) == (
        "inconclusive (interval ± 0.5 wider than the tolerance ± 0.02)"
    )
    assert findings.verdict(0.80, WIDE, tolerance=0.6) == "reproduced"


@pytest.mark.parametrize(
    ("reported", "ours", "expected"),
    [
        (0.95, [0.9523, 0.9500, 0.9549], "reproduced"),  # inside, ± 0.0049
        (0.78, [0.85, 0.86, 0.84], "differs (higher)"),  # ours above, ± 0.05
        (0.92, [0.85, 0.86, 0.84], "differs (lower)"),
        (0.20, WIDE, "differs (higher)"),  # outside even a wide interval
        (1.40, WIDE, "differs (lower)"),
    ],
)
def test_inside_the_interval_reproduces_outside_differs(reported, ours, expected):
    assert findings.verdict(reported, ours) == expected


def test_derived_numbers_need_a_stated_tolerance_and_three_runs():
    ten = [10.0, 10.0, 10.0]
    assert findings.verdict(10, ten, kind="epoch") == "reproduced"  # not derived
    assert findings.verdict(10, ten, kind="epoch", derived=True) == (
        "inconclusive (derived: no tolerance stated)"
    )
    assert findings.verdict(10, ten[:2], kind="epoch", derived=True, tolerance=1) == (
        "inconclusive (n < 3)"
    )
    assert findings.verdict(10, ten, kind="epoch", derived=True, tolerance=1) == (
        "reproduced"
    )
    (row,) = findings.compare(
        [
            {
                "experiment": "epoch of the best",
                "reported": 10,
                "ours": ten,
                "kind": "epoch",
                "derived": True,
            }
        ]
    )
    assert row["tolerance"] is None and "stated in its unit" in row["tolerance_reason"]
    assert row["verdict"].startswith("inconclusive (derived")


def test_kinds_give_default_tolerances_with_reasons():
    assert findings.default_tolerance("accuracy", 0.9) == 0.02
    assert findings.default_tolerance("count", 100) == pytest.approx(20.0)
    assert findings.default_tolerance("count", 0) == 1.0
    errors = [91.0, 94.0, 79.0]
    (row,) = findings.compare(
        [{"experiment": "errors", "reported": 106, "ours": errors, "kind": "count"}]
    )
    assert row["tolerance"] == pytest.approx(2 * 106**0.5)
    assert "Poisson" in row["tolerance_reason"]
    assert (
        row["verdict"]
        == "inconclusive (interval ± 39.4 wider than the tolerance ± 20.6)"
    )
    for kind in findings.KINDS:
        assert kind in findings.RULE_TEXT and kind in findings.__doc__
    with pytest.raises(ValueError, match="unknown kind 'acc': use one of accuracy"):
        findings.compare(
            [{"experiment": "x", "reported": 1, "ours": [1], "kind": "acc"}]
        )


def test_counts_and_epochs_print_as_whole_numbers_or_one_decimal():
    assert findings.mean_std([14, 14, 14], kind="count") == "14 ± 0 (n=3)"
    assert findings.mean_std([9, 7, 10], kind="epoch") == "8.7 ± 1.5 (n=3)"
    assert findings.mean_std([14.0], kind="epoch") == "14 (n=1)"
    assert findings.mean_std([0.9712, 0.97, 0.9724], 3) == "0.971 ± 0.001 (n=3)"
    compared = findings.compare(
        [
            {
                "experiment": "errors",
                "reported": 106,
                "ours": [91, 94, 79],
                "kind": "count",
            }
        ]
    )
    table = findings.frame(compared, digits=4)
    assert table.loc["errors", "ours (mean ± std)"] == "88.0 ± 7.9 (n=3)"
    assert table.loc["errors", "difference"] == "-18"
    assert table.loc["errors", "tolerance"] == "± 20.6"


def test_not_comparable_keeps_its_reason_and_smoke_makes_every_row_so():
    assert findings.verdict(0.95, [0.95] * 3, not_comparable="CIFAR-10") == (
        "not comparable"
    )
    assert findings.verdict(None, [0.5, 0.5, 0.5]) == "not comparable"
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
    assert rows[0]["verdict"] == "inconclusive (n < 3)"
    assert rows[1]["std"] is None and rows[1]["verdict"] == "not comparable"
    assert rows[1]["not_comparable"] == "reduced budget: 5 of 50 epochs"
    assert rows[1]["note"] == "reduced budget: 5 of 50 epochs; one seed"
    smoke = findings.compare(
        [{"experiment": "a", "reported": 0.9, "ours": [0.9] * 3}], profile="smoke"
    )
    assert smoke[0]["verdict"] == "not comparable" and "smoke" in smoke[0]["note"]
    with pytest.raises(ValueError, match="'ours' is empty"):
        findings.compare([{"experiment": "a", "reported": 0.9, "ours": []}])


def test_table_is_shown_and_stored_with_its_rule(monkeypatch):
    shown = []
    monkeypatch.setattr(
        "IPython.display.publish_display_data",
        lambda data, metadata=None: shown.append((data, metadata)),
    )
    ours = [0.952, 0.95, 0.951]
    rows = [{"experiment": "dense", "report": "R3", "reported": 0.95, "ours": ours}]
    compared = findings.reported_vs_ours(rows, profile="cpu")
    ((data, metadata),) = shown
    assert "reproduced" in data["text/html"]
    assert "0.9510 ± 0.0010 (n=3)" in data["text/plain"]
    assert "0.9510 ± 0.005" in data["text/plain"]  # one more run, 95%
    stored = metadata[findings.METADATA_KEY]
    assert stored["profile"] == "cpu" and stored["rule"] == 2
    assert stored["results"] == compared and stored["results"][0]["ours"] == ours
    assert json.loads(json.dumps(stored)) == stored  # plain data, as the notebook keeps
    assert findings.mismatches(stored) == []
    tampered = {**stored, "results": [{**compared[0], "verdict": "differs (lower)"}]}
    assert findings.mismatches(tampered) == ["dense"]


def test_every_row_kind_recomputes_under_rule_2():
    compared = findings.compare(
        [
            {"experiment": "a", "reported": 0.95, "ours": [0.95, 0.951, 0.949]},
            {"experiment": "b", "reported": 0.5, "ours": WIDE},
            {"experiment": "c", "reported": 0.5, "ours": [0.9]},
            {"experiment": "d", "reported": 0.5, "ours": WIDE, "not_comparable": "x"},
            {"experiment": "e", "reported": 9, "ours": [9, 9, 9], "derived": True},
            {
                "experiment": "f",
                "reported": 1.2,
                "ours": [1.0, 1.01, 1.0],
                "kind": "loss",
            },
        ]
    )
    table = {"results": json.loads(json.dumps(compared)), "profile": "cpu", "rule": 2}
    assert findings.mismatches(table) == []
    assert [r["verdict"].split(" (")[0] for r in compared] == [
        "reproduced",
        "inconclusive",
        "inconclusive",
        "not comparable",
        "inconclusive",
        "differs",
    ]


def stored_tables():
    for path in sorted(LABS.glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            for output in cell.get("outputs", []):
                table = output.get("metadata", {}).get(findings.METADATA_KEY)
                if table:
                    yield path.stem, table


def test_the_verdicts_stored_in_the_labs_recompute_under_their_rule():
    """Today's stored tables are rule 1 (no "rule" key); re-executed ones, rule 2."""
    tables = [table for _, table in stored_tables()]
    assert len(tables) >= 5, "the labs' stored tables were not found"
    for lab, table in stored_tables():
        assert findings.mismatches(table) == [], lab
    compared = [
        (t, r) for t in tables for r in t["results"] if r["verdict"] != "not comparable"
    ]
    assert len(compared) >= 5  # numbers whose verdicts really were recomputed
    table, row = compared[0]
    flipped = {**table, "results": [{**row, "verdict": "differs (up)"}]}
    assert findings.mismatches(flipped) == [row["experiment"]]


def test_tally_counts_inconclusive_and_not_comparable_apart():
    compared = findings.compare(
        [
            {"experiment": "a", "reported": 0.9, "ours": [0.9, 0.9, 0.9]},
            {"experiment": "b", "reported": 0.8, "ours": [0.8, 0.801, 0.799]},
            {"experiment": "c", "reported": 0.5, "ours": [0.9, 0.9, 0.91]},
            {"experiment": "d", "reported": 0.5, "ours": [0.9]},
            {"experiment": "e", "reported": 0.5, "ours": WIDE},
        ]
        + [
            {"experiment": x, "reported": 0.5, "ours": [0.9], "not_comparable": "y"}
            for x in "fgh"
        ]
    )
    assert findings.tally(compared) == (
        "2 of 5 comparable numbers reproduced, 1 differs, 2 inconclusive; "
        "3 not comparable"
    )
    assert findings.tally(compared[:2]) == "2 of 2 comparable numbers reproduced"
    assert findings.decision_tally([True, False, None, True], "R4") == (
        "decided as R4 at 2 of 3 decided steps; 1 undecided"
    )
    assert (
        findings.decision_tally([True], "R4") == "decided as R4 at 1 of 1 decided steps"
    )


CLEAR = ([0.95, 0.951, 0.949], [0.98, 0.981, 0.979])
# 2.1 standard deviations apart: rule 1's "twice the larger std", not Welch's 95%
NEAR = ([0.90, 0.91, 0.92], [0.921, 0.931, 0.941])


def test_separated_means_welch_says_the_means_differ():
    assert findings.separated(*CLEAR)
    assert findings.welch_p(*CLEAR) < 0.001
    assert 0.05 < findings.welch_p(*NEAR) < 0.1 and not findings.separated(*NEAR)
    assert not findings.separated([0.95, 0.951], [0.98, 0.981])  # two runs each
    assert not findings.separated([0.5], [0.9, 0.91, 0.92])
    assert findings.separated([1, 1, 1], [2, 2, 2])  # no noise: any gap is real
    assert not findings.separated([1, 1, 1], [1, 1, 1])


def test_welch_with_one_constant_sample_is_scipys_test_without_a_warning():
    import warnings

    from scipy import stats

    constant, varied = [2.0, 2.0, 2.0], [5.0, 4.0, 3.0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p = findings.welch_p(constant, varied)
    assert caught == []  # a stored page shows no scipy precision warning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = stats.ttest_ind(constant, varied, equal_var=False).pvalue
    assert p == pytest.approx(expected) and 0.05 < p < 0.1


def test_spread_says_beyond_noise_tie_or_undecided():
    assert findings.spread(*CLEAR) == (
        "beyond noise (Welch's t-test, p < 0.001, n = 3 and 3)"
    )
    assert findings.spread(*NEAR).startswith(
        "a tie within noise (Welch's t-test, p = 0.0"
    )
    assert findings.spread([0.5, 0.6], [0.9, 0.91, 0.92]) == (
        "undecided: Welch's t-test needs 3 runs each (n = 2 and 3)"
    )


def test_leader_only_when_first_beats_the_runner_up():
    scores = {"dense": CLEAR[0], "conv": CLEAR[1], "tiny": [0.5, 0.5, 0.51]}
    assert findings.ranking(scores) == ["conv", "dense", "tiny"]
    assert findings.ranking(scores, higher_is_better=False) == ["tiny", "dense", "conv"]
    assert findings.leader(scores) == "conv"
    assert findings.first_place(scores).startswith(
        "**conv** ranks first, ahead of dense beyond noise"
    )
    tie = {"dense": NEAR[0], "conv": NEAR[1]}
    assert findings.ranking(tie)[0] == "conv" and findings.leader(tie) is None
    assert findings.first_place(tie).startswith(
        "no first place: conv vs dense, a tie within noise"
    )
    assert findings.leader({"a": [0.9], "b": [0.1]}) is None  # one run each
    assert findings.leader(tie, higher_is_better=False) is None
