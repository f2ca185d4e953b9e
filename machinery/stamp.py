"""The provenance stamp: the record of a run stored in the notebook's metadata, the
hash of the helpers it ran with, and the note under the page's title."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os

from .environment import device_name, keras_backend, library_versions
from .notebooks import METADATA_KEY, ROOT, code_hash
from .timing import duration, time_split

PROVENANCE_TAG = "provenance"  # the tag of the note cell under the title


def helpers_hash() -> str:
    """SHA-256 over the source of every module in ``helpers/``, subpackages included
    (names and contents, sorted).

    It changes whenever the code the labs call changes: stamped with each run, and the
    key of caches of results computed by that code.
    """
    digest = hashlib.sha256()
    helpers = ROOT / "helpers"
    for module in sorted(helpers.rglob("*.py")):
        name = module.relative_to(helpers).as_posix()
        digest.update(name.encode() + b"\0" + module.read_bytes() + b"\0")
    return digest.hexdigest()


def _joined(value, mime: str = ""):
    """A multiline field as one string (a notebook file may store it as a list of
    lines); JSON data stays as it is."""
    is_lines = isinstance(value, list) and all(isinstance(v, str) for v in value)
    return "".join(value) if is_lines and not mime.endswith("json") else value


def _canonical(output) -> dict:
    """One output with its multiline fields joined, whatever way they were stored."""
    output = dict(output)
    if "text" in output:
        output["text"] = _joined(output["text"])
    if "data" in output:
        output["data"] = {m: _joined(v, m) for m, v in output["data"].items()}
    return output


def outputs_hash(nb) -> str:
    """SHA-256 over the outputs of every code cell that has some, as canonical JSON
    (sorted keys, lines joined): changes when any stored output changes, not when a
    cell without outputs is added (a new Colab cell)."""
    outputs = [
        [_canonical(o) for o in c["outputs"]]
        for c in nb.cells
        if c.cell_type == "code" and c.get("outputs")
    ]
    text = json.dumps(
        outputs, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()


def describe(
    nb,
    profile: str,
    seconds: float,
    helpers_sha256: str = "",
    files=(),
    threads: int | None = None,
    at_once: int = 1,
    fonts=(),
) -> dict:
    """The provenance record stored in the notebook's metadata; ``threads`` and
    ``at_once``: the kernel's thread cap and how many labs ran at the same time;
    ``fonts``: the font families it drew letters from (recorded if any)."""
    record = {
        "profile": profile,
        "device": device_name(),
        "keras_backend": keras_backend(),
        "versions": library_versions(),
        "wall_time_s": round(seconds, 1),
        "labs_at_once": at_once,
        "threads": threads or os.cpu_count(),
        "time_split_s": time_split(nb),
        "executed_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "code_sha256": code_hash(nb),
        "helpers_sha256": helpers_sha256,
        "data_files": list(files),
    }
    if fonts:
        record["fonts"] = list(fonts)
    return record


def provenance_note(record: dict) -> str:
    """One readable paragraph of a provenance record, for the page."""
    v = record["versions"]
    libs = ", ".join(
        f"{name} {v[name]}"
        for name in ("keras", "tensorflow", "tensorflow-cpu", "torch", "numpy")
        if name in v
    )
    phases = record.get("time_split_s", {}).get("phases", {})
    shares = ", ".join(
        f"{name} {100 * s / record['wall_time_s']:.0f}%"
        for name, s in sorted(phases.items(), key=lambda kv: -kv[1])
        if s >= record["wall_time_s"] / 200
    )
    n = len(record.get("data_files", []))
    at_once, threads = record.get("labs_at_once", 1), record.get("threads")
    shared = (
        f", {at_once} labs at a time, {threads} thread{'s' * (threads != 1)} each"
        if at_once > 1
        else ""
    )
    return (
        f"**Provenance.** Executed in the `{record['profile']}` profile on "
        f"{record['device']}, Keras backend `{record['keras_backend']}` "
        f"(Python {v['python']}, {libs}); wall time {duration(record['wall_time_s'])}"
        + (f" ({shares})" if shares else "")
        + shared
        + f"; {record['executed_at'][:10]}; code cells SHA-256 "
        f"`{record['code_sha256'][:12]}`, helpers SHA-256 "
        f"`{record.get('helpers_sha256', '?')[:12]}`"
        + (
            f", outputs SHA-256 `{record['outputs_sha256'][:12]}`"
            if "outputs_sha256" in record
            else ""
        )
        + f"; {n} data file{'s' * (n != 1)} "
        "read, each checked against its SHA-256 (listed in the notebook's metadata). "
        "Every number and figure below comes from this run."
    )


def stamp(nb, record: dict) -> None:
    """Store ``record`` in the metadata, with the hash of the outputs as they are now
    (``outputs_sha256``: what ``check`` compares), and (re)write the provenance note
    under the title."""
    import nbformat

    record["outputs_sha256"] = outputs_hash(nb)
    nb.metadata[METADATA_KEY] = record
    nb.cells = [c for c in nb.cells if PROVENANCE_TAG not in c.metadata.get("tags", [])]
    note = nbformat.v4.new_markdown_cell(
        "> " + provenance_note(record), metadata={"tags": [PROVENANCE_TAG]}
    )
    nb.cells.insert(1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0, note)
