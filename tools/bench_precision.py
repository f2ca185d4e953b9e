"""One training epoch of one CNN-lab net at one precision, for timing whole processes.

    python tools/bench_precision.py NET PRECISION [--n 1024]

NET: ``alexnet_style`` / ``vgg_style`` (cnns_keras, R3's nets: Adam, batch 128),
``r4_final`` (augmentation_ablation, R4's Cuadro 3 net: SGD 0.01, batch 32),
``alexnet32`` (cnns_pytorch, R2's AlexNet: Adam, batch 128, PyTorch).
PRECISION: ``float32`` or ``bfloat16`` (Keras: the ``mixed_bfloat16`` policy;
PyTorch: ``torch.autocast("cpu", dtype=torch.bfloat16)``; weights stay float32 in
both). Random images of CIFAR's shape stand in for the data: speed does not depend
on the pixels. Prints the training images per second of the epoch (building and
the first compiled step included, as a lab's seed pays them).

``tools/bench_training.py`` times Keras' ``mixed_bfloat16`` in-process among its other
speed variants; this script exists for whole-process pairs and adds PyTorch's autocast.
Pair the two precisions as whole processes with a timing tool that runs them in
turn (A B A B ...) and reports the ratio pair by pair; nothing is asserted here.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import helpers  # noqa: E402, F401  (before keras: see helpers/__init__)

KERAS_NETS = ("alexnet_style", "vgg_style", "r4_final")


def keras_epoch(net: str, precision: str, x, y) -> float:
    """Seconds for one fit epoch of a fresh Keras net."""
    import keras

    from helpers import ablation, models_keras, train

    if precision == "bfloat16":
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    if net == "r4_final":
        model = ablation.r4_net(
            10, **ablation.R4_NET_2, batchnorm="before", dropout="r4"
        )
        optimizer, batch = keras.optimizers.SGD(0.01), 32
    else:
        model = getattr(models_keras, net)(num_classes=10)
        optimizer, batch = "adam", 128
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        **train.keras_compile_options(),
    )
    start = time.perf_counter()
    model.fit(x, y, epochs=1, batch_size=batch, verbose=0)
    return time.perf_counter() - start


def torch_epoch(precision: str, x, y) -> float:
    """Seconds for one training epoch of a fresh AlexNet32 (PyTorch)."""
    import torch

    from helpers import models_torch

    torch.manual_seed(0)
    net = models_torch.AlexNet32()
    opt = torch.optim.Adam(net.parameters())
    xs = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    ys = torch.from_numpy(y.astype(np.int64))
    start = time.perf_counter()
    net.train()
    for i in range(0, len(xs), 128):
        with torch.autocast("cpu", torch.bfloat16, enabled=precision == "bfloat16"):
            loss = torch.nn.functional.cross_entropy(
                net(xs[i : i + 128]), ys[i : i + 128]
            )
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("net", choices=(*KERAS_NETS, "alexnet32"))
    parser.add_argument("precision", choices=("float32", "bfloat16"))
    parser.add_argument("--n", type=int, default=1024, help="training images")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.random((args.n, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, args.n)
    if args.net == "alexnet32":
        seconds = torch_epoch(args.precision, x, y)
    else:
        seconds = keras_epoch(args.net, args.precision, x, y)
    print(f"{args.net} {args.precision}: {args.n / seconds:.0f} images/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
