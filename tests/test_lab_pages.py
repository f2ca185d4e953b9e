"""Conventions every lab page keeps: words follow the run, code visible, Exercises at
the end."""

import re

import nbformat
import pytest

from machinery import colab, notebooks, stamp

LABS = notebooks.lab_paths()

NUMBER = re.compile(r"(?<![\w.])[-−+]?\d+(?:,\d{3})*\.\d+(?![\d.]*\.\d)%?")


def _texts(nb):
    prose, shown = [], []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            if stamp.PROVENANCE_TAG not in cell.metadata.get("tags", []):
                prose.append(cell.source)
        elif cell.cell_type == "code":
            shown.append(cell.source)
            for out in cell.get("outputs", []):
                shown.append(str(out.get("text", "")))
                for kind, value in out.get("data", {}).items():
                    if kind.startswith("text/"):
                        shown.append(re.sub(r"<[^>]+>", " ", str(value)))
    return prose, "\n".join(shown)


def _values(token):
    text = token.replace("−", "-").replace(",", "").lstrip("+")
    pct = text.endswith("%")
    value = float(text.rstrip("%"))
    return value, len(text.rstrip("%").split(".")[1]), pct


def unshown_numbers(nb) -> list[str]:
    """Decimal numbers in prose that neither the outputs nor the code of the page show
    (at the same rounding, or as a percentage of a shown fraction): typed by hand or
    from an older run. A reported number passes when the page prints it (in its
    reported-vs-ours table)."""
    prose, shown = _texts(nb)
    pool = []
    for token in NUMBER.findall(shown):
        pool.append(_values(token)[0])
    hits = []
    for text in prose:
        text = re.sub(r"```.*?```", " ", text, flags=re.S)  # code and dropdown blocks
        for token in NUMBER.findall(text):
            value, places, pct = _values(token)
            if token.lstrip("+") in shown:
                continue
            candidates = [w * 100 for w in pool] if pct else pool
            if not any(
                round(abs(c), places) == round(abs(value), places) for c in candidates
            ):
                hits.append(token)
    return hits


def test_a_planted_number_is_caught_and_a_printed_one_passes():
    nb = nbformat.v4.new_notebook()
    run = nbformat.v4.new_code_cell("print(accuracy)")
    run.outputs = [nbformat.v4.new_output("stream", text="test accuracy 0.97312\n")]
    nb.cells = [
        nbformat.v4.new_markdown_cell("Our net reaches 0.9731, and 97.31% of digits."),
        run,
    ]
    assert unshown_numbers(nb) == []
    nb.cells[0].source += " The dense net reached 0.9512."
    assert unshown_numbers(nb) == ["0.9512"]


@pytest.mark.parametrize("lab", LABS, ids=[p.stem for p in LABS])
def test_prose_states_no_number_the_run_did_not_print(lab):
    assert unshown_numbers(notebooks.read(lab)) == []


def exercise_problems(nb) -> list[str]:
    """Why the lab's last section is not a proper ``## Exercises`` section (empty if
    it is)."""
    sections = [
        c.source
        for c in nb.cells
        if c.cell_type == "markdown" and c.source.startswith("## ")
    ]
    if not sections or not sections[-1].startswith("## Exercises"):
        return ["the lab does not end with a `## Exercises` section"]
    text = sections[-1]
    items = re.split(r"\n(?=\d+\. )", text)[1:]
    problems = []
    if not 3 <= len(items) <= 5:
        problems.append(f"{len(items)} exercises (3 to 5 expected)")
    for i, item in enumerate(items, 1):
        for need, what in (
            (r"★", "a grade (★ to ★★★)"),
            (r"\*Hint:\*", "a *Hint:*"),
            (r"\*Observe:\*", "an *Observe:*"),
            (r"```\{dropdown\} Solution", "a Solution dropdown"),
        ):
            if not re.search(need, item):
                problems.append(f"exercise {i} has no {what}")
    return problems


def code_hidden_from_colab(nb) -> bool:
    """True when the page shows code with ``{literalinclude}``, which Jupyter and
    Colab cannot render: the source of the helper that ran should be printed by a code
    cell instead."""
    return any(
        "{literalinclude}" in c.source for c in nb.cells if c.cell_type == "markdown"
    )


@pytest.mark.parametrize("lab", LABS, ids=[p.stem for p in LABS])
def test_each_lab_ends_with_exercises_and_shows_its_code(lab):
    nb = notebooks.read(lab)
    problems = exercise_problems(nb) + (
        ["{literalinclude} instead of printed source"]
        if code_hidden_from_colab(nb)
        else []
    )
    assert problems == []


def test_exercise_checker_names_what_is_missing():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Discussion\n\ntext"),
        nbformat.v4.new_markdown_cell(
            "## Exercises\n\n1. ★ Do x. *Hint:* y. *Observe:* z.\n\n"
            "   ```{dropdown} Solution\n   s\n   ```\n\n2. ★★ Do w.\n"
        ),
    ]
    assert exercise_problems(nb) == [
        "2 exercises (3 to 5 expected)",
        "exercise 2 has no a *Hint:*",
        "exercise 2 has no an *Observe:*",
        "exercise 2 has no a Solution dropdown",
    ]
    nb.cells.pop()
    assert exercise_problems(nb) == [
        "the lab does not end with a `## Exercises` section"
    ]


# Characters of code that fit the book's article at its default width without a
# scrollbar (measured on a screenshot of the built page, 1400 px window).
CODE_COLUMN = 88


@pytest.mark.parametrize("lab", LABS, ids=[p.stem for p in LABS])
def test_code_fits_the_books_code_column(lab):
    nb = notebooks.read(lab)
    long = [
        line
        for cell in nb.cells
        if cell.cell_type == "code"
        and colab.COLAB_TAG not in cell.metadata.get("tags", [])  # collapsed
        for line in cell.source.splitlines()
        if len(line) > CODE_COLUMN
    ]
    assert long == []
