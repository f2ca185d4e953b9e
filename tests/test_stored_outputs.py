"""The guard on what the book shows: every lab executed in full, stamped, and
not stale."""

import pytest

from machinery import check, notebooks

LABS = notebooks.lab_paths()


@pytest.mark.parametrize("lab", LABS, ids=[p.stem for p in LABS])
def test_stored_outputs_match_the_code(lab):
    assert check.problems(lab) == []


@pytest.mark.parametrize("lab", LABS, ids=[p.stem for p in LABS])
def test_stored_outputs_come_from_a_cpu_or_full_run(lab):
    record = notebooks.read(lab).metadata["provenance"]
    assert record["profile"] in ("cpu", "full"), f"{lab.name}: {record['profile']} run"


@pytest.mark.parametrize("lab", LABS, ids=[p.stem for p in LABS])
def test_a_page_made_on_a_cpu_says_cpu(lab):
    record = notebooks.read(lab).metadata["provenance"]
    on_cpu = record["device"].startswith("CPU")
    assert not (on_cpu and record["profile"] == "full"), (
        f"{lab.name} ran on a CPU but is stamped `full`: execute it with --profile cpu"
    )


@pytest.mark.parametrize("lab", LABS, ids=[p.stem for p in LABS])
def test_helpers_are_imported_before_any_framework(lab):
    """Importing helpers first is what prevents the TensorFlow-then-triton
    crash (helpers/__init__)."""
    import re

    code = "\n".join(notebooks.code_sources(notebooks.read(lab)))
    first = {
        name: m.start()
        for name in ("helpers", "keras", "tensorflow", "torch", "jax")
        if (m := re.search(rf"^\s*(from|import) {name}\b", code, re.M))
    }
    assert "helpers" in first, f"{lab.name} never imports the helpers"
    assert first["helpers"] == min(first.values()), (
        f"{lab.name} imports a framework before the helpers"
    )


@pytest.mark.parametrize("lab", LABS, ids=[p.stem for p in LABS])
def test_labs_stay_backend_neutral(lab):
    import re

    code = "\n".join(notebooks.code_sources(notebooks.read(lab)))
    assert not re.search(r"\b(import tensorflow|from tensorflow|tf\.)", code), (
        f"{lab.name} uses TensorFlow directly"
    )
