"""Process trees and stop signals: find every process below one, stop whole trees (a
Jupyter kernel runs in a session of its own, so its process group is not enough),
have a worker stop its own tree when its parent is gone, and turn SIGINT and SIGTERM
into one exception that a batch can act on.

The standard library only (the GPU machine's lab runner uses it before its wheels are
installed); the process table is read from ``/proc`` where there is one.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc; empty where there is none)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def alive(pid: int) -> bool:
    """True while the process ``pid`` runs (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False


def _signal_trees(roots, trees, sig) -> None:
    for root, pids in zip(roots, trees):
        try:
            os.killpg(root, sig)
        except (ProcessLookupError, PermissionError):
            pass
        for pid in pids:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass


def stop_trees(roots: list[int], grace: float = 2.0, reap=None) -> list[list[int]]:
    """Stop the processes ``roots``, all at once, each with its process group and
    every process below it: SIGTERM, then SIGKILL to what is left after ``grace``
    seconds. ``reap()`` collects the exit status of the caller's own children (so
    they do not linger as zombies). Returns the pids signalled, per root."""
    trees = [[root] + descendants(root) for root in roots]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        _signal_trees(roots, trees, sig)
        end = time.monotonic() + grace
        while True:
            if reap:
                reap()
            if not any(alive(pid) for pids in trees for pid in pids):
                return trees
            if time.monotonic() > end:
                break
            time.sleep(0.1)
    return trees


def die_with_parent(poll_s: float = 0.5) -> None:
    """In a worker: when its parent is gone (killed, even by SIGKILL), stop every
    process below this one (its kernel) and exit, so that nothing runs on with
    parent 1. A daemon thread that polls the parent's pid."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(poll_s)
        stop_trees(descendants(os.getpid()), grace=1.0)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


class Stopped(KeyboardInterrupt):
    """SIGINT (Ctrl-C) or SIGTERM (``timeout``, ``kill``) arrived: ``signum``."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def stop_signals():
    """Within it, the first SIGINT or SIGTERM raises :class:`Stopped` in the main
    thread (later ones are only noted, so that cleaning up is not cut short); yields
    the list of signals received, which still says a stop came where a library
    swallowed the exception. Elsewhere than the main thread: nothing changes."""
    received: list[int] = []

    def handler(signum, frame):
        received.append(signum)
        if len(received) == 1:
            raise Stopped(signum)

    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    stops = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, handler) for s in stops}
    try:
        yield received
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
