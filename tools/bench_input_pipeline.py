"""Images per second of two PyTorch input pipelines training the same model, measured in
one run.

    python tools/bench_input_pipeline.py [--n 10000] [--batch-size 128] [--repeats 1]
        [--profile full]

* ``sliced``: what ``helpers.train.fit_torch`` does. The images are normalised once,
  moved to the device as one tensor, and each batch is taken by indexing with a slice of
  a seeded permutation.
* ``DataLoader``: the canonical tutorial pipeline. A Dataset returns one PIL image at a
  time, torchvision's ``ToTensor`` and ``Normalize`` convert it, and a shuffling
  ``DataLoader`` collates the batches.

Both train SimpleCNN (report R2) with Adam for one epoch over the first ``--n`` MNIST
training images (the smoke profile's 2,000 when ``--profile smoke``). The rates include
everything from the uint8 arrays on; the ratio is sliced / DataLoader. Timings depend on
the machine and its load, so nothing here is asserted: run it and read the numbers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402
from torchvision import transforms  # noqa: E402

from helpers import data, models_torch, train  # noqa: E402  (helpers first: import order, see helpers/__init__)


class MnistImages(torch.utils.data.Dataset):
    """Like ``torchvision.datasets.MNIST``: one PIL image and its label per item,
    then ``transform``."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i], mode="L")), int(
            self.labels[i]
        )


def sliced(
    x: np.ndarray, y: np.ndarray, mean: float, std: float, batch_size: int, device
) -> float:
    """Seconds for one epoch through ``train.fit_torch``, normalising
    once beforehand."""
    start = time.perf_counter()
    images = ((x[:, None].astype("float32") / 255 - mean) / std).astype("float32")
    with train.fit_settings(device=device):
        train.fit_torch(
            models_torch.SimpleCNN,
            ((images, y), None),
            seed=0,
            epochs=1,
            batch_size=batch_size,
            validation=None,
        )
    return time.perf_counter() - start


def data_loader(
    x: np.ndarray, y: np.ndarray, mean: float, std: float, batch_size: int, device
) -> float:
    """Seconds for one epoch of the same model and optimiser, fed by a
    per-sample DataLoader."""
    start = time.perf_counter()
    torch.manual_seed(0)
    transform = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((mean,), (std,))]
    )
    loader = torch.utils.data.DataLoader(
        MnistImages(x, y, transform), batch_size=batch_size, shuffle=True
    )
    model = models_torch.SimpleCNN().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--n", type=int, default=10_000, help="training images (default 10,000)"
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="runs of each pipeline (medians reported)",
    )
    parser.add_argument(
        "--profile",
        choices=("smoke", "full"),
        default="full",
        help=(
            "full: MNIST from LABS_DATA_DIR/the cache/a download; "
            "smoke: the committed sample"
        ),
    )
    args = parser.parse_args(argv)

    (x, y), _ = data.load_mnist(profile=args.profile)
    x, y = x[: args.n], y[: args.n]
    mean, std = float(x.mean() / 255), float(x.std() / 255)
    device = train.torch_device()
    print(
        f"SimpleCNN, one epoch of {len(x):,} MNIST images, batch {args.batch_size}, "
        f"device {device}, "
        f"{torch.get_num_threads()} threads"
    )
    sliced(
        x[: 4 * args.batch_size],
        y[: 4 * args.batch_size],
        mean,
        std,
        args.batch_size,
        device,
    )  # warm-up
    times = {"sliced": [], "DataLoader": []}
    for _ in range(
        args.repeats
    ):  # alternate, so a change in the machine's load hits both
        times["DataLoader"].append(
            data_loader(x, y, mean, std, args.batch_size, device)
        )
        times["sliced"].append(sliced(x, y, mean, std, args.batch_size, device))
    rates = {
        name: len(x) / statistics.median(seconds) for name, seconds in times.items()
    }
    for name, seconds in times.items():
        print(
            f"{name:>10s}: {rates[name]:7.0f} images/s "
            f"({statistics.median(seconds):.2f} s an epoch)"
        )
    print(f"ratio sliced / DataLoader: {rates['sliced'] / rates['DataLoader']:.2f}")


if __name__ == "__main__":
    main()
