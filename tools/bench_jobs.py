"""What ``python -m machinery run --jobs 2`` buys on this CPU: two lab nets
trained as whole processes, one after another with every core (what ``--jobs 1`` does)
against the same two at once, each capped at its share of the cores (what ``--jobs 2``
does), interleaved, as ratios.

    python tools/bench_jobs.py [--pairs basenet+SimpleCNN tominet+AlexNet32]
        [--n 5000] [--epochs 2] [--repeats 3]

A job is one net of ``tools/bench_training.py`` (``tominet``, ``dense_mnist_net``,
``basenet``, ``vgg_style``, ``alexnet_style``, ``SimpleCNN``, ``AlexNet32``) trained
with the labs' settings (Keras: ``steps_per_execution`` 32; SimpleCNN:
``channels_last``) for ``--epochs`` on the first ``--n`` images, in a fresh process:
its time includes the start-up, the data loading and the tracing a lab's kernel pays.
The two modes of a pair alternate (their order swapped each repeat); each repeat's
ratio is wall time at once / wall time one after another (< 1: ``--jobs 2`` is
faster). Printed: the median and min-max of the ratios per pair. Nothing is asserted:
on a machine with other load the numbers say little."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machinery import environment  # noqa: E402

DEFAULT_PAIRS = ("basenet+SimpleCNN", "tominet+tominet", "SimpleCNN+AlexNet32")


def train_one(net: str, args) -> float:
    """Train ``net`` once as the labs do; its seconds."""
    import bench_training as bench

    if net in bench.TORCH_NETS:
        arm = bench.torch_arm(net, None, net == "SimpleCNN", args)
    else:
        arm = bench.keras_arm(net, bench.KERAS_VARIANTS["steps_per_execution=32"], args)
    return arm(0)[0]


def job(net: str, args, threads: int | None) -> subprocess.Popen:
    """``net``'s job as a process; ``threads`` caps its threads as the runner does."""
    env = dict(os.environ)
    if threads:
        env.update(dict.fromkeys(environment.THREAD_VARS, str(threads)))
    command = [sys.executable, __file__, "--one", net, "--n", str(args.n)]
    command += ["--n-test", str(args.n_test), "--epochs", str(args.epochs)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def timed(nets, args, at_once: bool) -> float:
    """Wall seconds for ``nets`` one after another (every core) or all at once."""
    start = time.perf_counter()
    if at_once:
        threads = environment.threads_per_lab(len(nets))
        procs = [job(net, args, threads) for net in nets]
    else:
        procs = []
        for net in nets:
            procs.append(job(net, args, None))
            procs[-1].wait()
    if any(p.wait() for p in procs):
        raise SystemExit(f"a job of {'+'.join(nets)} failed")
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", nargs="+", default=DEFAULT_PAIRS)
    parser.add_argument("--n", type=int, default=5000, help="training images")
    parser.add_argument("--n-test", type=int, default=1000, help="test images")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a job's own process
    args = parser.parse_args(argv)
    if args.one:
        print(f"{args.one}: {train_one(args.one, args):.2f} s")
        return 0
    print(
        f"{os.cpu_count()} cores; {args.n:,} images, {args.epochs} epoch(s), "
        f"{args.repeats} repeats; at once: {environment.threads_per_lab(2)} thread(s) "
        "each",
        flush=True,
    )
    rows = []
    for pair in args.pairs:
        nets = pair.split("+")
        ratios = []
        for r in range(args.repeats):
            order = (False, True) if r % 2 == 0 else (True, False)
            seconds = {mode: timed(nets, args, mode) for mode in order}
            ratios.append(seconds[True] / seconds[False])
            print(
                f"  {pair}: one after another {seconds[False]:.1f} s, at once "
                f"{seconds[True]:.1f} s, ratio {ratios[-1]:.3f}",
                flush=True,
            )
        rows.append((pair, ratios))
    print("\nsummary: ratio at once / one after another, median (min-max), n")
    for pair, r in rows:
        print(
            f"  {pair:28s} {statistics.median(r):.3f} ({min(r):.3f}-{max(r):.3f}), "
            f"n={len(r)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
