"""The Colab cell: the first code cell of every lab, which installs the helpers in
Colab (from the repository ``_config.yml`` names) and does nothing elsewhere."""

from __future__ import annotations

from . import MachineryError
from .notebooks import ROOT, code_hash, lab_paths, notebook_paths, read, write

CONFIG = ROOT / "_config.yml"
COLAB_TAG = "colab-setup"
PACKAGE = "deep-learning-practicals"


_ADD = (
    "the Colab cell installs the helpers from it: add `repository: {url: "
    "https://github.com/OWNER/REPO, branch: main}` to it"
)


def repository() -> tuple[str, str]:
    """(url, branch) of the book's repository, from ``_config.yml`` (its
    one definition)."""
    import yaml

    try:
        config = yaml.safe_load(CONFIG.read_text())
    except OSError as e:
        raise MachineryError(
            f"{CONFIG} cannot be read ({e.strerror}); {_ADD}"
        ) from None
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        line = f" (line {where.line + 1})" if where else ""
        raise MachineryError(f"{CONFIG} is not valid YAML{line}: fix it") from None
    repo = config.get("repository") if isinstance(config, dict) else None
    url = repo.get("url") if isinstance(repo, dict) else None
    if not isinstance(url, str) or not url.strip():
        raise MachineryError(f"{CONFIG} names no repository; {_ADD}")
    branch = repo.get("branch") or "master"
    return url.strip().rstrip("/"), str(branch)


def colab_cell_source() -> str:
    """The first code cell of every lab: installs the helpers in Colab, does
    nothing elsewhere."""
    url, branch = repository()
    return (
        "# Colab only: install this book's helpers from its repository "
        "(elsewhere: nothing to do).\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import subprocess\n"
        "\n"
        f'    package = "{PACKAGE}[colab] @ git+{url}@{branch}"\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], '
        "check=True)"
    )


def sync_colab_cell(nb) -> bool:
    """Make the first code cell the Colab cell (collapsed in the book); True if
    it changed."""
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


def run_code_hash(nb) -> str:
    """The code hash a run of ``nb`` stamps: the runner makes its Colab cell current
    before executing it (``nb`` itself is left as it is)."""
    import copy

    synced = copy.deepcopy(nb)
    sync_colab_cell(synced)
    return code_hash(synced)


def sync_colab_command(args) -> int:
    """``sync-colab``: rewrite the Colab cell of each notebook where it differs."""
    colab_cell_source()  # a missing repository is reported before any notebook is read
    for path in notebook_paths(args.notebooks) if args.notebooks else lab_paths():
        nb = read(path)
        if sync_colab_cell(nb):
            write(nb, path)
            print(f"{path}: Colab cell updated (re-execute it: its code hash changed)")
    return 0
