"""Recreate the committed smoke samples in ``helpers/samples/`` from a local
data folder.

    LABS_DATA_DIR=../shared/data python tools/make_smoke_samples.py \\
        [--out helpers/samples]

The data folder must be laid out like the project's shared data (the offline copies: the
MNIST and Fashion-MNIST IDX files, ``cifar10_jpg.tar.gz``, ``imdb_raw.json.xz``, the
hymenoptera and flowers archives, the CSVs and ``dog.jpg``); every file is checked
against the registry first. The subsets are fixed (the first images of each class, in
file or name order), and every archive is written without time stamps, so a rerun gives
byte-identical files. ``SHA256SUMS`` is rewritten.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import lzma
import os
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from helpers import data  # noqa: E402
from helpers.data.sources import DATASETS, fetch, verify  # noqa: E402

MNIST_PER_CLASS = (200, 50)  # train, test: 2,000 + 500
CIFAR_PER_CLASS = (100, 30)  # 1,000 + 300
IMDB_PER_LABEL = (250, 100)  # 500 + 200 reviews
HYMENOPTERA_PER_CLASS = (
    16  # per split, re-encoded with the short side at HYMENOPTERA_SIDE
)
HYMENOPTERA_SIDE = 128
FLOWERS_PER_CLASS = 24  # the 128 x 128 JPEGs copied as they are


def gzip_bytes(raw: bytes) -> bytes:
    """gzip without a file name or time stamp (reproducible)."""
    buf = io.BytesIO()
    with gzip.GzipFile(
        filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9
    ) as f:
        f.write(raw)
    return buf.getvalue()


def tar_gz_bytes(files: list[tuple[str, bytes]]) -> bytes:
    """A .tar.gz of ``(name, bytes)`` in the given order, with no owners or
    time stamps."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, content in files:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(content), 0, 0o644
            tar.addfile(info, io.BytesIO(content))
    return gzip_bytes(raw.getvalue())


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes((0, 0, 8, array.ndim)) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    return header + np.ascontiguousarray(array, np.uint8).tobytes()


def first_per_class(y: np.ndarray, n: int) -> np.ndarray:
    """Indices of the first ``n`` examples of every class, in their original order."""
    return np.sort(np.concatenate([np.flatnonzero(y == c)[:n] for c in np.unique(y)]))


def mnist_like(name: str) -> dict[str, bytes]:
    splits = data.idx.load_idx(name, "full")
    out = {}
    for (x, y), split, n in zip(splits, ("train", "test"), MNIST_PER_CLASS):
        keep = first_per_class(y, n)
        out[DATASETS[name].samples[f"{split}_images"][0]] = gzip_bytes(
            idx_bytes(x[keep])
        )
        out[DATASETS[name].samples[f"{split}_labels"][0]] = gzip_bytes(
            idx_bytes(y[keep].astype(np.uint8))
        )
    return out


def grouped_members(path: Path) -> dict[tuple[str, str], list[tuple[str, bytes]]]:
    """``{(folder, class): [(member name, bytes), ...]}``, sorted by file name."""
    groups: dict = {}
    for member, content in data.decoding.archive_files(
        path, lambda n: n.lower().endswith(".jpg")
    ):
        parts = PurePosixPath(member).parts
        groups.setdefault((parts[-3], parts[-2]), []).append((member, content))
    return {
        k: sorted(v, key=lambda mc: PurePosixPath(mc[0]).name)
        for k, v in sorted(groups.items())
    }


def cifar10() -> bytes:
    found = fetch("cifar10")
    if found.fmt != "jpg-tar":
        sys.exit(
            "The CIFAR-10 sample is cut from the offline JPEG copy, "
            "cifar10/cifar10_jpg.tar.gz."
        )
    groups, files = grouped_members(found.path), []
    for split, n in zip(("train", "test"), CIFAR_PER_CLASS):
        for c in data.CIFAR10_CLASSES:
            files += [
                (f"{split}/{c}/{PurePosixPath(m).name}", b)
                for m, b in groups[(split, c)][:n]
            ]
    return tar_gz_bytes(files)


def imdb() -> bytes:
    texts = data.imdb.imdb_texts(fetch("imdb"))
    out = {}
    for split, n in zip(("train", "test"), IMDB_PER_LABEL):
        docs, labels = texts[split]
        keep = first_per_class(np.asarray(labels), n)
        out[split] = {
            "text": [docs[i] for i in keep],
            "label": [int(labels[i]) for i in keep],
        }
    raw = json.dumps(out, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return lzma.compress(raw, format=lzma.FORMAT_XZ, preset=9 | lzma.PRESET_EXTREME)


def hymenoptera() -> bytes:
    from PIL import Image

    files = []
    for (split, c), members in grouped_members(fetch("hymenoptera").path).items():
        for member, content in members[:HYMENOPTERA_PER_CLASS]:
            with Image.open(io.BytesIO(content)) as im:
                im = im.convert("RGB")
                scale = HYMENOPTERA_SIDE / min(im.size)
                if scale < 1:
                    im = im.resize(
                        (round(im.width * scale), round(im.height * scale)),
                        Image.LANCZOS,
                    )
                buf = io.BytesIO()
                im.save(buf, "JPEG", quality=85)
            files.append(
                (
                    f"hymenoptera_data/{split}/{c}/{PurePosixPath(member).name}",
                    buf.getvalue(),
                )
            )
    return tar_gz_bytes(files)


def flowers() -> bytes:
    files = []
    for (_, c), members in grouped_members(fetch("flowers").path).items():
        files += [
            (f"flowers/{c}/{PurePosixPath(m).name}", b)
            for m, b in members[:FLOWERS_PER_CLASS]
        ]
    return tar_gz_bytes(files)


def copied(name: str) -> bytes:
    """A file shipped whole, checked against the registry's hash first."""
    f = next(iter(DATASETS[name].files.values()))[0]
    path = Path(os.environ["LABS_DATA_DIR"]) / f.path
    verify(path, f.sha256, "Re-copy it from the project's shared data.")
    return path.read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "helpers" / "samples")
    args = parser.parse_args()
    if not os.environ.get("LABS_DATA_DIR"):
        sys.exit(
            "Set LABS_DATA_DIR to a folder laid out like the project's shared data."
        )
    os.environ["LABS_OFFLINE"] = "1"  # read the data folder only: never download here
    os.environ["LABS_CACHE_DIR"] = tempfile.mkdtemp(prefix="no-cache-")
    files = {
        **mnist_like("mnist"),
        **mnist_like("fashion_mnist"),
        "cifar10-sample-jpg.tar.gz": cifar10(),
        "imdb-sample.json.xz": imdb(),
        "hymenoptera-sample.tar.gz": hymenoptera(),
        "flowers5-sample.tar.gz": flowers(),
    }
    for name in ("boston", "pima", "dog"):
        files[DATASETS[name].samples[next(iter(DATASETS[name].samples))][0]] = copied(
            name
        )
    args.out.mkdir(parents=True, exist_ok=True)
    for name, content in sorted(files.items()):
        (args.out / name).write_bytes(content)
    sums = "".join(
        f"{hashlib.sha256(c).hexdigest()}  {n}\n" for n, c in sorted(files.items())
    )
    (args.out / "SHA256SUMS").write_text(sums)
    total = sum(map(len, files.values()))
    print(
        f"wrote {len(files)} files, {total / 1e6:.2f} MB, and SHA256SUMS to {args.out}"
    )


if __name__ == "__main__":
    main()
