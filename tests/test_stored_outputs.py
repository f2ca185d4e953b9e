"""The guard on what the book shows: every lab executed in full, stamped, and not stale."""
import pytest

from helpers import provenance

LABS = provenance.lab_paths()


def test_there_are_labs():
    assert LABS, "no notebooks in labs/"


@pytest.mark.parametrize("lab", LABS, ids=[p.stem for p in LABS])
def test_stored_outputs_match_the_code(lab):
    assert provenance.problems(lab) == []


@pytest.mark.parametrize("lab", LABS, ids=[p.stem for p in LABS])
def test_stored_outputs_come_from_a_full_run(lab):
    record = provenance.read(lab).metadata["provenance"]
    assert record["profile"] == "full", f"{lab.name} was executed in the {record['profile']} profile"
