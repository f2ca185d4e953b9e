"""Training speed on the CPU: each lab net's baseline and its variants, timed in one
run, as ratios.

    python tools/bench_training.py [--n 10000] [--epochs 1] [--repeats 3]
        [--cases keras torch predict data]

Cases (``--cases``; a net's name picks one net, ``keras``/``torch``/``data`` a group):

* Keras (``helpers.train.fit_keras``): ``tominet`` and ``dense_mnist_net`` on MNIST
  (batch 128, as the labs), ``basenet`` on CIFAR-10 (the lab's BASENET settings: SGD
  0.01, batch 32). Baseline: ``train.FIT_SETTINGS`` with ``steps_per_execution=1``,
  ``jit_compile=False`` (what "auto" means on a CPU-only TensorFlow), validation at
  the training batch size.
  Variants (``--keras-variants``): ``steps_per_execution`` 32, XLA
  (``jit_compile=True``), both, validation batches of 1024, and the
  ``mixed_bfloat16`` policy (bfloat16 arithmetic, float32 weights). ``vgg_style`` and
  ``alexnet_style`` (cnns_keras's R3 nets on CIFAR-10, Adam, batch 128, flips and
  shifts) run only when named, or with ``r3``: they are slow.
* PyTorch (``helpers.train.fit_torch``): ``SimpleCNN`` on MNIST and ``AlexNet32`` on
  CIFAR-10 (Adam, batch 128, as the lab). Baseline: PyTorch's default thread count and
  ``channels_last=False``. Variants: one thread, and ``channels_last=True`` (the net's
  weights and the training images NHWC).
* ``predict``: the logits of ``--n`` test images from a SimpleCNN / AlexNet32 trained
  briefly, under ``torch.no_grad()`` vs ``torch.inference_mode()`` (what
  ``train.predict_torch`` uses).
* ``data``: ``data.load_mnist()`` and ``data.load_cifar10()`` called twice in this
  process (what an in-process memo would save), with the data under ``LABS_DATA_DIR``.

Each training measurement is one fresh model trained for ``--epochs`` on the first
``--n`` training images (a seeded tenth held out for validation, as the labs do), then
evaluated on the first ``--n-test`` test images; its time includes building,
tracing/compiling and evaluating, as each of the labs' seeds pays them. One uncounted
baseline run warms each case up. The arms of a case then run interleaved (A B C ..., the
order rotated each repeat), ``--repeats`` times; repeat r uses seed r for every arm, so
each variant is paired with the baseline of the same seed. Printed per variant: the
median and min-max of the paired ratios variant time / baseline time (< 1: faster; with
``--epochs`` 2 or more also for the later epochs alone, without tracing or compiling),
and "same numbers": the largest |variant - baseline| of the final test accuracy and loss
over the seeds, next to the baseline's spread over the seeds (max - min). A variant
keeps the numbers when its differences are within that spread (with one repeat: within
``--tolerance``). Timings depend on the machine and its load (on a shared 2-core machine
one PyTorch thread can beat two only because other processes hold a core), so nothing
here is asserted: run it and read the numbers."""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

# helpers first: import order, see helpers/__init__
from helpers import data, train  # noqa: E402

KERAS_BASELINE = dict(
    steps_per_execution=1, jit_compile=False, validation_batch_size=None
)
KERAS_VARIANTS = {
    "steps_per_execution=32": dict(steps_per_execution=32),
    "jit_compile=True": dict(jit_compile=True),
    "spe=32 + jit": dict(steps_per_execution=32, jit_compile=True),
    "validation batch 1024": dict(validation_batch_size=1024),
    "mixed_bfloat16": dict(policy="mixed_bfloat16"),
}
KERAS_NETS = ("tominet", "dense_mnist_net", "basenet")
R3_NETS = ("vgg_style", "alexnet_style")  # cnns_keras: slow, only by name or ``r3``
TORCH_NETS = ("SimpleCNN", "AlexNet32")


# --- data -----------------------------------------------------------------------------
_loaded: dict[str, tuple] = {}


