"""The labs' data sets as NumPy arrays: images ``uint8``, labels ``int64``.

Every loader follows the active profile (:mod:`helpers.profile`), or ``profile=``
when given:

* ``smoke``: a small real sample committed in ``helpers/samples/`` (no network, no
  data folder);
* ``full``: the real data, from ``LABS_DATA_DIR``, the cache, or a verified download.

Where the files come from, and how they are found, checked and downloaded, is in
:mod:`helpers.data.sources` (the catalogue in :mod:`helpers.data.registry`). The
loaders live by format: :mod:`~helpers.data.idx` (MNIST, Fashion-MNIST, EMNIST
letters), :mod:`~helpers.data.images` (CIFAR, photo folders, shipped photos),
:mod:`~helpers.data.imdb`, :mod:`~helpers.data.tabular`. Every problem is a
:class:`DataError` that says what to do.

>>> (x_train, y_train), (x_test, y_test) = load_mnist()
"""

from __future__ import annotations

from .decoding import ORDER_SEED, is_smoke
from .errors import DataError, DataUnavailable, DiskFull
from .idx import (
    FASHION_MNIST_CLASSES,
    LETTER_CLASSES,
    load_emnist_letters,
    load_fashion_mnist,
    load_letters,
    load_mnist,
    parse_idx,
)
from .images import (
    CIFAR10_CLASSES,
    CIFAR100_FINE_CLASSES,
    FLOWERS_TEST_FRACTION,
    IMAGE_FOLDER_CLASSES,
    IMAGE_FOLDERS,
    IMAGES,
    SPLIT_SEED,
    load_cifar10,
    load_cifar100,
    load_cifar100_subset,
    load_image,
    load_image_folder,
)
from .imdb import (
    FIRST_WORD,
    OOV,
    PAD,
    START,
    bag_of_words,
    build_word_index,
    decode_review,
    imdb_word_index,
    load_imdb,
    text_to_words,
)
from .sources import dataset, fetch, place_of
from .tabular import load_boston, load_pima

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR100_FINE_CLASSES",
    "FASHION_MNIST_CLASSES",
    "FIRST_WORD",
    "FLOWERS_TEST_FRACTION",
    "IMAGES",
    "IMAGE_FOLDERS",
    "IMAGE_FOLDER_CLASSES",
    "LETTER_CLASSES",
    "OOV",
    "ORDER_SEED",
    "PAD",
    "SPLIT_SEED",
    "START",
    "DataError",
    "DataUnavailable",
    "DiskFull",
    "bag_of_words",
    "build_word_index",
    "decode_review",
    "imdb_word_index",
    "load_boston",
    "load_cifar10",
    "load_cifar100",
    "load_cifar100_subset",
    "load_emnist_letters",
    "load_fashion_mnist",
    "load_image",
    "load_image_folder",
    "load_imdb",
    "load_letters",
    "load_mnist",
    "load_pima",
    "parse_idx",
    "source_of",
    "text_to_words",
]


def source_of(name: str, *, profile: str | None = None) -> str:
    """Where data set ``name``'s files come from in this profile: one line for a
    lab's output, naming folders by :func:`~helpers.data.sources.place_of` (never the
    machine's own folders).

    >>> source_of("mnist", profile="smoke")
    'mnist: smoke sample (helpers/samples/SHA256SUMS), in package helpers/samples'
    """
    smoke = is_smoke(profile)
    found = [fetch(name, role, sample=smoke) for role in dataset(name).files]
    origins = "; ".join(dict.fromkeys(f.origin for f in found))
    folders = ", ".join(dict.fromkeys(place_of(f.path.parent) for f in found))
    return f"{name}: {origins}, in {folders}"
