"""The book's reproduction summary page, written from the reported-vs-ours tables
each executed lab stored in its outputs: a figure, the counts, the rule, the labs and
every number, each verdict recomputed under the current rule (:mod:`.verdicts`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from helpers import findings
from helpers.data.sources import atomic_write

from . import summary_figure, verdicts
from .notebooks import LABS, METADATA_KEY, ROOT, read

SUMMARY_PAGE = ROOT / "book" / "reproduction_summary.md"
FIGURE = ROOT / "book" / "_static" / "reproduction_summary.png"
SUMMARY_TITLE = "Reproduction summary"
COMMAND = "python -m machinery summary"


def stored_tables(nb) -> list[dict]:
    """The reported-vs-ours tables a run stored in its outputs (see ``findings``)."""
    return [
        output["metadata"][findings.METADATA_KEY]
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if findings.METADATA_KEY in output.get("metadata", {})
    ]


def page_title(nb) -> str:
    """The notebook's first ``# `` heading (its title in the book)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            return cell.source.splitlines()[0][2:].split(":")[0].strip()
    return "untitled"


def book_labs() -> list[dict]:
    """Every lab of the table of contents, in its order: name, title, stamp and
    stored tables (what :func:`summary_page` takes)."""
    import yaml

    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    labs = []
    for part in toc["parts"]:
        for chapter in part["chapters"]:
            if not chapter["file"].startswith("labs/"):
                continue
            name = chapter["file"].removeprefix("labs/")
            nb = read(LABS / f"{name}.ipynb")
            labs.append(
                {
                    "name": name,
                    "title": page_title(nb),
                    "record": nb.metadata.get(METADATA_KEY),
                    "tables": stored_tables(nb),
                }
            )
    return labs


def _cell(text) -> str:
    """``text`` as one Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _many(n: int, thing: str) -> str:
    """``'1 row'``, ``'2 rows'``."""
    return f"{n} {thing}{'s' * (n != 1)}"


def _link(name: str, title: str) -> str:
    return f"[{_cell(title)}](labs/{name})"


def summarised(labs: Sequence[Mapping]) -> list[dict]:
    """Every stored row under the current rule, each reported number once; refused
    (:class:`~machinery.MachineryError`) when a lab's tables are malformed or
    tampered with."""
    verdicts.check(labs)
    return verdicts.shown_once([r for lab in labs for r in verdicts.current_rows(lab)])


def _figure_lines(drawn: Sequence[Mapping]) -> list[str]:
    """The figure and its caption; the hash of its data ties the PNG to the page."""
    where = FIGURE.relative_to(SUMMARY_PAGE.parent).as_posix()
    return [
        f"<!-- figure data SHA-256: {summary_figure.data_hash(drawn)} -->",
        f"```{{figure}} {where}",
        ":alt: Every compared number, ours minus reported in units of its tolerance, "
        "with its 95% interval, by lab and coloured by verdict",
        ":width: 100%",
        "",
        f"The {len(drawn)} compared numbers (a reported value and a verdict other than "
        "*not comparable*). Each is placed at ours − reported in units of its own "
        "tolerance, so accuracies, losses, counts and epochs share one axis: 0 is the "
        "reported value, the shaded band is ± the tolerance, the bar is the 95% "
        "prediction interval for one more of our runs (none with one run). "
        "*Reproduced* needs the point inside the band and a bar no wider than it.",
        "```",
    ]


def _count_lines(rows: Sequence[Mapping], duplicates: int) -> list[str]:
    """The verdicts counted: inconclusive ones by reason, not comparable ones by the
    kind of reason (a row may give several)."""
    counted = [r for r in rows if r["reported"] is not None]
    heads = Counter(findings.verdict_head(r["verdict"]) for r in counted)
    differs = Counter(
        r["verdict"][len("differs (") : -1]
        for r in counted
        if r["verdict"].startswith("differs")
    )
    why = Counter(
        findings.why_inconclusive(r["verdict"])
        for r in counted
        if r["verdict"].startswith("inconclusive")
    )
    reasons = Counter(
        kind
        for r in counted
        if r["verdict"] == findings.NOT_COMPARABLE
        for kind in findings.why_not_comparable(r["not_comparable"])
    )
    listed = len(rows) - len(counted)
    return [
        f"**In all: {_many(len(counted), 'reported number')}**, each once "
        f"({_many(duplicates, 'number')} compared by a second lab shown in the first; "
        f"{_many(listed, 'row')} without a reported number listed below, not "
        "counted):",
        "",
        f"* *reproduced*: **{heads[findings.REPRODUCED]}**",
        f"* *differs*: **{heads['differs']}**"
        + _detail(f"{n} {way}" for way, n in differs.most_common()),
        f"* *inconclusive*: **{heads['inconclusive']}**"
        + _detail(f"{reason}: {n}" for reason, n in why.most_common()),
        f"* *not comparable*: **{heads[findings.NOT_COMPARABLE]}**"
        + _detail(f"{reason}: {n}" for reason, n in reasons.most_common()),
    ] + (
        ["", "A row may give several reasons for *not comparable*."] if reasons else []
    )


def _detail(parts) -> str:
    """`` (a, b)``, or nothing without parts."""
    text = ", ".join(parts)
    return f" ({text})" if text else ""


def _stored_line(labs: Sequence[Mapping]) -> list[str]:
    """What the pages themselves show, when some still hold an older rule's verdicts."""
    old = [
        row
        for lab in labs
        for table in lab["tables"]
        if table.get("rule", 1) < findings.RULE
        for row in table["results"]
    ]
    if not old:
        return []
    heads = Counter(findings.verdict_head(r["verdict"]) for r in old)
    shown = ", ".join(f"{n} {head}" for head, n in heads.most_common())
    return [
        "",
        f"*Labs executed before rule {findings.RULE}* still show their older "
        f"verdicts on their pages ({len(old)} rows, every duplicate included: "
        f"{shown}); this page reads every row under rule {findings.RULE} "
        "(see each lab below).",
    ]


