"""Where each data-set file comes from, and how it is found, verified and downloaded.

The loaders in :mod:`helpers.data` ask :func:`fetch` for a file. In the ``full`` profile
a file is looked for, in this order:

1. ``LABS_DATA_DIR``: a folder laid out like the project's shared data (``mnist/...``,
   ``cifar10/...``; see ``helpers/samples/README.md``);
2. the cache, ``LABS_CACHE_DIR`` (default ``~/.cache/deep-learning-practicals``),
   same layout;
3. a download from the canonical URL into the cache, unless ``LABS_OFFLINE=1``.

In the ``smoke`` profile the committed sample in ``helpers/samples/`` is used instead,
and nothing is downloaded.

Every file is checked against the SHA-256 values it accepts before it is used. Each
accepted value says where it comes from: the canonical upstream file (with the published
source of the value) or the known offline copy. A download is streamed to a temporary
file in the cache folder, checked, and only then renamed into place, so an interrupted
or wrong download leaves nothing behind (a killed one leaves a temporary file, removed
by a later run once stale). Every problem, a folder or an unreadable file where a data
file should be, a cache folder that cannot be written, is a :class:`DataError` that says
what happened and what to do.
"""

from __future__ import annotations

import difflib
import glob
import hashlib
import os
import shutil
import stat
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path

DATA_DIR_VAR = "LABS_DATA_DIR"
CACHE_DIR_VAR = "LABS_CACHE_DIR"
OFFLINE_VAR = "LABS_OFFLINE"
DEFAULT_CACHE = Path("~/.cache/deep-learning-practicals")
SAMPLES_DIR = Path(__file__).resolve().parents[1] / "samples"
TIMEOUT_S = 60  # per network operation, not for the whole download
# A temporary file untouched this long was left by a killed process (a live download
# writes at least every few seconds), so the next run may remove it.
STALE_S = 30 * 60
UNVERIFIED = "unverified (no published checksum)"
LAYOUT_HELP = "see 'Data folder layout' in helpers/samples/README.md"
_urlopen = urllib.request.urlopen  # tests replace this


class DataError(RuntimeError):
    """A data set cannot be used; the message says why and what to do."""


class DataUnavailable(DataError):
    """The data set is not on this machine and cannot be downloaded (or may not be)."""


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


@dataclass(frozen=True)
class Found:
    """A verified file: where it is, its format, and where it comes from (canonical,
    offline, ...)."""

    path: Path
    fmt: str
    origin: str

    @property
    def verified(self) -> bool:
        """True when the file matched a published (or recorded) checksum."""
        return self.origin != UNVERIFIED


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


# --- Settings -------------------------------------------------------------------------
def data_dir() -> Path | None:
    """The folder named by ``LABS_DATA_DIR``, or None when unset; a missing folder is
    an error."""
    value = os.environ.get(DATA_DIR_VAR, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        what = (
            f"{path.resolve()} is a file, not a folder"
            if path.exists()
            else f"there is no folder {path.resolve()}"
        )
        raise DataError(
            f"{DATA_DIR_VAR}={value!r}, but {what}. Point "
            f"{DATA_DIR_VAR} at a folder laid out like the project's shared data "
            f"({LAYOUT_HELP}), or unset it to use the cache and downloads."
        )
    return path


def cache_dir() -> Path:
    """The download cache: ``LABS_CACHE_DIR`` or
    ``~/.cache/deep-learning-practicals``."""
    return Path(os.environ.get(CACHE_DIR_VAR, "").strip() or DEFAULT_CACHE).expanduser()


def usable_cache(sub: str | Path = "") -> Path:
    """The cache folder (or its subfolder ``sub``), created if need be; a DataError when
    it is a file or cannot be written (which no download can fix)."""
    folder = cache_dir() / sub
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):  # can we write there?
            pass
    except OSError as e:
        blocker = next(
            (p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()),
            None,
        )
        why = (
            f"{blocker} is a file, not a folder"
            if blocker
            else f"it cannot be written ({type(e).__name__}: {e})"
        )
        raise DataError(
            f"The cache folder {folder} cannot be used: {why}. Point {CACHE_DIR_VAR} "
            "at a folder you can write to, or unset it (the default is "
            f"{DEFAULT_CACHE})."
        ) from e
    return folder


def offline() -> bool:
    """True when ``LABS_OFFLINE`` is set to 1/true/yes: never try to download."""
    return os.environ.get(OFFLINE_VAR, "").strip().lower() in ("1", "true", "yes", "on")


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


# --- Verification ---------------------------------------------------------------------
def regular_file(path: Path, fix: str) -> bool:
    """True when ``path`` is a file, False when nothing is there; a DataError when
    something else is (a folder, a device...) or it cannot be looked at. ``fix`` says
    what to do."""
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as e:
        raise DataError(
            f"Cannot look at {path} ({type(e).__name__}: {e}): check the permissions "
            "of its folders."
        ) from e
    if stat.S_ISREG(st.st_mode):
        return True
    what = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
    raise DataError(f"{path} is {what}, where a data file should be. {fix}")