def _scaled(name: str, n: int, n_test: int, layout: str):
    """The first ``n`` / ``n_test`` images of MNIST or CIFAR-10, float32 in [0, 1],
    NHWC or NCHW."""
    if name not in _loaded:
        _loaded[name] = (data.load_mnist if name == "mnist" else data.load_cifar10)()
    (x, y), (x_test, y_test) = _loaded[name]

    def scale(a):
        a = a.astype("float32") / 255
        a = a[..., None] if a.ndim == 3 else a
        return np.ascontiguousarray(a.transpose(0, 3, 1, 2)) if layout == "NCHW" else a

    return (scale(x[:n]), y[:n]), (scale(x_test[:n_test]), y_test[:n_test])


class EpochClock:
    """Stands in for a progress bar (``train.counting_epochs``): ``fit_keras`` and
    ``fit_torch`` call ``update(1)`` after each epoch, so the times between the calls
    are the epochs after the first (no tracing or compiling)."""

    def __init__(self):
        self.ends = []

    def update(self, n):
        self.ends.append(time.perf_counter())

    def set_postfix_str(self, *args, **kwargs):
        pass

    def later_epochs(self) -> float | None:
        """Mean seconds of epochs 2, 3, ... (None with one epoch)."""
        return float(np.mean(np.diff(self.ends))) if len(self.ends) > 1 else None


# --- arms: each returns (seconds, {"accuracy", "loss"}, later epochs' seconds) -------
def keras_arm(net: str, options: dict, args):
    from helpers import ablation, models_keras

    options = dict(options)
    policy = options.pop("policy", "float32")
    fixed = dict(batch_size=128)  # the MNIST nets and R3's: Adam, batch 128
    if net in R3_NETS:  # cnns_keras's R3 nets, with its flips and shifts
        split = _scaled("cifar10", args.n, args.n_test, "NHWC")
        augment = dict(flip=True, translate=0.1)
        build = lambda: getattr(models_keras, net)(  # noqa: E731
            num_classes=10, augment=models_keras.augmentation(**augment)
        )
    elif net == "basenet":
        split = _scaled("cifar10", args.n, args.n_test, "NHWC")
        config = ablation.BASENET
        build = lambda: ablation.build_model(config, 10)  # noqa: E731
        fixed = dict(
            batch_size=config["batch_size"],
            optimizer=lambda: ablation.make_optimizer(config),
        )
    else:
        split = _scaled("mnist", args.n, args.n_test, "NHWC")
        build = getattr(models_keras, net)

    def arm(seed):
        import keras

        clock = EpochClock()
        keras.mixed_precision.set_global_policy(policy)
        try:
            with train.fit_settings(**{**KERAS_BASELINE, **options}):
                with train.counting_epochs(clock):
                    start = time.perf_counter()
                    run = train.fit_keras(
                        build, split, seed=seed, epochs=args.epochs, **fixed
                    )
                    seconds = time.perf_counter() - start
        finally:
            keras.mixed_precision.set_global_policy("float32")
        return seconds, run.test, clock.later_epochs()

    return arm


@contextlib.contextmanager
def torch_threads(n: int | None):
    import torch

    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def torch_arm(net: str, threads: int | None, channels_last: bool, args):
    from helpers import models_torch

    split = _scaled(
        "mnist" if net == "SimpleCNN" else "cifar10", args.n, args.n_test, "NCHW"
    )

    def arm(seed):
        clock = EpochClock()
        settings = dict(device="cpu", channels_last=channels_last)
        with torch_threads(threads), train.fit_settings(**settings):
            with train.counting_epochs(clock):
                start = time.perf_counter()
                run = train.fit_torch(
                    getattr(models_torch, net),
                    split,
                    seed=seed,
                    epochs=args.epochs,
                    batch_size=128,
                )
                return time.perf_counter() - start, run.test, clock.later_epochs()

    return arm


