"""Whether a lab's stored outputs can be trusted: executed, stamped, not stale, not
edited since the run, with the Colab cell of ``_config.yml``'s repository; and notes
worth knowing."""

from __future__ import annotations

from .colab import colab_cell_source
from .notebooks import METADATA_KEY, code_hash, lab_paths, notebook_paths, read
from .stamp import helpers_hash, outputs_hash
from .timing import format_time_split, time_split


def problems(path) -> list[str]:
    """Why the stored outputs of the notebook at ``path`` cannot be trusted (empty if
    they can)."""
    nb = read(path)
    found = []
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    unexecuted = sum(1 for c in code if c.get("execution_count") is None)
    if unexecuted:
        found.append(f"{unexecuted} of {len(code)} code cells were never executed")
    errors = [
        o.get("ename", "?")
        for c in code
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    if errors:
        found.append(f"stored outputs contain errors: {', '.join(errors)}")
    record = nb.metadata.get(METADATA_KEY)
    if not record:
        found.append(
            "no provenance in the metadata (execute it with `python -m machinery run`)"
        )
    elif record.get("code_sha256") != code_hash(nb):
        found.append(
            "stale outputs: the code cells changed since the notebook was executed"
        )
    stamped_outputs = (record or {}).get("outputs_sha256")
    if stamped_outputs and stamped_outputs != outputs_hash(nb):
        found.append(
            "outputs edited after the run: they no longer match the stamp's outputs "
            "SHA-256 (re-execute it with `python -m machinery run`)"
        )
    if not code or code[0].source != colab_cell_source():
        found.append(
            "the first code cell is not the Colab cell of _config.yml's repository "
            "(run `python -m machinery sync-colab`)"
        )
    return found


def notes(path) -> list[str]:
    """What is worth knowing about the stored outputs without making them untrustworthy:
    the helpers changed since they were made, or their stamp predates helpers hashes
    or output hashes."""
    record = read(path).metadata.get(METADATA_KEY)
    if not record:
        return []  # a problem, reported by problems()
    found = []
    stamped, now = record.get("helpers_sha256"), helpers_hash()
    if not stamped:
        found.append(
            "the stamp has no helpers hash (executed before helpers were stamped)"
        )
    elif stamped != now:
        found.append(
            f"the helpers changed since it was executed (stamped `{stamped[:12]}`, "
            f"now `{now[:12]}`): re-executing it may change its numbers"
        )
    if "outputs_sha256" not in record:
        found.append(
            "stamped before output hashes; re-execute to make it tamper-evident"
        )
    return found


def check_command(args) -> int:
    """``check``: print each lab's problems and notes (and, asked, where its time
    went); 1 if any lab has a problem."""
    bad = 0
    for path in notebook_paths(args.notebooks) if args.notebooks else lab_paths():
        for problem in problems(path):
            print(f"{path}: {problem}")
            bad += 1
        for note in notes(path):
            print(f"{path}: note: {note}")
        if args.times:
            nb = read(path)
            record = nb.metadata.get(METADATA_KEY) or {}
            split = record.get("time_split_s") or time_split(nb)
            print(f"Where the time went in {path}:")
            print(format_time_split(split, record.get("wall_time_s")))
    return 1 if bad else 0