def file_stamp(path: Path) -> tuple:
    """What changes when a file is rewritten or replaced: device, inode, size,
    mtime, ctime.

    ctime cannot be set back by hand, and a replaced file has another inode, so a file
    swapped for one of the same size and modification time still gets another stamp.
    """
    st = path.stat()
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


_hash_memo: dict[tuple, str] = {}


def file_hash(path: Path, algorithm: str = "sha256") -> str:
    """A file's SHA-256 (or another ``hashlib`` digest), remembered per path and
    :func:`file_stamp`; a DataError when the file cannot be read."""
    try:
        key = (str(path.resolve()), *file_stamp(path), algorithm)
        if key not in _hash_memo:
            digest = hashlib.new(algorithm)
            with open(path, "rb") as f:
                while chunk := f.read(1 << 22):
                    digest.update(chunk)
            _hash_memo[key] = digest.hexdigest()
    except OSError as e:
        raise DataError(
            f"Cannot read {path} ({type(e).__name__}: {e}). Make it readable "
            f"(chmod a+r {path}) or replace it."
        ) from e
    return _hash_memo[key]


def _expected(accepted: Mapping[str, str]) -> str:
    return "\n".join(f"  {h}  ({where})" for h, where in accepted.items())


READ_LOG_VAR = "LABS_DATA_LOG"  # set by `provenance run`: the data files a lab read


def _log_read(path: Path, sha256: str) -> None:
    """Append ``sha256  path`` to the file ``LABS_DATA_LOG`` names; nothing when it
    is unset."""
    if log := os.environ.get(READ_LOG_VAR):
        with open(log, "a") as f:
            f.write(f"{sha256}  {Path(path).resolve()}\n")


def verify(path: Path, accepted: Mapping[str, str], fix: str) -> str:
    """Check ``path`` against the accepted hashes; return where the matching hash
    comes from."""
    if not accepted:
        warnings.warn(
            f"{path} has no published SHA-256, so it is used unverified "
            f"(its SHA-256 is {file_hash(path)}).",
            stacklevel=3,
        )
        _log_read(path, file_hash(path))
        return UNVERIFIED
    got = file_hash(path)
    if got not in accepted:
        raise DataError(
            f"Checksum mismatch for {path}.\nExpected one of:\n{_expected(accepted)}\n"
            f"Got:\n  {got}\nThe file is incomplete, damaged or a different version. "
            f"{fix}"
        )
    _log_read(path, got)
    return accepted[got]


def _sample_sums() -> dict[str, str]:
    sums = SAMPLES_DIR / "SHA256SUMS"
    if not sums.is_file():
        raise DataError(
            f"{sums} is missing: reinstall the project or run "
            "tools/make_smoke_samples.py."
        )
    pairs = (
        line.split(None, 1) for line in sums.read_text().splitlines() if line.strip()
    )
    return {name.strip().lstrip("*").removeprefix("./"): h for h, name in pairs}


def _fetch_sample(name: str, entry: DataSet, role: str) -> Found:
    if role not in entry.samples:
        raise DataUnavailable(
            f"There is no committed smoke sample of {name!r}, and the smoke profile "
            "never downloads. Run with LABS_PROFILE=full (with internet access, or "
            f"{DATA_DIR_VAR} set to a folder laid out like the project's shared data: "
            f"{LAYOUT_HELP}), or pass profile='full'."
        )
    fname, fmt = entry.samples[role]
    path = SAMPLES_DIR / fname
    restore = (
        "Restore it with `git checkout -- helpers/samples` or rerun "
        "tools/make_smoke_samples.py."
    )
    if not regular_file(path, restore):
        raise DataError(f"The smoke sample {path} is missing. {restore}")
    sums = _sample_sums()
    accepted = (
        {sums[fname]: "smoke sample (helpers/samples/SHA256SUMS)"}
        if fname in sums
        else {}
    )
    if not accepted:
        raise DataError(
            f"{fname} is not listed in {SAMPLES_DIR / 'SHA256SUMS'}: "
            f"run tools/make_smoke_samples.py."
        )
    return Found(path, fmt, verify(path, accepted, restore))


# --- Finding and downloading ----------------------------------------------------------
def fetch(name: str, role: str | None = None, *, sample: bool = False) -> Found:
    """Find (or download) one verified file of data set ``name``; see the
    module docstring.

    ``role`` picks the file when a data set has several (``"train_images"``...);
    ``sample=True`` returns the committed smoke sample instead.
    """
    entry = dataset(name)
    role = role or next(iter(entry.files))
    if role not in entry.files:
        raise DataError(
            f"Data set {name!r} has no file {role!r}; it has {', '.join(entry.files)}."
        )
    if sample or entry.bundled:
        return _fetch_sample(name, entry, role)
    root = data_dir()
    places = ([(DATA_DIR_VAR, root)] if root else []) + [("cache", cache_dir())]
    looked = [] if root else [f"{DATA_DIR_VAR}: not set"]
    for f in entry.files[role]:
        for label, root in places:
            path = root / f.path
            fix = (
                "Delete it; it will be downloaded again."
                if label == "cache"
                else "Re-copy it from the project's shared data, or delete it."
            )
            if label == "cache":
                sweep_partials(path)
            if regular_file(path, fix):
                return Found(path, f.fmt, verify(path, f.sha256, fix))
            looked.append(f"{label}: {path} (not there)")
    return _download_any(name, entry.files[role], looked)


