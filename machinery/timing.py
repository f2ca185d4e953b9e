"""Where a lab's time went: seconds per ``## `` section and per phase (data, training,
evaluation, other), from the timestamps nbclient stores in each executed cell."""

from __future__ import annotations

import datetime as dt
import re

# The first pattern that matches a `## ` heading names the phase of its section;
# else "other".
PHASES = (
    ("evaluation", r"\bevaluat|\btest(ing)?\b|\bresults\b|reported vs"),
    ("training", r"\btrain|^models?\b|\bfit(ting)?\b"),
    ("data", r"\bdata(sets?)?\b|\bloading\b"),
)
BEFORE_SECTIONS = "(before the first section)"


def phase(heading: str) -> str:
    """The phase a ``## `` heading names: data, training, evaluation or other."""
    return next((p for p, rule in PHASES if re.search(rule, heading, re.I)), "other")


def cell_seconds(cell) -> float | None:
    """Seconds the kernel was busy with a code cell, from the timestamps nbclient stores
    in its metadata (None if it was not executed)."""
    times = cell.get("metadata", {}).get("execution", {})
    start, end = times.get("iopub.status.busy"), times.get("iopub.status.idle")
    if not (start and end):
        return None
    instant = lambda s: dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return (instant(end) - instant(start)).total_seconds()


def time_split(nb) -> dict:
    """Seconds spent in each ``## `` section's code cells (heading and phase kept), and
    the totals per phase; sections without executed code are left out."""
    section = {"heading": BEFORE_SECTIONS, "phase": "other", "cells": 0, "seconds": 0.0}
    sections = [section]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if m := re.match(r"##\s+(.*?)[\s#]*$", line):
                    heading = m.group(1)
                    section = dict(
                        heading=heading, phase=phase(heading), cells=0, seconds=0.0
                    )
                    sections.append(section)
        elif cell.cell_type == "code" and (seconds := cell_seconds(cell)) is not None:
            section["cells"] += 1
            section["seconds"] += seconds
    sections = [s | {"seconds": round(s["seconds"], 1)} for s in sections if s["cells"]]
    phases = {p: 0.0 for p in ("data", "training", "evaluation", "other")}
    for s in sections:
        phases[s["phase"]] = round(phases[s["phase"]] + s["seconds"], 1)
    return {"phases": phases, "sections": sections}


def format_time_split(split: dict, wall_s: float | None = None) -> str:
    """Where the time went, one line per phase (its sections and their seconds)."""
    total = sum(split["phases"].values())
    wall = f" of {duration(wall_s)} wall time" if wall_s else ""
    lines = [f"  {duration(total)} in code cells{wall}:"]
    for name, seconds in sorted(split["phases"].items(), key=lambda kv: -kv[1]):
        parts = [
            f"{s['heading']} {duration(s['seconds'])}"
            for s in split["sections"]
            if s["phase"] == name
        ]
        if parts:
            share = f"{100 * seconds / total:3.0f}%" if total else "  -"
            lines.append(
                f"    {name:<10} {duration(seconds):>12} {share}  {'; '.join(parts)}"
            )
    return "\n".join(lines)


def duration(seconds: float) -> str:
    """``'42.0 s'`` under a minute, else ``'3 min 07 s'``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"
