"""Whether a lab's stored outputs can be trusted: executed, stamped, not stale, not
edited since the run, with the Colab cell of ``_config.yml``'s repository; and notes
worth knowing."""

from __future__ import annotations

from . import MachineryError
from .colab import colab_cell_source
from .notebooks import METADATA_KEY, code_hash, lab_paths, notebook_files, read
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
    went); a notebook that cannot be checked (no notebook, a malformed stamp) is one
    line and the others are still checked; 1 if any lab has a problem."""
    bad = 0
    for path in notebook_files(args.notebooks) if args.notebooks else lab_paths():
        try:
            found = _report(path, args.times)
        except Exception as e:  # one broken notebook does not hide the others
            found = 1
            print(f"{path}: cannot be checked: {_broken(e, path)}")
        bad += found
    return 1 if bad else 0


def _report(path, times: bool) -> int:
    """Print the problems and notes of the notebook at ``path`` (and, asked, where
    its time went); return how many problems."""
    found = problems(path)
    for problem in found:
        print(f"{path}: {problem}")
    for note in notes(path):
        print(f"{path}: note: {note}")
    if times:
        nb = read(path)
        record = nb.metadata.get(METADATA_KEY) or {}
        split = record.get("time_split_s") or time_split(nb)
        print(f"Where the time went in {path}:")
        print(format_time_split(split, record.get("wall_time_s")))
    return len(found)


def _broken(error: Exception, path) -> str:
    """One line on why the notebook at ``path`` could not be checked."""
    if isinstance(error, MachineryError):
        text = str(error).splitlines()[0].removeprefix(f"{path}: ")
        return (
            "it " + text.removeprefix(f"{path} ")
            if text.startswith(f"{path} ")
            else text
        )
    first = (str(error).strip().splitlines() or [""])[0]
    what = f"{type(error).__name__}: {first}" if first else type(error).__name__
    return (
        f"its cells or provenance stamp are malformed ({what}); re-execute it with "
        "`python -m machinery run`"
    )