def predict_logits(model, x, grad_mode, batch_size: int = 1024):
    """``train.predict_torch``'s loop, under ``grad_mode`` (``torch.no_grad`` or
    ``torch.inference_mode``)."""
    import torch

    x = torch.as_tensor(x)
    model.eval()
    with grad_mode():
        out = [
            model(x[i : i + batch_size]).float().cpu()
            for i in range(0, len(x), batch_size)
        ]
    return torch.cat(out).numpy()


def predict_arms(net: str, args) -> dict:
    import torch
    import torch.nn.functional as F

    (x, y), (x_test, y_test) = _scaled(
        "mnist" if net == "SimpleCNN" else "cifar10", args.n, args.n_test, "NCHW"
    )
    from helpers import models_torch

    with train.fit_settings(device="cpu"):
        model = train.fit_torch(
            getattr(models_torch, net),
            ((x[:2000], y[:2000]), None),
            seed=0,
            epochs=1,
            validation=None,
            keep_model=True,
        ).model
    images = np.concatenate([x_test] * max(1, args.n // len(x_test)))[: args.n]
    labels = np.concatenate([y_test] * max(1, args.n // len(y_test)))[: args.n]

    def arm_of(mode):
        def arm(seed):
            start = time.perf_counter()
            logits = predict_logits(model, images, mode)
            seconds = time.perf_counter() - start
            loss = float(
                F.cross_entropy(torch.as_tensor(logits), torch.as_tensor(labels))
            )
            return (
                seconds,
                {
                    "accuracy": float(np.mean(logits.argmax(1) == labels)),
                    "loss": loss,
                },
                None,
            )

        return arm

    return {
        "no_grad": arm_of(torch.no_grad),
        "inference_mode": arm_of(torch.inference_mode),
    }


# --- running and reporting ------------------------------------------------------------
def compare(title: str, arms: dict, repeats: int, tolerance: float) -> list[dict]:
    """Run ``arms`` (the first is the baseline) interleaved, ``repeats`` rounds; print
    the ratios and the same-numbers check."""
    names = list(arms)
    seconds = {name: [] for name in names}
    later = {name: [] for name in names}
    results = {name: [] for name in names}
    print(f"\n{title}", flush=True)
    arms[names[0]](0)  # warm-up (first graph, thread pools, caches), not counted
    for r in range(repeats):
        order = (
            names[r % len(names) :] + names[: r % len(names)]
        )  # rotate: no fixed position
        for name in order:
            s, test, epoch = arms[name](r)
            seconds[name].append(s)
            later[name].append(epoch)
            results[name].append(test)
            print(
                f"  seed {r}: {name:24s} {s:7.2f} s, "
                f"test accuracy {test['accuracy']:.4f}, "
                f"loss {test['loss']:.4f}"
                + (f", epochs 2+ {epoch:.2f} s each" if epoch else ""),
                flush=True,
            )
    base = names[0]
    acc = lambda name: np.array([t["accuracy"] for t in results[name]])  # noqa: E731
    loss = lambda name: np.array([t["loss"] for t in results[name]])  # noqa: E731
    spread_acc, spread_loss = np.ptp(acc(base)), np.ptp(loss(base))
    print(
        f"  baseline {base}: median {statistics.median(seconds[base]):.2f} s "
        f"(min {min(seconds[base]):.2f}, max {max(seconds[base]):.2f}); seeds' spread: "
        f"accuracy {spread_acc:.4f}, loss {spread_loss:.4f}"
    )
    rows = []
    for name in names[1:]:
        ratios = [v / b for v, b in zip(seconds[name], seconds[base])]
        d_acc = float(np.max(np.abs(acc(name) - acc(base))))
        d_loss = float(np.max(np.abs(loss(name) - loss(base))))
        limit_acc = spread_acc if repeats > 1 else tolerance
        limit_loss = spread_loss if repeats > 1 else tolerance
        same = d_acc <= max(limit_acc, 1e-6) and d_loss <= max(limit_loss, 1e-6)
        print(
            f"  ratio {name} / {base}: median {statistics.median(ratios):.3f} "
            f"(min {min(ratios):.3f}, max {max(ratios):.3f}, n={len(ratios)}); "
            f"|d accuracy| <= {d_acc:.4f}, |d loss| <= {d_loss:.4f}: "
            f"{'same numbers' if same else 'NOT the same numbers'}",
            flush=True,
        )
        if later[base][0] is not None:
            steady = [v / b for v, b in zip(later[name], later[base])]
            print(
                f"    epochs 2+ only (no tracing/compiling): ratio median "
                f"{statistics.median(steady):.3f} "
                f"(min {min(steady):.3f}, max {max(steady):.3f})"
            )
        rows.append(
            dict(case=title, variant=name, ratios=ratios, d_acc=d_acc, d_loss=d_loss)
        )
    return rows


def time_loads(repeats: int) -> None:
    """Seconds of each loader called ``repeats`` times in this process (a memo would
    make calls 2, 3, ... free)."""
    for load in (data.load_mnist, data.load_cifar10):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            load()
            times.append(time.perf_counter() - start)
        print(
            f"\n{load.__name__}() called {repeats} times in one process: "
            + ", ".join(f"{t:.2f} s" for t in times)
            + f"; call 2 / call 1 = {times[1] / times[0]:.3f}",
            flush=True,
        )


def parse(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="training images")
    parser.add_argument("--n-test", type=int, default=2_000, help="test images")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument(
        "--repeats", type=int, default=3, help="rounds = seeds 0, 1, ..."
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=0.01,
        help="|d accuracy| and |d loss| allowed when --repeats 1 (no seeds' spread)",
    )
    parser.add_argument(
        "--cases",
        nargs="+",
        default=["keras", "torch", "predict"],
        help="keras, r3, torch, predict, data, or net names (tominet, vgg_style, ...)",
    )
    parser.add_argument(
        "--keras-variants",
        nargs="+",
        default=list(KERAS_VARIANTS),
        help="which Keras variants to run (default: all)",
    )
    return parser.parse_args(argv)


def run_cases(args) -> list[dict]:
    """Every case ``--cases`` names, compared arm by arm; their summary rows."""
    import torch

    wanted, rows = set(args.cases), []
    for net in KERAS_NETS + R3_NETS:
        if wanted & ({net, "r3"} if net in R3_NETS else {"keras", net}):
            arms = {"baseline": keras_arm(net, {}, args)}
            arms.update(
                {
                    v: keras_arm(net, KERAS_VARIANTS[v], args)
                    for v in args.keras_variants
                }
            )
            rows += compare(f"Keras {net}", arms, args.repeats, args.tolerance)
    for net in TORCH_NETS:
        if wanted & {"torch", net}:
            arms = {
                f"{torch.get_num_threads()} threads": torch_arm(net, None, False, args),
                "1 thread": torch_arm(net, 1, False, args),
                "channels_last": torch_arm(net, None, True, args),
            }
            rows += compare(f"PyTorch {net}", arms, args.repeats, args.tolerance)
    for net in TORCH_NETS:
        if wanted & {"predict", f"predict-{net}"}:
            arms = predict_arms(net, args)
            rows += compare(
                f"predict {net} ({args.n:,} images)", arms, args.repeats, args.tolerance
            )
    return rows


def main(argv=None) -> int:
    args = parse(argv)
    import torch

    print(
        f"{args.n:,} training images (a tenth for validation), "
        f"{args.n_test:,} test images, {args.epochs} epoch(s), {args.repeats} repeats; "
        f"torch {torch.get_num_threads()} threads",
        flush=True,
    )
    rows = run_cases(args)
    if "data" in args.cases:
        time_loads(2)
    if rows:
        print("\nsummary: ratio variant / baseline, median (min-max), n")
        for row in rows:
            r = row["ratios"]
            print(
                f"  {row['case']:34s} {row['variant']:24s} {statistics.median(r):.3f} "
                f"({min(r):.3f}-{max(r):.3f}), n={len(r)}; |d acc| {row['d_acc']:.4f}, "
                f"|d loss| {row['d_loss']:.4f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