def _download_any(name: str, files: tuple[DataFile, ...], looked: list[str]) -> Found:
    """Download the first file that has a URL and a published hash; explain
    every failure."""

    def check_cache(
        sub="",
    ):  # a cache that cannot be written is the problem, not the network
        try:
            usable_cache(sub)
        except DataError as e:
            raise DataError(
                f"Data set {name!r}: no copy of {files[0].path} was found, and none "
                "can be downloaded or placed in the cache.\nLooked in:\n"
                + "".join(f"  - {x}\n" for x in looked)
                + str(e)
            ) from e

    check_cache()
    tried, mismatch = [], False
    for f in files:
        dest = cache_dir() / f.path
        if not f.urls:
            tried.append(f"{f.path}: has no public download (only the offline copy).")
        elif not f.sha256:
            tried.append(
                f"{f.urls[0]}: not downloaded automatically, since no published "
                f"SHA-256 exists for it. Download it yourself and put it at {dest} (or "
                f"at $LABS_DATA_DIR/{f.path}); it will then be used, with a warning."
            )
        elif offline():
            tried.append(
                f"{f.urls[0]}: not tried, downloads are off ({OFFLINE_VAR} is set)."
            )
        else:
            check_cache(Path(f.path).parent)
            for url in f.urls:
                try:
                    return Found(dest, f.fmt, download(url, dest, f.sha256))
                except DataError as e:
                    mismatch = True
                    tried.append(f"{url}: {e}")
                except (
                    OSError,
                    ValueError,
                    HTTPException,
                ) as e:  # URLError, timeouts: OSError
                    tried.append(f"{url}: {type(e).__name__}: {e}")
    cause = (
        "A download did not match its published checksum (see above): the server may "
        "serve a different file, or the transfer was corrupted. Try again later, or"
        if mismatch
        else "Connect to the internet, or"
    )
    raise (DataError if mismatch else DataUnavailable)(
        f"Data set {name!r}: no usable copy of {files[0].path} was found.\nLooked in:\n"
        + "".join(f"  - {x}\n" for x in looked)
        + "Download:\n"
        + "".join(f"  - {x}\n" for x in tried)
        + f"{cause} set {DATA_DIR_VAR} to a folder laid out like the project's shared "
        f"data ({LAYOUT_HELP})."
    )


@contextmanager
def atomic_write(dest: Path, suffix: str = ".part"):
    """Write ``dest`` all or nothing: yields a binary file beside it, moved into place
    only when the ``with`` block ends without an exception; on any exception the partial
    file is removed and ``dest`` is left as it was (a reader sees the old file or the
    whole new one)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    sweep_partials(dest, suffix)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sweep_stale(folder: Path, pattern: str) -> None:
    """Remove the files or folders in ``folder`` matching ``pattern`` that nothing has
    written to for ``STALE_S`` seconds: leftovers of killed processes. Live ones are
    left alone."""
    for p in folder.glob(pattern):
        try:
            newest = max(
                q.lstat().st_mtime for q in [p, *(p.rglob("*") if p.is_dir() else ())]
            )
            if time.time() - newest > STALE_S:
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        except OSError:  # removed meanwhile by another process, or not ours to remove
            pass


def sweep_partials(dest: Path, suffix: str = ".part") -> None:
    """Sweep stale temporary files that :func:`atomic_write` left beside ``dest``."""
    if dest.parent.is_dir():
        sweep_stale(dest.parent, f".{glob.escape(dest.name)}.*{suffix}")


def download(url: str, dest: Path, accepted: Mapping[str, str]) -> str:
    """Stream ``url`` to a temporary file beside ``dest``, check its SHA-256, then move
    it into place.

    Returns where the matching hash comes from. On any failure (network
    error, interruption, mismatch) the temporary file is removed and ``dest``
    is left untouched.
    """
    print(f"Downloading {url} to {dest} ...", flush=True)
    with atomic_write(dest) as out:
        digest, size = hashlib.sha256(), 0
        with _urlopen(url, timeout=TIMEOUT_S) as response:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        got = digest.hexdigest()
        if got not in accepted:
            raise DataError(
                f"checksum mismatch: expected one of\n{_expected(accepted)}\n    got "
                f"{got} ({size:,} bytes); nothing was kept."
            )
    print(f"  done: {size / 1e6:.1f} MB, SHA-256 verified.", flush=True)
    _log_read(dest, got)
    return accepted[got]
