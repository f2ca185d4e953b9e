"""Back here: put the notebooks of the labs that finished on the GPU machine into the
repository, and the labs' logs into a folder.

What came back is not trusted: only the labs of the bundle's manifest are restored,
each only as a valid executed notebook of that lab (stamped in the run's profile, every
code cell executed, the code it was bundled with), never over a notebook changed here
since it was bundled (unless ``--force``), written all or nothing. A missing or
invalid file is one line, before anything is written.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

from .. import MachineryError
from ..colab import run_code_hash
from ..notebooks import METADATA_KEY, code_hash, read, write_bytes
from . import MANIFEST, STATUSES, SUMMARY, file_sha256

# --- reading what came back -----------------------------------------------------------


def _load_json(path: Path, what: str) -> dict:
    """The JSON object in ``path``; a one-line :class:`MachineryError` if there is
    none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MachineryError(f"{path} is missing: {what}") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise MachineryError(f"{path} is not valid JSON ({first}): {what}") from None
    if not isinstance(data, dict):
        raise MachineryError(f"{path} holds no JSON object: {what}")
    return data


def _plain_name(name) -> bool:
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name


def read_summary(src: Path) -> dict:
    """The run's summary.json, checked for what unpacking reads."""
    path = src / SUMMARY
    summary = _load_json(path, "give the folder the run tool's files_at names")
    labs, packed = summary.get("labs"), summary.get("notebooks") or {"files": []}
    problems = []
    if not isinstance(labs, list) or not all(
        isinstance(x, dict)
        and isinstance(x.get("path"), str)
        and x.get("status") in STATUSES
        for x in labs
    ):
        problems.append("its labs are not a list of {path, status}")
    if not isinstance(summary.get("profile"), str) and labs:
        problems.append("it names no profile")
    files = packed.get("files") if isinstance(packed, dict) else None
    if not isinstance(files, list) or not all(map(_plain_name, files)):
        problems.append("its notebooks' files are not a list of plain file names")
    if problems:
        raise MachineryError(f"{path} is no run-labs summary: {'; '.join(problems)}")
    summary["notebooks"] = packed
    return summary


def read_manifest(bundle: Path) -> dict[str, dict]:
    """The bundle's labs by path, from its manifest."""
    path = bundle / MANIFEST
    manifest = _load_json(path, "give the bundle the labs were sent in (--bundle)")
    labs = manifest.get("labs")
    if not isinstance(labs, list) or not all(
        isinstance(x, dict) and isinstance(x.get("path"), str) for x in labs
    ):
        raise MachineryError(f"{path} lists no labs: build the bundle again")
    return {lab["path"]: lab for lab in labs}


def returned_notebooks(src: Path, packed: dict) -> dict[str, bytes]:
    """{path: content} of the notebooks archive, joined from its parts; a one-line
    :class:`MachineryError` when a part is missing or it does not match its sum."""
    if not packed["files"]:
        return {}
    missing = [name for name in packed["files"] if not (src / name).is_file()]
    if missing:
        raise MachineryError(
            f"{', '.join(missing)} missing from {src}: fetch every file the run "
            "returned, then unpack again"
        )
    blob = b"".join((src / name).read_bytes() for name in packed["files"])
    if hashlib.sha256(blob).hexdigest() != packed.get("sha256"):
        raise MachineryError(
            f"the notebooks archive in {src} does not match its sum: fetch it again"
        )
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
            return {
                m.name: tar.extractfile(m).read()
                for m in tar.getmembers()
                if m.isfile()
            }
    except (tarfile.TarError, OSError, EOFError) as e:
        raise MachineryError(
            f"the notebooks archive in {src} is broken ({e})"
        ) from None


def extract_logs(archive: Path, logs_dir: Path, names) -> list[str]:
    """Write the log of each lab ``names`` lists from ``archive`` (if there is one)
    into ``logs_dir``, as NAME.log; return what was left out and why."""
    if not archive.is_file():
        return []
    wanted = {f"logs/{name}.log": f"{name}.log" for name in names if _plain_name(name)}
    left_out = []
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for m in tar.getmembers():
                if m.name not in wanted or not m.isfile():
                    left_out.append(f"{m.name!r} in {archive.name}: no lab's log")
                    continue
                logs_dir.mkdir(parents=True, exist_ok=True)
                write_bytes(tar.extractfile(m).read(), logs_dir / wanted[m.name])
    except (tarfile.TarError, EOFError) as e:
        left_out.append(f"{archive} is broken ({e}); the logs stay there")
    return left_out


