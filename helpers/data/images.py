"""Photo data sets, read from archives (tar or zip): CIFAR-10 and CIFAR-100, the
image-folder sets (ants and bees, flowers), and the photos shipped whole."""

from __future__ import annotations

import difflib
import numbers
import pickle
from pathlib import Path, PurePosixPath

import numpy as np

from .decoding import (
    archive_files,
    check_labels,
    decode_image,
    decoding,
    is_smoke,
    shuffled,
)
from .errors import DataError
from .sources import fetch

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CIFAR100_FINE_CLASSES = tuple(  # label order of the canonical meta file: alphabetical
    "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy "
    "bridge bus butterfly camel can castle caterpillar cattle chair chimpanzee clock "
    "cloud cockroach couch crab crocodile cup dinosaur dolphin elephant flatfish "
    "forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion "
    "lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange "
    "orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine "
    "possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper "
    "snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone "
    "television tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf "
    "woman worm".split()
)
IMAGE_FOLDER_CLASSES = {  # every class must have images in every split
    "hymenoptera": ("ants", "bees"),
    "flowers": ("daisy", "dandelion", "rose", "sunflower", "tulip"),
}
IMAGE_FOLDERS = tuple(IMAGE_FOLDER_CLASSES)
IMAGES = ("dog",)
FLOWERS_TEST_FRACTION = 0.2  # per class, see load_image_folder
SPLIT_SEED = 0  # the flowers split
_FLOWER_NAMES = {
    "roses": "rose",
    "sunflowers": "sunflower",
    "tulips": "tulip",
}  # TF Flowers folders


def _image_groups(path: Path, size=None) -> dict[tuple[str, str], list]:
    """``{(folder, class): [(file name, image), ...]}`` of
    ``.../<folder>/<class>/<file>.jpg``, sorted."""
    from PIL import Image

    groups: dict[tuple[str, str], list] = {}
    for member, data in archive_files(
        path, lambda n: n.lower().endswith((".jpg", ".jpeg", ".png"))
    ):
        parts = member.split("/")  # str.split: PurePosixPath is slow over 60,000 names
        if len(parts) < 3 or any(p.startswith((".", "__MACOSX")) for p in parts):
            continue
        try:
            image = decode_image(data, size)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
            raise DataError(
                f"{path}: its member {member} is not a readable image "
                f"({type(e).__name__}: {e}). The archive is damaged or holds a file "
                "that is not an image: replace the archive with a good copy, or remove "
                "that member."
            ) from e
        groups.setdefault((parts[-3], parts[-2]), []).append((parts[-1], image))
    if not groups:
        raise DataError(
            f"{path} holds no images laid out as <folder>/<class>/<file>.jpg."
        )
    return {
        key: sorted(items, key=lambda item: item[0]) for key, items in groups.items()
    }


def _incomplete(path: Path, where: str, groups) -> DataError:
    """The error for an image archive lacking images of a class in a
    split (``where``)."""
    found = ", ".join(f"{s}/{c}/" for s, c in sorted(groups)) or "none"
    return DataError(
        f"{path} has {where}; every class needs images in every split (folders with "
        f"images: {found}). The archive is incomplete or not this data set: replace it "
        "with a complete copy."
    )


def _stack(groups, split: str, classes, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The images of ``split``, ordered by class; a DataError naming any class folder
    without images."""
    if empty := [c for c in classes if not groups.get((split, c))]:
        where = ", ".join(f"{split}/{c}/" for c in empty)
        raise _incomplete(path, f"no images in {where}", groups)
    items = [
        (img, label) for label, c in enumerate(classes) for _, img in groups[(split, c)]
    ]
    return np.stack([img for img, _ in items]), np.array(
        [label for _, label in items], np.int64
    )


# --- CIFAR-10 and CIFAR-100 -----------------------------------------------------------
def _cifar_pickles(path: Path, names: set[str]) -> dict[str, dict]:
    """The named pickles of a cifar-*-python.tar.gz (unpickled only after its SHA-256
    was checked)."""
    out = {
        PurePosixPath(m).name: pickle.loads(data, encoding="bytes")
        for m, data in archive_files(path, lambda n: PurePosixPath(n).name in names)
    }
    if missing := names - out.keys():
        raise DataError(
            f"{path} lacks {', '.join(sorted(missing))}: not a CIFAR python archive."
        )
    return out


def _cifar_images(batches: list[dict]) -> np.ndarray:
    data = np.concatenate([np.asarray(b[b"data"], np.uint8) for b in batches])
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()


def load_cifar10(*, profile: str | None = None):
    """CIFAR-10: ``(x_train, y_train), (x_test, y_test)``, images (N, 32, 32, 3) uint8,
    labels 0-9.

    Class names: ``CIFAR10_CLASSES``. Full: 50,000 + 10,000, from the canonical python
    pickles (original order) or from the offline JPEG copy (stored sorted by class, so
    shuffled here with a fixed seed, ``ORDER_SEED``). Smoke: 1,000 + 300 of those JPEGs
    (100 + 30 a class).
    """
    found = fetch("cifar10", sample=is_smoke(profile))
    with decoding(found):
        if found.fmt == "cifar-python":
            names = [f"data_batch_{i}" for i in range(1, 6)]
            b = _cifar_pickles(found.path, set(names) | {"test_batch"})
            train = (
                _cifar_images([b[n] for n in names]),
                [y for n in names for y in b[n][b"labels"]],
            )
            test = (_cifar_images([b["test_batch"]]), b["test_batch"][b"labels"])
        else:
            groups = _image_groups(found.path)
            train, test = (
                shuffled(*_stack(groups, s, CIFAR10_CLASSES, found.path))
                for s in ("train", "test")
            )
    return tuple(
        check_labels(x, y, 10, f"cifar10 {s}")
        for (x, y), s in zip((train, test), ("train", "test"))
    )


def load_cifar100(label_mode: str = "fine", *, profile: str | None = None):
    """CIFAR-100 (canonical download only): images (N, 32, 32, 3) uint8,
    50,000 + 10,000.

    ``label_mode="fine"`` (100 classes, ``CIFAR100_FINE_CLASSES``) or ``"coarse"`` (20).
    There is no smoke sample: in the smoke profile this raises :class:`DataUnavailable`.
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f"label_mode={label_mode!r}; use 'fine' or 'coarse'.")
    found = fetch("cifar100", sample=is_smoke(profile))
    key, n_classes = (
        (b"fine_labels", 100) if label_mode == "fine" else (b"coarse_labels", 20)
    )
    with decoding(found):
        b = _cifar_pickles(found.path, {"train", "test"})
        return tuple(
            check_labels(_cifar_images([b[s]]), b[s][key], n_classes, f"cifar100 {s}")
            for s in ("train", "test")
        )


