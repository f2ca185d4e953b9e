"""Seconds for one t-SNE map with openTSNE (what ``helpers.embed.tsne`` uses) and with
scikit-learn, on the same points, measured in one run.

    python tools/bench_tsne.py [--n 5000] [--perplexity 30] [--repeats 3]
                               [--profile full]

The points are the first ``--n`` MNIST training images (the smoke profile's 2,000 with
``--profile smoke``), reduced to 50 principal components once, as ``embed.tsne`` does;
both libraries start from a PCA initialisation with their default optimisation settings,
one thread for openTSNE. The two are run alternately ``--repeats`` times and the medians
compared (ratio = scikit-learn / openTSNE). Timings depend on the machine and its load,
so nothing here is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import data, embed  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--perplexity", type=float, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--profile", default=None, help="smoke: the committed MNIST sample"
    )
    args = parser.parse_args(argv)
    (x, y), _ = data.load_mnist(profile=args.profile)
    points = embed.reduce(x[: args.n].reshape(len(x[: args.n]), -1) / 255.0)
    labels = y[: args.n]
    times = {"openTSNE": [], "scikit-learn": []}
    for repeat in range(args.repeats):
        for name, fit in (
            ("openTSNE", embed.tsne),
            ("scikit-learn", embed.tsne_sklearn),
        ):
            e = fit(points, perplexity=args.perplexity, seed=repeat)
            times[name].append(e.seconds)
            print(
                f"repeat {repeat + 1}: {name:12s} {e.seconds:6.1f} s, 10-NN agreement "
                f"{embed.neighbour_agreement(e.points, labels):.3f}",
                flush=True,
            )
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(
        f"{len(points):,} points x {points.shape[1]} dims, "
        f"perplexity {args.perplexity:g}: median "
        + ", ".join(f"{name} {s:.1f} s" for name, s in medians.items())
        + "; scikit-learn / openTSNE = "
        f"{medians['scikit-learn'] / medians['openTSNE']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
