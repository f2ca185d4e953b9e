"""The reproduction summary page: generated from the labs' stored tables,
never stale."""

from helpers import findings, provenance


def test_the_committed_summary_matches_the_stored_tables():
    assert provenance.SUMMARY_PAGE.read_text() == provenance.summary_page(), (
        "book/reproduction_summary.md is out of sync with the labs' stored tables: "
        "run `python -m helpers.provenance summary` and commit it"
    )


def test_summary_rows_carry_verdict_profile_device_and_pending_labs():
    results = findings.compare(
        [
            {
                "experiment": "dense, test accuracy",
                "report": "R3",
                "reported": 0.95,
                "ours": [0.95, 0.952, 0.951],
            },
            {
                "experiment": "AlexNet | CIFAR",
                "report": "R3",
                "reported": 0.5,
                "ours": [0.6],
                "not_comparable": "CIFAR-10 for CIFAR-100",
            },
        ]
    )
    page = findings.summary_page(
        [
            {
                "name": "permuted_mnist",
                "title": "Permuted MNIST",
                "record": {"profile": "cpu", "device": "CPU: x (2 cores)"},
                "tables": [{"results": results, "profile": "cpu"}],
            },
            {"name": "tsne", "title": "t-SNE", "record": None, "tables": []},
        ]
    )
    rows = [line for line in page.splitlines() if line.startswith("| [")]
    assert rows[0] == (
        "| [Permuted MNIST](labs/permuted_mnist) | dense, test accuracy | R3 | 0.95 "
        "| 0.9510 ± 0.0010 (n=3) | reproduced | `cpu` | CPU: x (2 cores) |"
    )
    assert "AlexNet \\| CIFAR" in rows[1]
    assert "not comparable (CIFAR-10 for CIFAR-100)" in rows[1]
    assert "**In all:** 2 compared numbers: 1 not comparable, 1 reproduced." in page
    assert "Not yet summarised here" in page and "[t-SNE](labs/tsne)" in page


def test_stored_tables_are_read_from_output_metadata():
    import nbformat

    nb = nbformat.v4.new_notebook()
    table = {"results": [{"experiment": "x"}], "profile": "cpu"}
    cell = nbformat.v4.new_code_cell("show()")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"text/plain": "t"},
            metadata={findings.METADATA_KEY: table},
        ),
        nbformat.v4.new_output("stream", text="other"),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title: sub"), cell]
    assert provenance.stored_tables(nb) == [table]
    assert provenance.page_title(nb) == "Title"