def load_cifar100_subset(n_classes: int = 25, *, profile: str | None = None):
    """All images of the first ``n_classes`` fine classes in alphabetical order,
    relabelled 0..n-1.

    The fine labels are numbered alphabetically, so these are labels 0..n-1: for 25,
    ``apple`` to ``cockroach`` (``CIFAR100_FINE_CLASSES[:25]``), 12,500 train + 2,500
    test images.
    """
    if not 1 <= n_classes <= 100:
        raise ValueError(f"n_classes={n_classes}; CIFAR-100 has 100 fine classes.")
    keep = sorted(range(100), key=CIFAR100_FINE_CLASSES.__getitem__)[:n_classes]
    relabel = np.full(100, -1, np.int64)
    relabel[keep] = np.arange(n_classes)
    return tuple(
        (x[relabel[y] >= 0], relabel[y][relabel[y] >= 0])
        for x, y in load_cifar100("fine", profile=profile)
    )


# --- Image folders --------------------------------------------------------------------
def _image_size(size) -> tuple[int, int]:
    """``size`` as (height, width): a positive int, or a pair of them; else
    a ValueError."""

    def positive(n):
        return isinstance(n, numbers.Integral) and not isinstance(n, bool) and n > 0

    if positive(size):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 2 and all(map(positive, size)):
        return int(size[0]), int(size[1])
    raise ValueError(
        f"size={size!r}: give a positive int (square images, e.g. 224) or a pair of "
        "them (height, width), e.g. (224, 224)."
    )


def load_image_folder(
    name: str, size: int | tuple[int, int] = 224, *, profile: str | None = None
):
    """A photo data set: ``(x_train, y_train), (x_test, y_test), class_names``.

    Images are resized on load (short side to ``size``, centre crop; ``size`` int or (h,
    w)) to (N, h, w, 3) uint8, ordered by class, then file name. ``"hymenoptera"``:
    ants/bees with its own train/val split (val returned as test; full 244 + 153, since
    the set's one GIF, a placeholder, is skipped). ``"flowers"``: daisy, dandelion,
    rose, sunflower, tulip, no split of its own: per class, file names sorted, shuffled
    with ``SPLIT_SEED`` and the first ``FLOWERS_TEST_FRACTION`` (rounded) taken as test.
    Smoke: 16 images per class per split (flowers: 24 per class). Every class must have
    images in every split (a flowers class at least 3 images), or this raises a
    :class:`DataError` naming the folder.
    """
    if name not in IMAGE_FOLDERS:
        close = difflib.get_close_matches(str(name), IMAGE_FOLDERS, n=1, cutoff=0.4)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DataError(
            f"Unknown image folder {name!r}.{hint} Known: {', '.join(IMAGE_FOLDERS)}."
        )
    size = _image_size(size)
    found = fetch(name, sample=is_smoke(profile))
    with decoding(found):
        groups = _image_groups(found.path, size)
    classes = list(IMAGE_FOLDER_CLASSES[name])
    if name == "hymenoptera":
        splits = (_stack(groups, s, classes, found.path) for s in ("train", "val"))
        return (*splits, classes)
    return _split_flowers(groups, classes, found.path)


def _split_flowers(groups, classes: list[str], path: Path) -> tuple:
    by_class: dict[str, list] = {c: [] for c in classes}
    for (_, c), items in sorted(groups.items()):
        by_class.setdefault(_FLOWER_NAMES.get(c, c), []).extend(items)
    rng, split = np.random.default_rng(SPLIT_SEED), {"train": [], "test": []}
    for label, c in enumerate(classes):
        items = sorted(by_class[c], key=lambda item: item[0])
        n_test = round(len(items) * FLOWERS_TEST_FRACTION)
        if not 0 < n_test < len(items):
            where = f"{len(items)} images of {c!r} (at least 3 are needed to split)"
            raise _incomplete(path, where, groups)
        test = set(rng.permutation(len(items))[:n_test].tolist())
        for i, (_, img) in enumerate(items):
            split["test" if i in test else "train"].append((img, label))
    return (
        *(
            (
                np.stack([im for im, _ in split[s]]),
                np.array([lb for _, lb in split[s]], np.int64),
            )
            for s in ("train", "test")
        ),
        classes,
    )


def load_image(name: str = "dog") -> np.ndarray:
    """A shipped photo as (H, W, 3) uint8: ``"dog"`` (a dog by a bicycle, 576 x
    768, darknet)."""
    if name not in IMAGES:
        raise DataError(
            f"Unknown image {name!r}; the shipped images are: {', '.join(IMAGES)}."
        )
    found = fetch(name)
    with decoding(found):
        return decode_image(found.path.read_bytes(), None)
