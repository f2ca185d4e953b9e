"""The labs' data sets as NumPy arrays: images ``uint8``, labels ``int64``.

Every loader follows the active profile (:mod:`helpers.profile`), or ``profile=``
when given:

* ``smoke``: a small real sample committed in ``helpers/samples/`` (no network, no
  data folder);
* ``full``: the real data, from ``LABS_DATA_DIR``, the cache, or a verified download.

Where the files come from, and how they are found, checked and downloaded, is in
:mod:`helpers.data.sources`. Every problem is a :class:`DataError` that says what
to do.

>>> (x_train, y_train), (x_test, y_test) = load_mnist()
"""

from __future__ import annotations

import difflib
import gzip
import io
import json
import lzma
import math
import numbers
import pickle
import struct
import tarfile
import zipfile
import zlib
from collections import Counter
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path, PurePosixPath

import numpy as np

from .. import profile as _profile
from .sources import (
    DataError,  # noqa: F401
    DataUnavailable,
    Found,
    dataset,
    fetch,
    file_stamp,
)

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
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
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
LETTER_CLASSES = tuple(
    "abcdefghijklmnopqrstuvwxyz"
)  # EMNIST letters: upper and lower case merged
IMAGE_FOLDER_CLASSES = {  # every class must have images in every split
    "hymenoptera": ("ants", "bees"),
    "flowers": ("daisy", "dandelion", "rose", "sunflower", "tulip"),
}
IMAGE_FOLDERS = tuple(IMAGE_FOLDER_CLASSES)
IMAGES = ("dog",)
FLOWERS_TEST_FRACTION = 0.2  # per class, see load_image_folder
SPLIT_SEED = 0  # the flowers split
ORDER_SEED = (
    0  # the fixed shuffle of sources stored sorted by class (CIFAR-10 JPEGs, IMDB)
)
PAD, START, OOV, FIRST_WORD = 0, 1, 2, 3  # IMDB ids, as in keras.datasets.imdb
_FLOWER_NAMES = {
    "roses": "rose",
    "sunflowers": "sunflower",
    "tulips": "tulip",
}  # TF Flowers folders


def _smoke(profile: str | None) -> bool:
    name = _profile.current() if profile is None else _profile.validate(profile)
    return name == "smoke"


_ARCHIVE_ERRORS = (  # reading a compressed file or an archive
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    tarfile.TarError,
    zipfile.BadZipFile,
)


class _Undecodable(ValueError):
    """A decoding failure whose message already says what is wrong (and where)."""


@contextmanager
def _decoding(found: Found):
    """Turn any decoding failure (truncated gzip, bad tar, zip, pickle...) into
    a DataError.

    A file that matched its published checksum is the published file: deleting it would
    not help, so the message does not say to.
    """
    try:
        yield
    except DataError:
        raise
    except (
        *_ARCHIVE_ERRORS,
        pickle.UnpicklingError,
        json.JSONDecodeError,
        struct.error,
        KeyError,
        ValueError,
    ) as e:
        fix = (
            "It matches its published checksum, so it is the published file, not a "
            "damaged copy, and deleting it would not help: the file as published is "
            "truncated or corrupt, or this code cannot read it. Please report this "
            "(helpers/data.py)."
            if found.verified
            else (
                "The file is truncated or corrupt. Delete it (or re-copy it) and load "
                "again."
            )
        )
        what = str(e) if isinstance(e, _Undecodable) else f"{type(e).__name__}: {e}"
        raise DataError(
            f"Cannot decode {found.path} ({found.origin}): {what}\n{fix}"
        ) from e


