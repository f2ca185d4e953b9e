"""The catalogue of data sets: for each, its files, their formats, the SHA-256 values
each accepts (with where every value comes from), its download URLs and its committed
smoke sample.

A file is looked for under the same relative path (``DataFile.path``) in
``LABS_DATA_DIR`` and in the cache (:mod:`helpers.data.sources`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import DataError


@dataclass(frozen=True)
class DataFile:
    """One file: its path in a data folder, its format, the hashes it accepts,
    its URLs."""

    path: str
    fmt: str
    sha256: Mapping[str, str] = field(
        default_factory=dict
    )  # accepted hash -> where it comes from
    urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataSet:
    """A data set: for each role (``"archive"``, ``"train_images"``, ...) its files,
    best first.

    ``samples`` names, per role, the committed smoke sample (a file in
    ``helpers/samples``) and its format. A ``bundled`` data set is small enough to ship
    whole: its sample is the real file.
    """

    files: Mapping[str, tuple[DataFile, ...]]
    samples: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    bundled: bool = False


# --- The registry ---------------------------------------------------------------------
_OFF = "offline copy (the project's shared data, SHA256SUMS)"
_TFDS = "canonical (tensorflow/datasets, tensorflow_datasets/url_checksums/{}.txt)"
_IDX = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def _idx_set(
    folder: str,
    tfds: str,
    mirrors: tuple[str, ...],
    canonical: dict,
    offline: dict,
    offline_note: str,
) -> DataSet:
    """The four gzipped IDX files of MNIST or Fashion-MNIST, canonical and
    offline hashes."""
    files = {
        role: (
            DataFile(
                f"{folder}/{name}",
                "idx-gz",
                {
                    canonical[name]: _TFDS.format(tfds),
                    offline[name]: f"{_OFF}; {offline_note}",
                },
                tuple(m + name for m in mirrors),
            ),
        )
        for role, name in _IDX.items()
    }
    samples = {role: (f"{folder}-{name}", "idx-gz") for role, name in _IDX.items()}
    return DataSet(files, samples)


# SHA-256 values of the files in DATASETS whose entries nest too deep for a
# 64-digit hash to fit on the line; where each comes from is said there.
_CIFAR10_PY = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
_CIFAR10_JPG = "d34c68f61cca57aa9144c8f25bda427abb9921bd642d5857a2fc1a6b4416f965"
_CIFAR100_PY = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
_EMNIST_ZIP = "fb9bb67e33772a9cc0b895e4ecf36d2cf35be8b709693c3564cea2a019fcda8e"
_IMDB_JSON = "9db1956bc84dbe5ee1dfd74bc3f8a7f80e1f3bd077e13b939578b02671516a00"
_IMDB_TAR = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
_HYMENOPTERA_TAR = "d8e6a804c058c17960105100b1e24731fda99cb766d4accacc1164bdf2c6809b"
_FLOWERS5_TAR = "005f1341e34afdef93fc8c1f08bdf35b4e1ee8903eeb3a72dbbc18180051d296"
_FLOWER_PHOTOS_TGZ = "4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c"
_BOSTON_CSV = "a5f8f009a6e4a89a7d332b56be822368802b8b090afca3db88051ed066285572"
_PIMA_CSV = "8349b6375b439518bea9db76e72c9b78883cbc2500ac250e24ae0819f6efcfbd"
_DOG_JPG = "5a9522051c3cec2bbd2f6323fccba32e8fbf3ddcc2b3e2fd46b04c720bc6f866"


DATASETS: dict[str, DataSet] = {
    "mnist": _idx_set(
        "mnist",
        "mnist",
        (
            # the URLs TFDS checks
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
        ),  # torchvision's mirror, same files
        {
            "train-images-idx3-ubyte.gz": (
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
            ),
            "train-labels-idx1-ubyte.gz": (
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
            ),
            "t10k-images-idx3-ubyte.gz": (
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
            ),
            "t10k-labels-idx1-ubyte.gz": (
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
            ),
        },
        {
            "train-images-idx3-ubyte.gz": (
                "8e59d4e6322d5e291f26338633ee8015e1369ee4616a784cd934bc27c2948978"
            ),
            "train-labels-idx1-ubyte.gz": (
                "e867c6895efbe4af17eefa0d68f5a582082c6bab63cf2ed41e4f3b232b29abf4"
            ),
            "t10k-images-idx3-ubyte.gz": (
                "ba05d2d6e06f59dd97d2d5378250478bb5c9b64296a5c2681700569121e3a2d7"
            ),
            "t10k-labels-idx1-ubyte.gz": (
                "94088eab8a64f51a9b34cc9716f54b6548ef8b2fd16ada6d1575091b933dbf4b"
            ),
        },
        "gzip wrapping differs; train-images rebuilt from a PNG copy, pixels within 1 "
        "grey level",
    ),
    "fashion_mnist": _idx_set(
        "fashion-mnist",
        "fashion_mnist",
        (
            # the URLs TFDS checks
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        ),  # Keras' mirror
        {
            "train-images-idx3-ubyte.gz": (
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
            ),
            "train-labels-idx1-ubyte.gz": (
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"
            ),
            "t10k-images-idx3-ubyte.gz": (
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
            ),
            "t10k-labels-idx1-ubyte.gz": (
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
            ),
        },
        {
            "train-images-idx3-ubyte.gz": (
                "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"
            ),
            "train-labels-idx1-ubyte.gz": (
                "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"
            ),
            "t10k-images-idx3-ubyte.gz": (
                "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"
            ),
            "t10k-labels-idx1-ubyte.gz": (
                "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"
            ),
        },
        "Debian's dataset-fashion-mnist: same pixels, different gzip wrapping",
    ),
    "cifar10": DataSet(
        {
            "archive": (
                # SHA-256 from Keras: keras/src/datasets/cifar10.py
                # (get_file(..., file_hash=...)).
                DataFile(
                    "cifar10/cifar-10-python.tar.gz",
                    "cifar-python",
                    {_CIFAR10_PY: "canonical (keras/src/datasets/cifar10.py)"},
                    ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                ),
                DataFile(
                    "cifar10/cifar10_jpg.tar.gz",
                    "jpg-tar",
                    {
                        _CIFAR10_JPG: (
                            f"{_OFF}; JPEG re-encoding (quality ~75), sorted by class"
                        )
                    },
                ),
            )
        },
        {"archive": ("cifar10-sample-jpg.tar.gz", "jpg-tar")},
    ),
    "cifar100": DataSet(
        {
            "archive": (
                # SHA-256 from Keras: keras/src/datasets/cifar100.py
                # (get_file(..., file_hash=...)).
                DataFile(
                    "cifar100/cifar-100-python.tar.gz",
                    "cifar-python",
                    {_CIFAR100_PY: "canonical (keras/src/datasets/cifar100.py)"},
                    ("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",),
                ),
            )
        }
    ),
    "emnist": DataSet(
        {
            "archive": (
                # SHA-256 from tensorflow_datasets/url_checksums/emnist.txt (561,753,746
                # bytes); the biometrics.nist.gov URL is the one torchvision uses for
                # the same gzip.zip.
                DataFile(
                    "emnist/gzip.zip",
                    "emnist-zip",
                    {_EMNIST_ZIP: _TFDS.format("emnist")},
                    (
                        "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip",
                        "https://www.itl.nist.gov/iaui/vip/cs_links/EMNIST/gzip.zip",
                    ),
                ),
            )
        }
    ),
    "imdb": DataSet(
        {
            "archive": (
                DataFile(
                    "imdb/imdb_raw.json.xz",
                    "imdb-json-xz",
                    {_IMDB_JSON: f"{_OFF}; the labelled reviews as JSON"},
                ),
                DataFile(
                    "imdb/aclImdb_v1.tar.gz",
                    "imdb-tar",
                    {_IMDB_TAR: _TFDS.format("imdb_reviews")},
                    (
                        "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
                    ),
                ),
            )
        },
        {"archive": ("imdb-sample.json.xz", "imdb-json-xz")},
    ),
    "hymenoptera": DataSet(
        {
            "archive": (
                DataFile(
                    "hymenoptera/hymenoptera_data.tar.gz",
                    "image-archive",
                    {_HYMENOPTERA_TAR: f"{_OFF}; the canonical zip's files as tar.gz"},
                ),
                # No published SHA-256 for this zip was found: it is never
                # downloaded automatically.
                DataFile(
                    "hymenoptera/hymenoptera_data.zip",
                    "image-archive",
                    {},
                    ("https://download.pytorch.org/tutorial/hymenoptera_data.zip",),
                ),
            )
        },
        {"archive": ("hymenoptera-sample.tar.gz", "image-archive")},
    ),
    "flowers": DataSet(
        {
            "archive": (
                DataFile(
                    "flowers/flowers5_128.tar.gz",
                    "image-archive",
                    {
                        _FLOWERS5_TAR: (
                            f"{_OFF}; Kaggle 'flowers recognition', 4,317 photos at "
                            "128x128, no public URL"
                        )
                    },
                ),
                # The nearest published download: TF Flowers, the same five classes,
                # 3,670 photos.
                DataFile(
                    "flowers/flower_photos.tgz",
                    "image-archive",
                    {
                        _FLOWER_PHOTOS_TGZ: _TFDS.format("tf_flowers")
                        + "; TF Flowers, 3,670 photos"
                    },
                    (
                        "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz",
                        "http://download.tensorflow.org/example_images/flower_photos.tgz",
                    ),
                ),
            )
        },
        {"archive": ("flowers5-sample.tar.gz", "image-archive")},
    ),
    # Shipped whole in helpers/samples; these hashes check the copies made from the
    # shared data.
    "boston": DataSet(
        {
            "csv": (
                DataFile(
                    "tabular/boston_housing.csv",
                    "csv",
                    {_BOSTON_CSV: _OFF},
                ),
            )
        },
        {"csv": ("boston_housing.csv", "csv")},
        bundled=True,
    ),
    "pima": DataSet(
        {
            "csv": (
                DataFile(
                    "tabular/pima_indians_diabetes.csv",
                    "csv",
                    {_PIMA_CSV: _OFF},
                ),
            )
        },
        {"csv": ("pima_indians_diabetes.csv", "csv")},
        bundled=True,
    ),
    "dog": DataSet(
        {
            "image": (
                DataFile(
                    "images/dog.jpg",
                    "jpg",
                    {_DOG_JPG: _OFF + "; darknet's data/dog.jpg"},
                ),
            )
        },
        {"image": ("dog.jpg", "jpg")},
        bundled=True,
    ),
}


def dataset(name: str) -> DataSet:
    """The registry entry of ``name``; an unknown name suggests the closest
    known ones."""
    if name in DATASETS:
        return DATASETS[name]
    close = difflib.get_close_matches(str(name), DATASETS, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise DataError(
        f"Unknown data set {name!r}.{hint} Known: {', '.join(sorted(DATASETS))}."
    )
