"""Execute a lab in a profile, stamp provenance, and detect stale stored outputs.

This is the only module that knows what a notebook file is. From the repository root::

    python -m helpers.provenance run labs/permuted_mnist.ipynb --profile full
    python -m helpers.provenance check            # every lab: executed, stamped, not stale
    python -m helpers.provenance sync-colab       # rewrite each lab's Colab cell from _config.yml

``run`` executes the notebook in place (outputs stored in the file), then records in its metadata
the profile, the device, library versions, Keras backend, wall time and a hash of the code cells,
and writes a short provenance note into the page, right under the title.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import sys
import time
from importlib import metadata as importlib_metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABS = ROOT / "labs"
METADATA_KEY = "provenance"
PROVENANCE_TAG = "provenance"
COLAB_TAG = "colab-setup"
PACKAGE = "deep-learning-practicals"
LIBRARIES = (
    "keras",
    "tensorflow",
    "tensorflow-cpu",
    "torch",
    "torchvision",
    "jax",
    "numpy",
    "scikit-learn",
    "openTSNE",
)


# --- reading notebooks -------------------------------------------------------------------------


def read(path):
    """The notebook at ``path`` (nbformat v4)."""
    import nbformat

    return nbformat.read(str(path), as_version=4)


def code_sources(nb) -> list[str]:
    """The source of every non-empty code cell, in order."""
    return [c.source for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def code_hash(nb) -> str:
    """SHA-256 over the code cells (trailing whitespace ignored): changes when the code changes."""
    digest = hashlib.sha256()
    for source in code_sources(nb):
        normalised = "\n".join(line.rstrip() for line in source.strip().splitlines())
        digest.update(normalised.encode() + b"\0")
    return digest.hexdigest()


def helpers_hash() -> str:
    """SHA-256 over the source of every module in ``helpers/`` (names and contents, sorted).

    It changes whenever the code the labs call changes: stamped with each run, and the key of
    caches of results computed by that code.
    """
    digest = hashlib.sha256()
    for module in sorted((ROOT / "helpers").glob("*.py")):
        digest.update(module.name.encode() + b"\0" + module.read_bytes() + b"\0")
    return digest.hexdigest()


def lab_paths() -> list[Path]:
    """Every lab notebook, sorted."""
    return sorted(LABS.glob("*.ipynb"))


# --- the Colab cell ----------------------------------------------------------------------------


def repository() -> tuple[str, str]:
    """(url, branch) of the book's repository, from ``_config.yml`` (its one definition)."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]
    return repo["url"].rstrip("/"), repo.get("branch", "master")


def colab_cell_source() -> str:
    """The first code cell of every lab: installs the helpers in Colab, does nothing elsewhere."""
    url, branch = repository()
    return (
        "# Colab only: install this book's helpers from its repository (elsewhere: nothing to do).\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import subprocess\n"
        "\n"
        f'    package = "{PACKAGE}[colab] @ git+{url}@{branch}"\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)'
    )


def sync_colab_cell(nb) -> bool:
    """Make the first code cell the Colab cell (collapsed in the book); True if it changed."""
    import nbformat

    source, tags = colab_cell_source(), [COLAB_TAG, "hide-input"]
    code = [c for c in nb.cells if c.cell_type == "code"]
    if code and COLAB_TAG in code[0].metadata.get("tags", []):
        changed = (code[0].source, code[0].metadata["tags"]) != (source, tags)
        code[0].source, code[0].metadata["tags"] = source, tags
        return changed
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": tags})
    nb.cells.insert(nb.cells.index(code[0]) if code else len(nb.cells), cell)
    return True


# --- describing where a notebook ran -----------------------------------------------------------


def device_name() -> str:
    """The GPU's name if PyTorch sees one, else the CPU model and core count."""
    try:
        import torch

        if torch.cuda.is_available():
            return f"GPU: {torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return f"CPU: {_cpu_model()} ({os.cpu_count()} cores)"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def keras_backend() -> str:
    """The Keras backend a kernel started now would use (``KERAS_BACKEND`` or keras.json)."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    import json

    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return json.loads(config.read_text()).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries the labs use (absent ones left out)."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            pass
    return versions


def describe(nb, profile: str, seconds: float) -> dict:
    """The provenance record stored in the notebook's metadata."""
    return {
        "profile": profile,
        "device": device_name(),
        "keras_backend": keras_backend(),
        "versions": library_versions(),
        "wall_time_s": round(seconds, 1),
        "executed_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "code_sha256": code_hash(nb),
    }


def summary(record: dict) -> str:
    """One readable paragraph of a provenance record, for the page."""
    v = record["versions"]
    libs = ", ".join(
        f"{name} {v[name]}"
        for name in ("keras", "tensorflow", "tensorflow-cpu", "torch", "numpy")
        if name in v
    )
    minutes, seconds = divmod(round(record["wall_time_s"]), 60)
    return (
        f"**Provenance.** Executed in the `{record['profile']}` profile on {record['device']}, "
        f"Keras backend `{record['keras_backend']}` (Python {v['python']}, {libs}); "
        f"wall time {minutes} min {seconds:02d} s; {record['executed_at'][:10]}; "
        f"code cells SHA-256 `{record['code_sha256'][:12]}`. Every number and figure below comes "
        f"from this run."
    )


