"""Back here: put the notebooks of the labs that finished on the GPU machine into the
repository, never over a notebook changed here since it was bundled (unless
``--force``), and the labs' logs into a folder."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

from . import SUMMARY, file_sha256
from .device import executed_as


def returned_notebooks(src: Path, packed: dict) -> dict[str, bytes] | None:
    """{path: content} of the notebooks archive (joined from its parts); None when it
    does not match its sum."""
    if not packed["files"]:
        return {}
    blob = b"".join((src / name).read_bytes() for name in packed["files"])
    if hashlib.sha256(blob).hexdigest() != packed["sha256"]:
        return None
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        return {
            m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()
        }


def extract_logs(archive: Path, logs_dir: Path) -> None:
    """Write each log of ``archive`` (if there is one) into ``logs_dir``."""
    if not archive.is_file():
        return
    logs_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, mode="r:gz") as tar:
        for m in tar.getmembers():
            if m.isfile():
                (logs_dir / Path(m.name).name).write_bytes(tar.extractfile(m).read())


def restore(lab: dict, content: bytes | None, repo: Path, profile: str, force: bool):
    """Put one finished lab's returned notebook in place; None, or why not."""
    dest = (repo / lab["path"]).resolve()
    if content is None or not lab.get("returned", True):
        return "not returned (over the size limits); left as it is"
    if repo not in dest.parents or dest.suffix != ".ipynb":
        return f"refused: {lab['path']} is not a notebook inside {repo}"
    if dest.is_file() and file_sha256(dest) != lab["sha256"] and not force:
        return f"skipped: {lab['path']} changed here since it was bundled (--force)"
    tmp = dest.with_suffix(".ipynb.tmp")
    tmp.write_bytes(content)
    why = executed_as(tmp, profile)
    if why:
        tmp.unlink()
        return f"refused: the returned notebook is {why}"
    tmp.replace(dest)
    return None


def unpack_command(args) -> int:
    """``gpu unpack``: restore the returned notebooks of the labs that finished and
    the logs; 1 if any finished lab could not be restored."""
    src, repo = Path(args.source), Path(args.repo).resolve()
    summary = json.loads((src / SUMMARY).read_text())
    if summary.get("error"):
        print(f"the run stopped before any lab: {summary['error']}")
    members = returned_notebooks(src, summary.get("notebooks") or {"files": []})
    if members is None:
        print("error: the notebooks archive does not match its sum", file=sys.stderr)
        return 1
    extract_logs(src / "logs.tar.gz", Path(args.logs_dir))
    restored, problems = 0, 0
    for lab in summary["labs"]:
        state = f"{lab['name']:28s} {lab['status']:12s}"
        if lab["status"] != "finished":
            print(f"{state} left as it is ({lab.get('why', 'not run')})")
            continue
        content = members.get(lab["path"])
        why = restore(lab, content, repo, summary["profile"], args.force)
        if why:
            print(f"{state} {why}")
            problems += 1
        else:
            restored += 1
            print(f"{state} -> {lab['path']}")
    print(f"{restored} notebook(s) restored; logs in {args.logs_dir}")
    return 1 if problems else 0
