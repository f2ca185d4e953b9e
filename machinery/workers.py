"""Tasks in worker processes, several at once, that never outlive the batch.

Each task runs in a fresh (spawned) process of its own session, so a Ctrl-C in the
terminal reaches the parent alone, which decides; a worker stops its own process
tree (its kernel) when its parent is gone, even killed by SIGKILL. On an interrupt
the parent stops every running worker's tree before it says anything.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from dataclasses import dataclass, field
from multiprocessing import connection

from .processes import die_with_parent, stop_trees


@dataclass
class WorkerDied:
    """What a task gives when its worker ended without an answer."""

    exitcode: int | None

    def __str__(self) -> str:
        code = self.exitcode
        if code is not None and code < 0:
            return f"its worker process was killed ({signal.Signals(-code).name})"
        return f"its worker process died (exit status {code})"


@dataclass
class Interrupted(Exception):
    """The batch was stopped by ``signum``: ``running`` (tasks that were executing
    and gave no answer; their workers are stopped) and ``waiting`` (never started)."""

    signum: int
    running: list = field(default_factory=list)
    waiting: list = field(default_factory=list)


def _work(function, task: tuple, answer) -> None:
    """A worker: ``function(*task)`` sent back through ``answer``."""
    os.setsid()  # a Ctrl-C in the terminal is the parent's to handle
    die_with_parent()
    answer.send(function(*task))
    answer.close()


def _received(reader):
    """What came through ``reader``; None if nothing whole did (the worker died
    first, or midway)."""
    try:
        return reader.recv() if reader.poll() else None
    except Exception:  # EOF, a broken pipe, a message cut off midway
        return None


def _answer(reader, process) -> object:
    """What the worker behind ``reader`` sent, or :class:`WorkerDied`."""
    result = _received(reader)
    process.join()
    return WorkerDied(process.exitcode) if result is None else result


def run_in_workers(function, tasks: list[tuple], jobs: int, on_result) -> None:
    """Call ``function(*task)`` for each of ``tasks`` in a worker process, ``jobs``
    at a time, in order; ``on_result(task, result)`` as each ends (``result`` is
    what it returned, or :class:`WorkerDied`).

    On an interrupt (SIGINT, or a ``KeyboardInterrupt`` subclass carrying
    ``signum``), the running workers and every process below them are stopped, the
    answers they sent first are delivered, and :class:`Interrupted` says what was
    running and what never started.
    """
    context = multiprocessing.get_context("spawn")
    waiting, running = list(tasks), {}
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                task = waiting.pop(0)
                reader, writer = context.Pipe(duplex=False)
                process = context.Process(target=_work, args=(function, task, writer))
                running[reader] = (process, task)  # before it starts: never lost
                process.start()
                writer.close()
            for reader in connection.wait(list(running), timeout=1.0):
                process, task = running.pop(reader)
                on_result(task, _answer(reader, process))
    except KeyboardInterrupt as e:
        processes = [p for p, _ in running.values() if p.pid is not None]
        reap = lambda: [p.is_alive() for p in processes]
        stop_trees([p.pid for p in processes], reap=reap)
        silent = []
        for reader, (process, task) in running.items():
            if process.pid is None:  # stopped before it started
                waiting.insert(0, task)
                continue
            result = _received(reader)  # an answer sent just before the stop
            if result is None:
                silent.append(task)
            else:
                on_result(task, result)
        raise Interrupted(
            getattr(e, "signum", signal.SIGINT), silent, waiting
        ) from None