def _lab_status(lab: Mapping, shown: int) -> str:
    """One lab in a line: its profile and device, how many rows it stored, and what
    else is worth knowing."""
    record, tables = lab.get("record") or {}, lab["tables"]
    if not tables:
        return (
            "Not yet stored: its tables are on its page, not yet machine-readable; "
            "added here when it is next executed."
        )
    profile = record.get("profile") or tables[0].get("profile", "?")
    text = f"`{profile}` profile on {record.get('device', 'an unknown device')}; "
    rows = sum(len(t["results"]) for t in tables)
    if not rows:
        return text + "no compared numbers."
    text += _many(rows, "row") + (
        f" ({rows - shown} shown in an earlier lab)" if shown < rows else ""
    )
    rule = min(t.get("rule", 1) for t in tables)
    if rule < findings.RULE:
        text += (
            f"; stored under rule {rule}: its page still shows rule-{rule} verdicts "
            "until it is re-executed"
        )
    return text + "."


SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _row_line(row: Mapping, note: int | None) -> str:
    """One table row; ``note``: the number of its note under the table."""
    kind = row["kind"]
    experiment = _cell(row["experiment"])
    experiment += str(note).translate(SUPERSCRIPTS) if note else ""
    experiment += "".join(f" (also in {_link(*lab)})" for lab in row["also_in"])
    if row["reported"] is None:
        reported, verdict = "—", "not counted: no reported number"
    else:
        reported = f"{row.get('report', '')} {row['reported']:g}".strip()
        if row["tolerance"] is not None:
            reported += f" ± {findings.short(row['tolerance'], kind)}"
        verdict = row["verdict"]
        if row["stored_verdict"] != verdict:
            verdict += f"; its page: {row['stored_verdict']}"
    ours = findings.mean_std(row["ours"], kind=kind)
    return f"| {experiment} | {reported} | {ours} | {_cell(verdict)} |"


def _lab_section(lab: Mapping, rows: Sequence[Mapping]) -> list[str]:
    """A lab's heading, its line, its rows (each reported number once) and their
    notes, each note once."""
    notes = list(dict.fromkeys(r["note"] for r in rows if r.get("note")))
    lines = [f"### {_link(lab['name'], lab['title'])}", "", _lab_status(lab, len(rows))]
    if rows:
        lines += [
            "",
            "| experiment | reported ± tolerance | ours (mean ± std) | verdict |",
            "|---|---|---|---|",
        ]
        lines += [
            _row_line(r, notes.index(r["note"]) + 1 if r.get("note") else None)
            for r in rows
        ]
    if notes:
        lines += [""] + [
            f"* {str(i).translate(SUPERSCRIPTS)} {note}"
            for i, note in enumerate(notes, 1)
        ]
    return lines + [""]


def page_text(labs: Sequence[Mapping], rows: Sequence[Mapping]) -> str:
    """The summary page (Markdown) of ``labs`` and their :func:`summarised` rows."""
    duplicates = sum(len(t["results"]) for lab in labs for t in lab["tables"])
    duplicates -= len(rows)
    lines = [
        f"# {SUMMARY_TITLE}",
        "",
        "Every number the reports compare, beside ours, with the verdict of one rule "
        f"(rule {findings.RULE}), recomputed from the per-seed values the executed "
        f"labs stored. Generated by `{COMMAND}` and checked by the tests: do not "
        "edit it.",
        "",
        *_figure_lines(summary_figure.points(rows)),
        "",
        *_count_lines(rows, duplicates),
        *_stored_line(labs),
        "",
        "## The rule",
        "",
        findings.RULE_TEXT,
        "",
        findings.NOISE_TEXT,
        "",
        verdicts.RULE1_READING,
        "",
        verdicts.DUPLICATES,
        "",
        "## Every number, by lab",
        "",
        "Tolerances are each row's own or its kind's; *ours* is the mean ± the sample "
        "standard deviation over our *n* runs. Where this page's verdict differs from "
        "the one the lab's page shows, the row says so.",
        "",
    ]
    for lab in labs:
        lines += _lab_section(lab, [r for r in rows if r["lab"] == lab["name"]])
    return "\n".join(lines).rstrip("\n") + "\n"


def summary_page(labs: Sequence[Mapping]) -> str:
    """The book's reproduction summary (Markdown) from every lab's stored tables.

    ``labs``: one mapping per lab, in the book's order, with ``name`` (the page, e.g.
    ``"permuted_mnist"``), ``title``, ``record`` (its provenance stamp, or None) and
    ``tables`` (each a stored table: ``{"results": [...], "profile": ..., "rule":
    ...}``). Refused (:class:`~machinery.MachineryError`) when a table is malformed or
    a stored verdict does not follow from its values.
    """
    return page_text(labs, summarised(labs))


def summary_command(args) -> int:
    """``summary``: write the summary page and its figure from the labs' stored
    tables."""
    labs = book_labs()
    rows = summarised(labs)
    drawn = summary_figure.points(rows)
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    summary_figure.draw(drawn, FIGURE, summary_figure.data_hash(drawn))
    with atomic_write(SUMMARY_PAGE, suffix=".tmp") as out:
        out.write(page_text(labs, rows).encode())
    for path in (SUMMARY_PAGE, FIGURE):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0