# --- putting one lab back -------------------------------------------------------------


def bundled_code(lab: dict, dest: Path) -> str | None:
    """The code hash the lab was bundled with: the manifest's, or (a manifest from
    before it listed them) that of the notebook here while it is unchanged."""
    if lab.get("code_sha256"):
        return lab["code_sha256"]
    if dest.is_file() and file_sha256(dest) == lab.get("sha256"):
        return run_code_hash(read(dest))
    return None


def not_executed(content: bytes, expected_code: str | None, profile: str):
    """Why ``content`` is not an executed, stamped notebook of the code
    ``expected_code`` in ``profile`` (None if it is)."""
    import nbformat

    try:
        nb = nbformat.reads(content.decode("utf-8"), as_version=4)
    except Exception as e:  # not UTF-8, not JSON, JSON that is no notebook
        return f"not a notebook ({type(e).__name__})"
    record = nb.metadata.get(METADATA_KEY)
    if not isinstance(record, dict):
        return "not stamped (no provenance in its metadata)"
    if record.get("profile") != profile:
        return f"stamped {record.get('profile')!r}, not {profile!r}"
    code = code_hash(nb)
    if record.get("code_sha256") != code:
        return "stamped for other code than it holds"
    if code != expected_code:
        return "not the code that was bundled"
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    unrun = sum(c.get("execution_count") is None for c in cells)
    return f"not fully executed ({unrun} of {len(cells)} code cells)" if unrun else None


def restore(lab: dict, content, repo: Path, profile: str, force: bool):
    """Put one finished lab's returned notebook in place; None, or why not."""
    dest = (repo / lab["path"]).resolve()
    if content is None:
        return "not returned (over the size limits); left as it is"
    if not dest.is_relative_to(repo) or dest.suffix != ".ipynb":
        return f"refused: {lab['path']} is not a notebook inside {repo}"
    if dest.is_file() and file_sha256(dest) != lab.get("sha256") and not force:
        return f"skipped: {lab['path']} changed here since it was bundled (--force)"
    expected = bundled_code(lab, dest)
    if expected is None:
        return (
            f"refused: the bundle lists no code hash and {lab['path']} changed here "
            "since, so the returned notebook cannot be checked: bundle it again"
        )
    why = not_executed(content, expected, profile)
    if why:
        return f"refused: the returned notebook is {why}; left as it is"
    try:
        write_bytes(content, dest)
    except OSError as e:
        return f"not written ({e.strerror or e}); {lab['path']} left as it was"
    return None


# --- the command ----------------------------------------------------------------------


def _restore_all(summary, bundled, members, repo: Path, force: bool) -> tuple[int, int]:
    """Restore each finished lab of the summary that the bundle holds; print a line
    for each lab; return (restored, problems)."""
    restored, problems = 0, 0
    finished = set()
    for lab in summary["labs"]:
        name = lab.get("name") or Path(lab["path"]).stem
        state = f"{name:28s} {lab['status']:12s}"
        if lab["status"] != "finished":
            print(f"{state} left as it is ({lab.get('why', 'not run')})")
            continue
        finished.add(lab["path"])
        if lab["path"] not in bundled:
            why = f"refused: {lab['path']} is not a lab of the bundle"
        else:
            content = members.get(lab["path"]) if lab.get("returned", True) else None
            why = restore(
                bundled[lab["path"]], content, repo, summary["profile"], force
            )
        print(f"{state} {why or '-> ' + lab['path']}")
        restored, problems = restored + (not why), problems + bool(why)
    for extra in sorted(set(members) - finished):
        print(f"ignored: {extra} in the archive is no finished lab of the bundle")
        problems += 1
    return restored, problems


def unpack_command(args) -> int:
    """``gpu unpack``: restore the returned notebooks of the labs that finished and
    the logs; 1 if any finished lab could not be restored."""
    src, repo = Path(args.source), Path(args.repo).resolve()
    bundle = Path(args.bundle) if args.bundle else repo / ".bundle"
    summary = read_summary(src)
    bundled = read_manifest(bundle)
    members = returned_notebooks(src, summary["notebooks"])
    if summary.get("error"):
        print(f"the run stopped before any lab: {summary['error']}")
    names = [lab.get("name") for lab in bundled.values()]
    for line in extract_logs(src / "logs.tar.gz", Path(args.logs_dir), names):
        print(f"ignored: {line}")
    restored, problems = _restore_all(summary, bundled, members, repo, args.force)
    print(f"{restored} notebook(s) restored; logs in {args.logs_dir}")
    return 1 if problems else 0