def stamp(nb, record: dict) -> None:
    """Store ``record`` in the metadata and (re)write the provenance note under the title."""
    import nbformat

    nb.metadata[METADATA_KEY] = record
    nb.cells = [c for c in nb.cells if PROVENANCE_TAG not in c.metadata.get("tags", [])]
    note = nbformat.v4.new_markdown_cell(
        "> " + summary(record), metadata={"tags": [PROVENANCE_TAG]}
    )
    nb.cells.insert(1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0, note)


# --- executing ---------------------------------------------------------------------------------


def run(path, profile: str = "full", timeout: int | None = None) -> dict:
    """Execute the notebook at ``path`` in ``profile``, store outputs and provenance in place."""
    import nbformat
    from nbclient import NotebookClient

    from . import profile as profiles

    if profile not in profiles.PROFILES:
        raise ValueError(
            f"unknown profile {profile!r}; use one of {', '.join(profiles.PROFILES)}"
        )
    path = Path(path)
    nb = read(path)
    for key in list(
        nb.metadata
    ):  # a fresh run owns its metadata (no stale widget state)
        if key not in ("kernelspec", "language_info"):
            del nb.metadata[key]
    sync_colab_cell(nb)
    os.environ[profiles.ENV_VAR] = (
        profile  # the kernel inherits this process's environment
    )
    # ... including this checkout's helpers first, whatever an editable install points at
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        # TensorFlow prints C++ start-up logs straight to file descriptor 2; keep them out of the page.
        extra_arguments=["--IPKernelApp.capture_fd_output=False"],
    )
    start = time.perf_counter()
    client.execute()
    record = describe(nb, profile, time.perf_counter() - start)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
    stamp(nb, record)
    nbformat.write(nb, str(path))
    return record


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive stream outputs and apply carriage returns, as a live notebook shows them.

    A progress bar redraws its line with ``\\r``; stored raw, every redraw would become a line of
    the page. Kept: the final state of each line, exactly what the reader saw at the end.
    """
    merged = []
    for output in outputs:
        if (
            output.get("output_type") == "stream"
            and merged
            and merged[-1].get("output_type") == "stream"
            and merged[-1].name == output.name
        ):
            merged[-1].text += output.text
        else:
            merged.append(output)
    for output in merged:
        if output.get("output_type") == "stream" and "\r" in output.text:
            lines = output.text.replace("\r\n", "\n").split("\n")
            output.text = "\n".join(
                line.rstrip("\r").rsplit("\r", 1)[-1] for line in lines
            )
    return merged


# --- checking stored outputs -------------------------------------------------------------------


def problems(path) -> list[str]:
    """Why the stored outputs of the notebook at ``path`` cannot be trusted (empty if they can)."""
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
            "no provenance in the metadata (execute it with `python -m helpers.provenance run`)"
        )
    elif record.get("code_sha256") != code_hash(nb):
        found.append(
            "stale outputs: the code cells changed since the notebook was executed"
        )
    if not code or code[0].source != colab_cell_source():
        found.append(
            "the first code cell is not the Colab cell of _config.yml's repository "
            "(run `python -m helpers.provenance sync-colab`)"
        )
    return found


# --- the reproduction summary ------------------------------------------------------------------

SUMMARY_PAGE = ROOT / "book" / "reproduction_summary.md"


def stored_tables(nb) -> list[dict]:
    """The reported-vs-ours tables a run stored in its outputs (see ``findings``)."""
    from . import findings

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


def summary_page() -> str:
    """The reproduction summary page, from every lab's stored tables (in the TOC's order)."""
    import yaml

    from . import findings

    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    order = [
        ch["file"].removeprefix("labs/")
        for part in toc["parts"]
        for ch in part["chapters"]
        if ch["file"].startswith("labs/")
    ]
    labs = []
    for name in order:
        nb = read(LABS / f"{name}.ipynb")
        labs.append(
            {
                "name": name,
                "title": page_title(nb),
                "record": nb.metadata.get(METADATA_KEY),
                "tables": stored_tables(nb),
            }
        )
    return findings.summary_page(labs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.provenance",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="execute labs in a profile and stamp provenance")
    run_p.add_argument("notebooks", nargs="+", type=Path)
    run_p.add_argument("--profile", default="full", choices=("smoke", "cpu", "full"))
    run_p.add_argument(
        "--timeout", type=int, default=None, help="seconds per cell (default: none)"
    )
    check_p = sub.add_parser(
        "check", help="report labs with unexecuted, unstamped or stale outputs"
    )
    check_p.add_argument("notebooks", nargs="*", type=Path)
    sub.add_parser("sync-colab", help="rewrite every lab's Colab cell from _config.yml")
    sub.add_parser(
        "summary", help="write book/reproduction_summary.md from the labs' tables"
    )
    args = parser.parse_args(argv)

    if args.command == "run":
        for path in args.notebooks:
            record = run(path, args.profile, args.timeout)
            print(f"{path}: {summary(record)}")
        return 0
    if args.command == "summary":
        SUMMARY_PAGE.write_text(summary_page())
        print(f"wrote {SUMMARY_PAGE.relative_to(ROOT)}")
        return 0
    if args.command == "sync-colab":
        import nbformat

        for path in lab_paths():
            nb = read(path)
            if sync_colab_cell(nb):
                nbformat.write(nb, str(path))
                print(
                    f"{path}: Colab cell updated (re-execute it: its code hash changed)"
                )
        return 0
    bad = 0
    for path in args.notebooks or lab_paths():
        for problem in problems(path):
            print(f"{path}: {problem}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
