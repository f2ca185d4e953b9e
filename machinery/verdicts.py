"""The reported-vs-ours tables the labs stored, checked and read again: whole (no
malformed table), untampered (every stored verdict recomputes under the rule it was
stored with) and every row's verdict under the current rule, each reported number
once.

A lab is a mapping with ``name``, ``title`` and ``tables`` (see
:func:`machinery.summary.book_labs`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from numbers import Real

from helpers import findings

from . import MachineryError

# How a row stored under rule 1 (no kind, no reason apart from its note) is read under
# the current rule; the summary page prints it.
RULE1_READING = (
    "**Rows stored under rule 1** carry no kind and no reason of their own, so they "
    "are read this way: a row whose values are all whole numbers, the largest above "
    "1, is a *count* when its experiment names errors and an *epoch* (a derived "
    "number) when it names an epoch; else a *loss* when it names a loss, else an "
    "*accuracy*. Its stored tolerance is the lab's own unless it is rule 1's default "
    f"{findings.DEFAULT_TOLERANCE:g} or 0 (rule 1's *the seeds' spread alone*, "
    "which rule 2's interval already is): then the kind's. A row stored *not "
    "comparable* stays so, its note being its reason."
)

DUPLICATES = (
    "**A reported number compared by two labs** (the same report and value, the same "
    "kind) is shown and counted once, in the first lab of the book that stores it; "
    "its row says where else it was computed."
)


def _row_faults(row, where: str) -> list[str]:
    """What makes one stored row unreadable."""
    if not isinstance(row, Mapping):
        return [f"{where} is not a mapping but {type(row).__name__}"]
    name = f"{where} ({row['experiment']!r})" if "experiment" in row else where
    missing = [
        key for key in ("experiment", "reported", "ours", "verdict") if key not in row
    ]
    if missing:
        return [f"{name} has no {', '.join(repr(k) for k in missing)}"]
    ours, tolerance = row["ours"], row.get("tolerance")
    wrong = {
        "'ours' is not a list of numbers": not (
            isinstance(ours, list) and ours and all(_is_number(v) for v in ours)
        ),
        "'reported' is neither a number nor null": row["reported"] is not None
        and not _is_number(row["reported"]),
        "'experiment' or 'verdict' is not text": not isinstance(row["experiment"], str)
        or not isinstance(row["verdict"], str),
        f"'kind' is none of {', '.join(findings.KINDS)}": str(
            row.get("kind", "accuracy")
        )
        not in findings.KINDS,
        "'tolerance' is not a number of 0 or more": tolerance is not None
        and not (_is_number(tolerance) and tolerance >= 0),
    }
    return [f"{name}: {what}" for what, bad in wrong.items() if bad][:1]


def _is_number(value) -> bool:
    return (
        isinstance(value, Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def faults(tables: Sequence) -> list[str]:
    """Why the stored ``tables`` of one lab cannot be read (empty if they can)."""
    found = []
    for i, table in enumerate(tables, 1):
        where = f"stored table {i}"
        if not isinstance(table, Mapping):
            found.append(f"{where} is not a mapping but {type(table).__name__}")
        elif not isinstance(table.get("results"), list):
            found.append(f"{where} has no 'results' list")
        elif table.get("rule", 1) not in (1, findings.RULE):
            found.append(f"{where} has an unknown rule {table['rule']!r}")
        else:
            for j, row in enumerate(table["results"], 1):
                found += _row_faults(row, f"row {j} of {where}")
    return found


def tampered(tables: Sequence[Mapping]) -> list[str]:
    """The experiments of readable ``tables`` whose stored verdict does not follow from
    their stored values under the rule the table was stored with."""
    return [name for table in tables for name in findings.mismatches(table)]


def check(labs: Sequence[Mapping]) -> None:
    """Refuse (:class:`MachineryError`, a line per fault, each naming its lab) any lab
    whose stored tables are malformed or whose verdicts were edited."""
    lines = []
    for lab in labs:
        where = f"labs/{lab['name']}.ipynb"
        found = faults(lab["tables"])
        lines += [f"{where}: {fault}" for fault in found]
        if not found:
            lines += [
                f"{where}: the stored verdict of {name!r} does not follow from its "
                "stored values (edited after the run?): re-execute the lab"
                for name in tampered(lab["tables"])
            ]
    if lines:
        raise MachineryError(
            "the labs' stored tables cannot be summarised:\n  " + "\n  ".join(lines)
        )


def old_kind(row: Mapping) -> str:
    """The kind of a row stored under rule 1 (see :data:`RULE1_READING`)."""
    name = row["experiment"].lower()
    values = [float(v) for v in row["ours"]]
    values += [] if row["reported"] is None else [float(row["reported"])]
    if all(v.is_integer() for v in values) and max(values) > 1:
        if re.search(r"\berrors?\b", name):
            return "count"
        if re.search(r"\bepochs?\b", name):
            return "epoch"
    return "loss" if re.search(r"\bloss\b", name) else "accuracy"


def as_current(row: Mapping, rule: int) -> dict:
    """A stored row as the current rule reads it: a rule-2 row as it is, a rule-1 row
    with a kind, a tolerance and a reason (:data:`RULE1_READING`)."""
    if rule >= 2:
        return dict(row)
    kind = old_kind(row)
    tolerance = row.get("tolerance")
    if tolerance in (0, findings.DEFAULT_TOLERANCE):
        tolerance = None
    stored_nc = row["verdict"] == findings.NOT_COMPARABLE
    return {
        **row,
        "kind": kind,
        "derived": kind == "epoch",
        "tolerance": tolerance,
        "not_comparable": (row.get("note") or "stored as not comparable")
        if stored_nc
        else "",
    }


def current_rows(lab: Mapping) -> list[dict]:
    """Every row of a lab's (checked) tables, read under the current rule: each with
    its lab, ``stored_verdict`` and ``rule`` (the table's), ``verdict`` (now),
    ``tolerance`` (the one used; None for a derived row that states none) and
    ``half_width`` (of the 95% interval; None with one run)."""
    rows = []
    for table in lab["tables"]:
        rule = table.get("rule", 1)
        for stored in table["results"]:
            row = as_current(stored, rule)
            kind = row.get("kind", "accuracy")
            if row.get("tolerance") is None and row["reported"] is not None:
                derived = row.get("derived", False)
                default = findings.default_tolerance(kind, row["reported"])
                row["tolerance"] = None if derived else default
            n = len(row["ours"])
            row.update(
                lab=lab["name"],
                lab_title=lab["title"],
                rule=rule,
                kind=kind,
                stored_verdict=stored["verdict"],
                verdict=findings.recompute(row, findings.RULE),
                half_width=findings.prediction_interval(row["ours"])[1]
                if n > 1
                else None,
                also_in=[],
            )
            rows.append(row)
    return rows


def _key(row: Mapping) -> tuple:
    return (row.get("report", ""), row["reported"], row["kind"])


def shown_once(rows: Sequence[dict]) -> list[dict]:
    """``rows`` (in the book's order) with each reported number once
    (:data:`DUPLICATES`): a later lab's row with the same key as exactly one row of
    the first lab storing it is dropped, and that row's ``also_in`` names the later
    lab (name, title)."""
    owners: dict[tuple, dict | None] = {}  # None: the first lab has it twice
    kept: list[dict] = []
    for lab in dict.fromkeys(row["lab"] for row in rows):
        here = [r for r in rows if r["lab"] == lab]
        for row in here:
            owner = owners.get(_key(row)) if row["reported"] is not None else None
            if owner is None:
                kept.append(row)
            elif (row["lab"], row["lab_title"]) not in owner["also_in"]:
                owner["also_in"].append((row["lab"], row["lab_title"]))
        reported = [r for r in here if r["reported"] is not None]
        counts = Counter(_key(r) for r in reported)
        for row in reported:
            if _key(row) not in owners:
                owners[_key(row)] = row if counts[_key(row)] == 1 else None
    return kept