def _check(
    x: np.ndarray, y: np.ndarray, n_classes: int, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """Labels as int64, and a DataError when images and labels disagree."""
    y = np.asarray(y, dtype=np.int64)
    if len(x) != len(y) or (len(y) and not 0 <= y.min() <= y.max() < n_classes):
        raise DataError(
            f"{what}: {len(x)} images but {len(y)} labels, or labels outside "
            f"0..{n_classes - 1}."
        )
    return x, y


def source_of(name: str, *, profile: str | None = None) -> str:
    """Where data set ``name``'s files come from in this profile: one line for a
    lab's output.

    >>> source_of("mnist", profile="smoke")
    'mnist: smoke sample (helpers/samples/SHA256SUMS), in .../helpers/samples'
    """
    smoke = _smoke(profile)
    found = [fetch(name, role, sample=smoke) for role in dataset(name).files]
    origins = "; ".join(dict.fromkeys(f.origin for f in found))
    folders = ", ".join(dict.fromkeys(str(f.path.parent) for f in found))
    return f"{name}: {origins}, in {folders}"


# --- MNIST and Fashion-MNIST (IDX files) ----------------------------------------------
def parse_idx(raw: bytes, ndim: int, what: str = "IDX data") -> np.ndarray:
    """Parse an IDX file (the MNIST format): bytes 0 0 8 ``ndim``, ``ndim`` big-endian
    sizes, uint8 data."""
    header = 4 + 4 * ndim
    if len(raw) < header or raw[:4] != bytes((0, 0, 8, ndim)):
        raise DataError(
            f"{what}: not an IDX file of {ndim}-D uint8 data (magic "
            f"{raw[:4].hex() or 'none'}, expected {bytes((0, 0, 8, ndim)).hex()})."
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    if len(raw) != header + math.prod(shape):
        raise DataError(
            f"{what}: the header says {shape}, i.e. {header + math.prod(shape):,} "
            f"bytes, but there are {len(raw):,}: the file is truncated or padded."
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape).copy()


def _load_idx(name: str, profile: str | None):
    smoke, arrays = _smoke(profile), {}
    for role in ("train_images", "train_labels", "test_images", "test_labels"):
        found = fetch(name, role, sample=smoke)
        with _decoding(found):
            raw = gzip.decompress(found.path.read_bytes())
        arrays[role] = parse_idx(
            raw, 3 if role.endswith("images") else 1, str(found.path)
        )
    return tuple(
        _check(arrays[f"{s}_images"], arrays[f"{s}_labels"], 10, f"{name} {s}")
        for s in ("train", "test")
    )


def load_mnist(*, profile: str | None = None):
    """MNIST digits: ``(x_train, y_train), (x_test, y_test)``, images (N, 28, 28) uint8,
    labels 0-9.

    Full: 60,000 + 10,000. Smoke: 2,000 + 500 (class-balanced,
    see helpers/samples/README.md).
    """
    return _load_idx("mnist", profile)


def load_fashion_mnist(*, profile: str | None = None):
    """Fashion-MNIST, like :func:`load_mnist`; class names:
    ``FASHION_MNIST_CLASSES``."""
    return _load_idx("fashion_mnist", profile)


# --- Archives and images --------------------------------------------------------------
_MEMBER_ERRORS = (  # reading one member of a zip or tar
    *_ARCHIVE_ERRORS,
    NotImplementedError,  # a zip compression method Python lacks (Deflate64...)
    RuntimeError,  # an encrypted zip member
)


def _read_member(name: str, read, *args) -> bytes:
    """``read(*args)``: one member's bytes; a failure names the member."""
    try:
        return read(*args)
    except _MEMBER_ERRORS as e:
        raise _Undecodable(
            f"cannot read its member {name} ({type(e).__name__}: {e})"
        ) from e


def _archive_files(path: Path, wanted=lambda name: True):
    """Yield ``(member name, bytes)`` of the regular files of a tar (any compression)
    or zip.

    A tar cut inside a member's header would read as a shorter archive (tarfile stops
    there silently), so a tar must end with its end-of-archive block (zip has a
    central directory).
    """
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if not info.is_dir() and wanted(info.filename):
                    yield (
                        info.filename,
                        _read_member(info.filename, z.read, info),
                    )
        return
    with tarfile.open(path, "r|*") as tar:  # streaming: one pass, no index
        for member in tar:
            if member.isfile() and wanted(member.name):
                read = tar.extractfile(member).read
                yield member.name, _read_member(member.name, read)
        # tarfile stops at the first header it cannot read whole; the end-of-archive
        # block is the only whole one it stops at
        if tar.fileobj.tell() != tar.offset + tarfile.BLOCKSIZE:
            raise _Undecodable(
                f"the archive ends inside a member's header at byte {tar.offset:,} "
                f"(after {len(tar.members):,} members): it is truncated"
            )


def _decode_image(data: bytes, size: tuple[int, int] | None) -> np.ndarray:
    """Decode to RGB; with ``size`` (h, w), resize the short side and crop the centre
    (keeps aspect)."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as im:
        if size:
            im.draft(
                "RGB", (size[1], size[0])
            )  # let the JPEG decoder shrink big photos (fast)
            return np.asarray(
                ImageOps.fit(im.convert("RGB"), (size[1], size[0]), Image.BILINEAR)
            )
        return np.asarray(im if im.mode == "RGB" else im.convert("RGB"))


def _image_groups(path: Path, size=None) -> dict[tuple[str, str], list]:
    """``{(folder, class): [(file name, image), ...]}`` of
    ``.../<folder>/<class>/<file>.jpg``, sorted."""
    from PIL import Image

    groups: dict[tuple[str, str], list] = {}
    for member, data in _archive_files(
        path, lambda n: n.lower().endswith((".jpg", ".jpeg", ".png"))
    ):
        parts = member.split("/")  # str.split: PurePosixPath is slow over 60,000 names
        if len(parts) < 3 or any(p.startswith((".", "__MACOSX")) for p in parts):
            continue
        try:
            image = _decode_image(data, size)
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


def _shuffled(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(ORDER_SEED).permutation(len(x))
    return x[order], y[order]


# --- CIFAR-10 and CIFAR-100 -----------------------------------------------------------
def _cifar_pickles(path: Path, names: set[str]) -> dict[str, dict]:
    """The named pickles of a cifar-*-python.tar.gz (unpickled only after its SHA-256
    was checked)."""
    out = {
        PurePosixPath(m).name: pickle.loads(data, encoding="bytes")
        for m, data in _archive_files(path, lambda n: PurePosixPath(n).name in names)
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
    found = fetch("cifar10", sample=_smoke(profile))
    with _decoding(found):
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
                _shuffled(*_stack(groups, s, CIFAR10_CLASSES, found.path))
                for s in ("train", "test")
            )
    return tuple(
        _check(x, y, 10, f"cifar10 {s}")
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
    found = fetch("cifar100", sample=_smoke(profile))
    key, n_classes = (
        (b"fine_labels", 100) if label_mode == "fine" else (b"coarse_labels", 20)
    )
    with _decoding(found):
        b = _cifar_pickles(found.path, {"train", "test"})
        return tuple(
            _check(_cifar_images([b[s]]), b[s][key], n_classes, f"cifar100 {s}")
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


# --- Letters --------------------------------------------------------------------------
def load_emnist_letters(*, profile: str | None = None):
    """EMNIST letters (canonical gzip.zip, 562 MB): images (N, 28, 28) uint8 upright,
    labels 0-25.

    124,800 + 20,800 images; label ``i`` is ``LETTER_CLASSES[i]`` (upper and lower case
    merged). No smoke sample: in the smoke profile this raises :class:`DataUnavailable`.
    """
    found = fetch("emnist", sample=_smoke(profile))
    out = []
    with _decoding(found), zipfile.ZipFile(found.path) as z:
        for s in ("train", "test"):
            x, y = (
                parse_idx(
                    gzip.decompress(
                        z.read(f"gzip/emnist-letters-{s}-{kind}-idx{n}-ubyte.gz")
                    ),
                    n,
                    f"EMNIST letters {s} {kind}",
                )
                for kind, n in (("images", 3), ("labels", 1))
            )
            # EMNIST stores images transposed, and letters as 1..26.
            out.append(
                _check(
                    x.transpose(0, 2, 1).copy(),
                    y.astype(np.int64) - 1,
                    26,
                    f"emnist {s}",
                )
            )
    return tuple(out)


def load_letters(
    source: str = "auto",
    *,
    n_train_per_class: int | None = None,
    n_test_per_class: int | None = None,
    seed: int = 0,
    fonts=None,
    profile: str | None = None,
):
    """Letters a-z as ``(x_train, y_train), (x_test, y_test), source`` (images (N,
    28, 28) uint8).

    ``source="emnist"``: EMNIST letters; ``"fonts"``: letters rendered from fonts
    (:func:`helpers.letters.render_letters`, seeds ``seed`` and ``seed + 1``; per class
    1,000 train
    + 200 test in full, 50 + 10 in smoke unless given; ``fonts`` is passed on);
      ``"auto"``: EMNIST
    when it can be had (never in smoke), else fonts; a damaged EMNIST copy is an error,
    not a reason to fall back. The returned ``source`` says which was used, so a lab can
    print it.
    """
    if source not in ("auto", "emnist", "fonts"):
        raise ValueError(f"source={source!r}; use 'auto', 'emnist' or 'fonts'.")
    if source != "fonts":
        try:
            return (*load_emnist_letters(profile=profile), "emnist")
        except DataUnavailable:
            if source == "emnist":
                raise
    from .. import letters  # lazily: rendering needs fonts and is only needed here

    smoke = _smoke(profile)
    counts = (
        n_train_per_class or (50 if smoke else 1000),
        n_test_per_class or (10 if smoke else 200),
    )
    sets = [
        letters.render_letters(n_per_class=n, seed=seed + i, fonts=fonts)
        for i, n in enumerate(counts)
    ]
    return (
        *(_check(np.asarray(x, np.uint8), y, 26, "fonts letters") for x, y in sets),
        "fonts",
    )


# --- IMDB -----------------------------------------------------------------------------
_PUNCTUATION = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'  # Keras' old Tokenizer filters
_TO_SPACE = str.maketrans(_PUNCTUATION, " " * len(_PUNCTUATION))


def text_to_words(text: str) -> list[str]:
    """Lowercase, drop ``<br />`` and punctuation (apostrophes stay: ``don't``), split
    on spaces."""
    return text.lower().replace("<br />", " ").translate(_TO_SPACE).split()


def build_word_index(texts) -> dict[str, int]:
    """Word -> id, by frequency in ``texts`` (ties alphabetical): the commonest word
    gets 3."""
    counts = Counter(w for text in texts for w in text_to_words(text))
    ranked = sorted(counts.items(), key=lambda wc: (-wc[1], wc[0]))
    return {w: FIRST_WORD + i for i, (w, _) in enumerate(ranked)}


def decode_review(sequence, word_index: dict[str, int]) -> str:
    """Ids back to words; padding is dropped, 1 shows as ``<start>`` and 2
    as ``<oov>``."""
    words = {i: w for w, i in word_index.items()} | {START: "<start>", OOV: "<oov>"}
    return " ".join(words.get(int(i), "<oov>") for i in sequence if i != PAD)


def _imdb_texts(found: Found) -> dict[str, tuple[list[str], list[int]]]:
    """``{"train": (texts, labels), "test": ...}`` from the JSON copy or the
    canonical tar."""
    if found.fmt == "imdb-json-xz":
        with lzma.open(found.path, "rt", encoding="utf-8") as f:
            raw = json.load(f)
        return {s: (raw[s]["text"], raw[s]["label"]) for s in ("train", "test")}
    rows = {
        "train": [],
        "test": [],
    }  # aclImdb/<split>/<neg|pos>/<id>_<rating>.txt; unsup skipped
    for member, data in _archive_files(found.path, lambda n: n.endswith(".txt")):
        parts = PurePosixPath(member).parts
        if len(parts) >= 3 and parts[-3] in rows and parts[-2] in ("neg", "pos"):
            key = (parts[-2] == "pos", int(parts[-1].split("_")[0]))
            rows[parts[-3]].append((key, data.decode("utf-8")))
    return {
        s: ([t for _, t in sorted(r)], [int(k[0]) for k, _ in sorted(r)])
        for s, r in rows.items()
    }


@lru_cache(maxsize=2)
def _imdb_encoded(path: str, fmt: str, origin: str, stamp: tuple):
    """Word index and full-vocabulary id sequences (int32), shuffled
    with ``ORDER_SEED``."""
    texts = _imdb_texts(Found(Path(path), fmt, origin))
    index = build_word_index(texts["train"][0])
    out = {}
    for s, (docs, labels) in texts.items():
        seqs = [
            np.array([START] + [index.get(w, OOV) for w in text_to_words(d)], np.int32)
            for d in docs
        ]
        order = np.random.default_rng(ORDER_SEED).permutation(len(seqs))
        out[s] = ([seqs[i] for i in order], np.asarray(labels, np.int64)[order])
    return index, out


def _imdb(profile):
    found = fetch("imdb", sample=_smoke(profile))
    with _decoding(found):
        return _imdb_encoded(
            str(found.path), found.fmt, found.origin, file_stamp(found.path)
        )


def load_imdb(
    num_words: int | None = None,
    maxlen: int | None = None,
    *,
    return_word_index: bool = False,
    profile: str | None = None,
):
    """IMDB reviews as Keras-style id sequences:
    ``(x_train, y_train), (x_test, y_test)``.

    Ids: 0 padding, 1 start, 2 out-of-vocabulary, words from 3 by frequency in the
    *training* text (see :func:`build_word_index`, :func:`text_to_words`). ``num_words``
    keeps ids below it (so ``Embedding(num_words, ...)`` fits; others become 2).
    ``maxlen`` *truncates* each sequence to its first ``maxlen`` ids (start included),
    where keras.datasets.imdb drops long reviews. ``x_*`` are object arrays of int32
    arrays (pad them with ``keras.utils.pad_sequences``); ``y_*`` int64, 1 = positive.
    Full: 25,000 + 25,000, in a fixed shuffled order; smoke: 500 + 200.
    ``return_word_index=True`` adds the word index.
    """
    if num_words is not None and num_words <= FIRST_WORD:
        raise ValueError(
            f"num_words={num_words} keeps no word; it counts the reserved ids 0-2 too."
        )
    if maxlen is not None and maxlen < 1:
        raise ValueError(f"maxlen={maxlen} must be at least 1.")
    index, encoded = _imdb(profile)
    result = []
    for seqs, labels in (encoded["train"], encoded["test"]):
        x = np.empty(len(seqs), dtype=object)
        for i, seq in enumerate(seqs):
            seq = seq[:maxlen] if maxlen else seq
            x[i] = (
                np.where(seq < num_words, seq, OOV).astype(np.int32)
                if num_words
                else seq.copy()
            )
        result.append((x, labels.copy()))
    return (*result, dict(index)) if return_word_index else tuple(result)


def bag_of_words(sequences, num_words: int, *, counts: bool = True) -> np.ndarray:
    """Id sequences (as from :func:`load_imdb`) → a (N, ``num_words``) float32 matrix.

    Column ``i`` holds how often id ``i`` occurs in the sequence (``counts=True``) or 1
    if it occurs at all (multi-hot); ids from ``num_words`` up are dropped. The reserved
    ids count too: column 1 is the start mark (always 1), column 2 the number of
    out-of-vocabulary words.
    """
    out = np.zeros((len(sequences), num_words), dtype=np.float32)
    for row, seq in zip(out, sequences):
        seq = np.asarray(seq)
        row[:] = np.bincount(seq[seq < num_words], minlength=num_words)
    return out if counts else np.minimum(out, 1.0)


def imdb_word_index(*, profile: str | None = None) -> dict[str, int]:
    """The word index of :func:`load_imdb` (word -> id used in the sequences,
    from 3)."""
    return dict(_imdb(profile)[0])


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
    found = fetch(name, sample=_smoke(profile))
    with _decoding(found):
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


# --- Small files shipped whole --------------------------------------------------------
def _read_csv(name: str) -> tuple[list[str], np.ndarray]:
    found = fetch(name)
    with _decoding(found):
        header = found.path.read_text().splitlines()[0].split(",")
        return header, np.loadtxt(found.path, delimiter=",", skiprows=1, ndmin=2)


def load_boston(*, profile: str | None = None):
    """Boston housing: ``x`` (506, 13) float64, ``y`` = ``medv`` (506,) float64,
    feature names.

    Shipped whole in helpers/samples (the same in both profiles).
    """
    header, values = _read_csv("boston")
    return values[:, :-1], values[:, -1], header[:-1]


def load_pima(*, profile: str | None = None):
    """Pima Indians diabetes: ``x`` (768, 8) float64 (zeros kept), ``y`` 0/1 int64,
    feature names."""
    header, values = _read_csv("pima")
    return values[:, :-1], values[:, -1].astype(np.int64), header[:-1]


def load_image(name: str = "dog") -> np.ndarray:
    """A shipped photo as (H, W, 3) uint8: ``"dog"`` (a dog by a bicycle, 576 x
    768, darknet)."""
    if name not in IMAGES:
        raise DataError(
            f"Unknown image {name!r}; the shipped images are: {', '.join(IMAGES)}."
        )
    found = fetch(name)
    with _decoding(found):
        return _decode_image(found.path.read_bytes(), None)
