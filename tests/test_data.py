"""Tests of helpers.data and helpers.data.sources: the smoke samples, the IMDB
conventions, and the fetch machinery (cache, atomic downloads, checksums, clear errors)
on synthetic files.

Nothing here needs the network or the shared data folder; the full-size checks at the
end run only where /work/shared/data exists.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import io
import json
import os
import pickle
import shutil
import signal
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from helpers import data
from helpers.data import sources as sources
from helpers.data.sources import DataError, DataFile, DataSet, DataUnavailable

SHARED = (
    Path(__file__).resolve().parents[2] / "shared" / "data"
)  # ../shared beside the checkout


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No LABS_DATA_DIR, an empty cache, downloads off, and any network use fails
    the test."""
    monkeypatch.delenv("LABS_DATA_DIR", raising=False)
    monkeypatch.setenv("LABS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LABS_OFFLINE", "1")

    def no_network(url, timeout=None):
        raise AssertionError(f"tried to open {url}")

    monkeypatch.setattr(sources, "_urlopen", no_network)


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def register(monkeypatch, name, role, path, fmt, content=None, urls=(), sha256=None):
    """Put a one-file data set in the registry, accepting ``content``'s hash
    (or ``sha256``)."""
    accepted = (
        {sha256 or sha(content): "canonical (test)"} if (content or sha256) else {}
    )
    entry = DataSet({role: (DataFile(path, fmt, accepted, tuple(urls)),)})
    monkeypatch.setitem(sources.DATASETS, name, entry)
    return entry


def files_under(folder: Path) -> list[Path]:
    return (
        sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
    )


def tar_gz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def idx_gz(array: np.ndarray) -> bytes:
    header = bytes((0, 0, 8, array.ndim)) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    return gzip.compress(header + array.astype(np.uint8).tobytes())


# --- Smoke samples --------------------------------------------------------------------
@pytest.mark.parametrize(
    "loader, shape, n",
    [
        (data.load_mnist, (28, 28), (2000, 500)),
        (data.load_fashion_mnist, (28, 28), (2000, 500)),
        (data.load_cifar10, (32, 32, 3), (1000, 300)),
    ],
)
def test_smoke_image_loaders(loader, shape, n):
    for (x, y), size in zip(loader(profile="smoke"), n):
        assert x.shape == (size, *shape) and x.dtype == np.uint8 and x.flags.writeable
        assert y.shape == (size,) and y.dtype == np.int64
        assert np.array_equal(np.bincount(y, minlength=10), np.full(10, size // 10))


def test_smoke_image_folders():
    (x, y), (xv, yv), classes = data.load_image_folder(
        "hymenoptera", 64, profile="smoke"
    )
    assert (
        classes == ["ants", "bees"]
        and x.shape == (32, 64, 64, 3)
        and xv.shape == (32, 64, 64, 3)
    )
    assert x.dtype == np.uint8 and y.dtype == np.int64 and set(y) == set(yv) == {0, 1}
    (x, y), (xt, yt), classes = data.load_image_folder(
        "flowers", (48, 32), profile="smoke"
    )
    assert classes == ["daisy", "dandelion", "rose", "sunflower", "tulip"]
    assert x.shape == (95, 48, 32, 3) and xt.shape == (
        25,
        48,
        32,
        3,
    )  # 24 a class, 5 of them test
    assert np.array_equal(np.bincount(yt), [5] * 5)
    again = data.load_image_folder("flowers", (48, 32), profile="smoke")
    assert np.array_equal(again[1][0], xt)  # the split is fixed


def test_small_files_and_photo():
    x, y, names = data.load_boston()
    assert (
        x.shape == (506, 13)
        and y.shape == (506,)
        and names[0] == "crim"
        and len(names) == 13
    )
    x, y, names = data.load_pima()
    assert (
        x.shape == (768, 8)
        and y.dtype == np.int64
        and set(y) == {0, 1}
        and names[-1] == "age"
    )
    dog = data.load_image("dog")
    assert dog.shape == (576, 768, 3) and dog.dtype == np.uint8


def test_samples_match_their_checksums_and_stay_small():
    sums = sources._sample_sums()
    for name, expected in sums.items():
        assert sha((sources.SAMPLES_DIR / name).read_bytes()) == expected, name
    used = {f for entry in sources.DATASETS.values() for f, _ in entry.samples.values()}
    assert used == set(sums)
    assert sum((sources.SAMPLES_DIR / n).stat().st_size for n in sums) < 8e6


def test_smoke_ignores_data_dir_and_network(monkeypatch, tmp_path):
    monkeypatch.setenv("LABS_DATA_DIR", str(tmp_path / "missing"))
    monkeypatch.delenv("LABS_OFFLINE")
    (x, _), _ = data.load_mnist(profile="smoke")
    assert len(x) == 2000


def test_no_sample_for_cifar100_and_emnist():
    for loader in (
        data.load_cifar100,
        data.load_cifar100_subset,
        data.load_emnist_letters,
    ):
        with pytest.raises(DataUnavailable, match="no committed smoke sample"):
            loader(profile="smoke")
    with pytest.raises(DataUnavailable):
        data.load_letters("emnist", profile="smoke")


def test_letters_fall_back_to_fonts():
    pytest.importorskip("helpers.letters")
    (x, y), (xt, _), source = data.load_letters(
        "auto", n_train_per_class=2, n_test_per_class=1, profile="smoke"
    )
    assert source == "fonts" and x.shape == (52, 28, 28) and x.dtype == np.uint8
    assert y.dtype == np.int64 and set(y) == set(range(26)) and len(xt) == 26


# --- IMDB -----------------------------------------------------------------------------
def test_text_to_words_like_keras():
    assert data.text_to_words("I <br />don't LIKE it!! (Really.)") == [
        "i",
        "don't",
        "like",
        "it",
        "really",
    ]
    index = data.build_word_index(["b a a", "c a b"])
    assert index == {"a": 3, "b": 4, "c": 5}


def test_imdb_ids_and_word_index():
    (x, y), (xt, _), index = data.load_imdb(return_word_index=True, profile="smoke")
    assert len(x) == 500 and len(xt) == 200 and y.dtype == np.int64 and y.sum() == 250
    assert (
        min(index.values()) == 3
        and index["the"] == 3
        and len(set(index.values())) == len(index)
    )
    assert all(
        s[0] == 1 and s[1:].min() >= 3 for s in x
    )  # training words are all in the index
    assert any((s == 2).any() for s in xt)  # test words missing from the training text
    assert data.imdb_word_index(profile="smoke") == index


def test_imdb_num_words_and_maxlen():
    (x, _), (xt, _) = data.load_imdb(num_words=100, maxlen=50, profile="smoke")
    for s in list(x) + list(xt):
        assert len(s) <= 50 and s[0] == 1 and s.max() < 100
    assert max(len(s) for s in x) == 50 and any((s == 2).any() for s in x)
    (full, _), _ = data.load_imdb(profile="smoke")
    assert np.array_equal(
        x[0], np.where(full[0][:50] < 100, full[0][:50], 2)
    )  # truncation keeps the start


def test_imdb_decoding_round_trips():
    (x, _), _, index = data.load_imdb(return_word_index=True, profile="smoke")
    texts = data.imdb.imdb_texts(sources.fetch("imdb", sample=True))["train"][0]
    order = np.random.default_rng(data.ORDER_SEED).permutation(len(texts))
    for j in (0, 1, 499):
        words = data.text_to_words(texts[order[j]])
        assert data.decode_review(x[j], index) == " ".join(["<start>"] + words)


def test_bag_of_words_counts_and_multi_hot():
    sequences = [np.array([1, 5, 5, 7, 12], np.int32), np.array([1, 3], np.int32)]
    counts = data.bag_of_words(sequences, 10)
    assert counts.shape == (2, 10) and counts.dtype == np.float32
    assert counts[0].tolist() == [
        0,
        1,
        0,
        0,
        0,
        2,
        0,
        1,
        0,
        0,
    ]  # id 12 >= num_words is dropped
    assert counts[1].tolist() == [0, 1, 0, 1, 0, 0, 0, 0, 0, 0]
    assert data.bag_of_words(sequences, 10, counts=False)[0].tolist() == [
        0,
        1,
        0,
        0,
        0,
        1,
        0,
        1,
        0,
        0,
    ]
    (x, _), _ = data.load_imdb(num_words=1000, profile="smoke")
    bow = data.bag_of_words(x, 1000)
    assert (
        np.array_equal(bow.sum(axis=1), [len(s) for s in x]) and (bow[:, 1] == 1).all()
    )


# --- Fetch machinery ------------------------------------------------------------------
def test_good_download_lands_atomically_in_cache(monkeypatch, tmp_path, capsys):
    content = b"payload" * 1000
    served = tmp_path / "server" / "toy.bin"
    served.parent.mkdir()
    served.write_bytes(content)
    register(
        monkeypatch, "toy", "archive", "toy/toy.bin", "bin", content, [served.as_uri()]
    )
    monkeypatch.delenv("LABS_OFFLINE")
    monkeypatch.setattr(
        sources, "_urlopen", __import__("urllib.request").request.urlopen
    )
    found = sources.fetch("toy")
    cache = tmp_path / "cache"
    assert (
        found.path == cache / "toy" / "toy.bin" and found.path.read_bytes() == content
    )
    printed = capsys.readouterr().out
    assert "to cache (LABS_CACHE_DIR): toy/toy.bin ..." in printed
    assert str(cache) not in printed
    assert files_under(cache) == [found.path] and found.origin == "canonical (test)"
    served.unlink()  # the second call is served from the cache
    assert sources.fetch("toy").path == found.path


def test_mismatching_download_leaves_nothing(monkeypatch, tmp_path):
    served = tmp_path / "toy.bin"
    served.write_bytes(b"not what was published")
    expected = sha(b"the published file")
    register(
        monkeypatch,
        "toy",
        "archive",
        "toy/toy.bin",
        "bin",
        sha256=expected,
        urls=[served.as_uri()],
    )
    monkeypatch.delenv("LABS_OFFLINE")
    monkeypatch.setattr(
        sources, "_urlopen", __import__("urllib.request").request.urlopen
    )
    with pytest.raises(DataError, match="mismatch") as err:
        sources.fetch("toy")
    assert expected in str(err.value) and not isinstance(err.value, DataUnavailable)
    assert files_under(tmp_path / "cache") == []


class Interrupted(io.BytesIO):
    """A response that breaks after its first chunk."""

    def __init__(self, error):
        super().__init__(b"x" * (3 << 20))
        self.error, self.calls = error, 0

    def read(self, n=-1):
        self.calls += 1
        if self.calls > 1:
            raise self.error
        return super().read(n)


@pytest.mark.parametrize(
    "error", [ConnectionResetError("reset by peer"), KeyboardInterrupt()]
)
def test_interrupted_download_leaves_nothing(monkeypatch, tmp_path, error):
    register(
        monkeypatch,
        "toy",
        "archive",
        "toy/toy.bin",
        "bin",
        b"whatever",
        ["https://example.org/t"],
    )
    monkeypatch.delenv("LABS_OFFLINE")
    monkeypatch.setattr(
        sources, "_urlopen", lambda url, timeout=None: Interrupted(error)
    )
    with pytest.raises((DataUnavailable, KeyboardInterrupt)) as err:
        sources.fetch("toy")
    if isinstance(error, OSError):
        assert "reset by peer" in str(err.value) and "https://example.org/t" in str(
            err.value
        )
    assert files_under(tmp_path / "cache") == []


def test_missing_everywhere_lists_places_and_what_to_do(monkeypatch, tmp_path):
    register(
        monkeypatch,
        "toy",
        "archive",
        "toy/toy.bin",
        "bin",
        b"x",
        ["https://example.org/toy.bin"],
    )
    monkeypatch.delenv("LABS_OFFLINE")
    monkeypatch.setattr(
        sources,
        "_urlopen",
        lambda url, timeout=None: (_ for _ in ()).throw(
            OSError("Name or service not known")
        ),
    )
    with pytest.raises(DataUnavailable) as err:
        sources.fetch("toy")
    message = str(err.value)
    for part in (
        "LABS_DATA_DIR",
        str(tmp_path / "cache" / "toy" / "toy.bin"),
        "https://example.org/toy.bin",
        "Name or service not known",
        "Connect to the internet",
    ):
        assert part in message


def test_offline_and_nothing_found_mentions_data_dir(monkeypatch):
    register(
        monkeypatch,
        "toy",
        "archive",
        "toy/toy.bin",
        "bin",
        b"x",
        ["https://example.org/toy.bin"],
    )
    with pytest.raises(DataUnavailable, match="LABS_DATA_DIR") as err:
        sources.fetch("toy")
    assert "LABS_OFFLINE" in str(err.value)


def test_unknown_names_suggest_close_matches():
    with pytest.raises(DataError, match="Did you mean 'mnist'"):
        sources.fetch("mnsit")
    with pytest.raises(DataError, match="Did you mean 'flowers'"):
        data.load_image_folder("flower", profile="smoke")


def test_data_dir_pointing_nowhere(monkeypatch, tmp_path):
    monkeypatch.setenv("LABS_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="LABS_DATA_DIR.*no folder"):
        data.load_mnist(profile="full")


def test_checksum_mismatch_in_data_dir(monkeypatch, tmp_path):
    expected = sha(b"good")
    register(monkeypatch, "toy", "archive", "toy/toy.bin", "bin", sha256=expected)
    (tmp_path / "d" / "toy").mkdir(parents=True)
    (tmp_path / "d" / "toy" / "toy.bin").write_bytes(b"bad")
    monkeypatch.setenv("LABS_DATA_DIR", str(tmp_path / "d"))
    with pytest.raises(DataError) as err:
        sources.fetch("toy")
    message = str(err.value)
    assert (
        expected in message
        and sha(b"bad") in message
        and "toy.bin" in message
        and "Re-copy" in message
    )


def test_file_without_published_hash_is_never_downloaded(monkeypatch, tmp_path):
    register(
        monkeypatch,
        "toy",
        "archive",
        "toy/toy.zip",
        "bin",
        urls=["https://example.org/toy.zip"],
    )
    monkeypatch.delenv("LABS_OFFLINE")  # would download, if it were allowed to
    with pytest.raises(DataUnavailable, match="no published SHA-256") as err:
        sources.fetch("toy")
    assert str(tmp_path / "cache" / "toy" / "toy.zip") in str(err.value)
    placed = tmp_path / "cache" / "toy" / "toy.zip"
    placed.parent.mkdir(parents=True)
    placed.write_bytes(b"fetched by hand")
    with pytest.warns(UserWarning, match="unverified") as warned:
        assert sources.fetch("toy").path == placed
    assert str(warned[0].message).startswith(
        "cache (LABS_CACHE_DIR): toy/toy.zip has no published SHA-256"
    )


# --- Parsers on synthetic canonical-format files --------------------------------------
def mnist_folder(monkeypatch, tmp_path, images: bytes, n=6):
    rng = np.random.default_rng(0)
    contents = {
        "train_images": images,
        "train_labels": idx_gz(rng.integers(0, 10, n)),
        "test_images": idx_gz(rng.integers(0, 256, (4, 28, 28))),
        "test_labels": idx_gz(rng.integers(0, 10, 4)),
    }
    root = tmp_path / "d"
    (root / "mnist").mkdir(parents=True, exist_ok=True)
    files = {}
    for role, content in contents.items():
        (root / "mnist" / role).write_bytes(content)
        files[role] = (DataFile(f"mnist/{role}", "idx-gz", {sha(content): "test"}),)
    monkeypatch.setitem(sources.DATASETS, "mnist", DataSet(files))
    monkeypatch.setenv("LABS_DATA_DIR", str(root))


def test_idx_parsing(monkeypatch, tmp_path):
    images = np.random.default_rng(1).integers(0, 256, (6, 28, 28)).astype(np.uint8)
    mnist_folder(monkeypatch, tmp_path, idx_gz(images))
    (x, y), (xt, _) = data.load_mnist(profile="full")
    assert np.array_equal(x, images) and y.dtype == np.int64 and xt.shape == (4, 28, 28)


def test_truncated_gzip_and_bad_idx(monkeypatch, tmp_path):
    good = idx_gz(np.zeros((6, 28, 28), np.uint8))
    mnist_folder(monkeypatch, tmp_path, good[: len(good) // 2])
    with pytest.raises(DataError, match="truncated or corrupt"):
        data.load_mnist(profile="full")
    mnist_folder(
        monkeypatch, tmp_path, gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 20)
    )
    with pytest.raises(DataError, match="header says"):
        data.load_mnist(profile="full")
    with pytest.raises(DataError, match="magic"):
        data.parse_idx(b"\x00\x00\x08\x01\x00", 3)


def in_data_dir(monkeypatch, tmp_path, name, path, fmt, content):
    target = tmp_path / "d" / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    register(monkeypatch, name, "archive", path, fmt, content)
    monkeypatch.setenv("LABS_DATA_DIR", str(tmp_path / "d"))


def hand_placed(monkeypatch, tmp_path, name, path, content, urls=()) -> Path:
    """A file without a published hash, put in the cache by hand (used with
    a warning)."""
    register(monkeypatch, name, "archive", path, "image-archive", urls=urls)
    placed = tmp_path / "cache" / path
    placed.parent.mkdir(parents=True, exist_ok=True)
    placed.write_bytes(content)
    return placed


def cifar_batch(n, key, n_classes, seed):
    rng = np.random.default_rng(seed)
    return pickle.dumps(
        {
            b"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8),
            key: rng.integers(0, n_classes, n).tolist(),
            b"coarse_labels": rng.integers(0, 20, n).tolist(),
        }
    )


def test_cifar10_from_canonical_pickles(monkeypatch, tmp_path):
    batches = {
        f"cifar-10-batches-py/data_batch_{i}": cifar_batch(3, b"labels", 10, i)
        for i in range(1, 6)
    }
    batches["cifar-10-batches-py/test_batch"] = cifar_batch(2, b"labels", 10, 9)
    in_data_dir(
        monkeypatch, tmp_path, "cifar10", "c/c.tar.gz", "cifar-python", tar_gz(batches)
    )
    (x, _), (xt, _) = data.load_cifar10(profile="full")
    first = np.frombuffer(
        pickle.loads(batches["cifar-10-batches-py/data_batch_1"])[b"data"][0], np.uint8
    )
    assert x.shape == (15, 32, 32, 3) and xt.shape == (2, 32, 32, 3)
    assert np.array_equal(x[0], first.reshape(3, 32, 32).transpose(1, 2, 0))


def test_cifar100_subset_relabels(monkeypatch, tmp_path):
    archive = tar_gz(
        {
            "cifar-100-python/train": cifar_batch(400, b"fine_labels", 100, 1),
            "cifar-100-python/test": cifar_batch(100, b"fine_labels", 100, 2),
        }
    )
    in_data_dir(
        monkeypatch, tmp_path, "cifar100", "c/c100.tar.gz", "cifar-python", archive
    )
    (x, y), _ = data.load_cifar100(profile="full")
    (xs, ys), _ = data.load_cifar100_subset(25, profile="full")
    assert (
        np.array_equal(xs, x[y < 25])
        and np.array_equal(ys, y[y < 25])
        and ys.max() < 25
    )
    (_, yc), _ = data.load_cifar100("coarse", profile="full")
    assert yc.max() < 20


def test_emnist_letters_from_zip(monkeypatch, tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for s in ("train", "test"):
            z.writestr(f"gzip/emnist-letters-{s}-images-idx3-ubyte.gz", idx_gz(images))
            z.writestr(
                f"gzip/emnist-letters-{s}-labels-idx1-ubyte.gz",
                idx_gz(np.array([1, 26])),
            )
    in_data_dir(
        monkeypatch, tmp_path, "emnist", "emnist/gzip.zip", "emnist-zip", buf.getvalue()
    )
    (x, y), _ = data.load_emnist_letters(profile="full")
    assert np.array_equal(x[1], images[1].T) and y.tolist() == [0, 25]
    assert data.load_letters("auto", profile="full")[2] == "emnist"


def test_imdb_from_canonical_tar(monkeypatch, tmp_path):
    reviews = {
        "aclImdb/train/pos/1_9.txt": b"Great great great film!",
        "aclImdb/train/neg/0_2.txt": b"Bad<br />film.",
        "aclImdb/test/pos/0_8.txt": b"great acting",
        "aclImdb/test/neg/3_1.txt": b"awful",
        "aclImdb/train/unsup/0_0.txt": b"ignored",
        "aclImdb/imdb.vocab": b"x",
    }
    in_data_dir(
        monkeypatch,
        tmp_path,
        "imdb",
        "imdb/aclImdb_v1.tar.gz",
        "imdb-tar",
        tar_gz(reviews),
    )
    (x, y), (xt, _), index = data.load_imdb(return_word_index=True, profile="full")
    assert index == {"great": 3, "film": 4, "bad": 5}
    assert sorted(map(list, x)) == [[1, 3, 3, 3, 4], [1, 5, 4]] and sorted(y) == [0, 1]
    assert sorted(map(list, xt)) == [[1, 2], [1, 3, 2]]


def test_image_folder_from_hand_placed_zip(monkeypatch, tmp_path):
    from PIL import Image

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i, member in enumerate(
            [
                "h/train/ants/a.jpg",
                "h/train/bees/b.jpg",
                "h/val/ants/c.jpg",
                "h/val/bees/d.jpg",
                "__MACOSX/h/train/ants/._a.jpg",
            ]
        ):
            img = io.BytesIO()
            Image.new("RGB", (40 + i, 30), (60 * i, 0, 0)).save(img, "JPEG")
            z.writestr(member, img.getvalue())
    url = "https://example.org/h.zip"  # not downloaded: no published hash
    hand_placed(monkeypatch, tmp_path, "hymenoptera", "h/h.zip", buf.getvalue(), [url])
    with pytest.warns(UserWarning, match="unverified"):
        (x, y), (_, yv), classes = data.load_image_folder(
            "hymenoptera", 16, profile="full"
        )
    assert x.shape == (2, 16, 16, 3) and y.tolist() == [0, 1] and yv.tolist() == [0, 1]
    assert classes == ["ants", "bees"]


def test_truncated_tar_gives_data_error(monkeypatch, tmp_path):
    archive = (sources.SAMPLES_DIR / "cifar10-sample-jpg.tar.gz").read_bytes()
    in_data_dir(
        monkeypatch, tmp_path, "cifar10", "c/c.tar.gz", "jpg-tar", archive[:50_000]
    )
    with pytest.raises(DataError, match="truncated or corrupt"):
        data.load_cifar10(profile="full")


# --- The real data folder, full size (only where it exists) ---------------------------
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"{SHARED} is not on this machine"
)


@needs_shared
def test_full_mnist_from_data_dir(monkeypatch):
    monkeypatch.setenv("LABS_DATA_DIR", str(SHARED))
    (x, y), (xt, _) = data.load_mnist(profile="full")
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28) and y.max() == 9
    assert abs(x.mean() / 255 - 0.1307) < 1e-3
    assert sources.fetch("mnist", "train_images").origin.startswith("offline copy")


@pytest.mark.slow
@needs_shared
def test_full_cifar10_from_data_dir(monkeypatch):
    monkeypatch.setenv("LABS_DATA_DIR", str(SHARED))
    (x, y), (xt, _) = data.load_cifar10(profile="full")
    assert x.shape == (50000, 32, 32, 3) and xt.shape == (10000, 32, 32, 3)
    assert (
        np.array_equal(np.bincount(y), [5000] * 10) and len(set(y[:20].tolist())) > 3
    )  # shuffled


def test_source_of_says_where_the_files_come_from(monkeypatch, tmp_path):
    assert data.source_of("mnist", profile="smoke") == (
        "mnist: smoke sample (helpers/samples/SHA256SUMS), in package helpers/samples"
    )
    in_data_dir(monkeypatch, tmp_path, "toy", "toy/toy.bin", "bin", b"x")
    assert data.source_of("toy", profile="full") == (
        "toy: canonical (test), in offline data folder (LABS_DATA_DIR): toy/"
    )  # relative to its root: a page never shows the machine's folders
    monkeypatch.setenv("LABS_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(data.DataError, match="LABS_DATA_DIR"):
        data.source_of("mnist", profile="full")


# --- Faults: each a clear DataError naming the file and the fix; nothing lost or
# poisoned ---------
def jpeg(i: int = 0) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20 + i, 16), (40 * i % 256, 90, 0)).save(out, "JPEG")
    return out.getvalue()


def image_tar(members: dict[str, bytes | None]) -> bytes:
    """A tar.gz of images; a member whose content is None is an (empty) folder."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if content is None:
                info.type = tarfile.DIRTYPE
            else:
                info.size = len(content)
            tar.addfile(info, None if content is None else io.BytesIO(content))
    return buf.getvalue()


def hymenoptera(**changes) -> dict[str, bytes | None]:
    """h/{train,val}/{ants,bees}/ with two images each, then ``changes``
    (folder: members)."""
    members = {
        f"h/{s}/{c}/{i}.jpg": jpeg(i)
        for s in ("train", "val")
        for c in ("ants", "bees")
        for i in range(2)
    }
    for folder, content in changes.items():
        members = {m: v for m, v in members.items() if not m.startswith(f"h/{folder}/")}
        members.update(content)
    return members


@pytest.mark.parametrize(
    "folder, content",
    [
        ("train/bees", {"h/train/bees/": None}),  # an empty class folder
        ("val/ants", {}),  # no folder at all
    ],
)
def test_an_image_folder_missing_a_class_in_a_split_names_the_folder(
    monkeypatch, tmp_path, folder, content
):
    archive = image_tar(hymenoptera(**{folder: content}))
    in_data_dir(
        monkeypatch, tmp_path, "hymenoptera", "h/h.tar.gz", "image-archive", archive
    )
    with pytest.raises(DataError, match=f"no images in {folder}/") as err:
        data.load_image_folder("hymenoptera", 16, profile="full")
    assert str(tmp_path / "d" / "h" / "h.tar.gz") in str(err.value)
    assert "replace it with a complete copy" in str(err.value)
    both_empty = hymenoptera(
        **{f"{s}/bees": {f"h/{s}/bees/": None} for s in ("train", "val")}
    )
    in_data_dir(
        monkeypatch,
        tmp_path,
        "hymenoptera",
        "h/h.tar.gz",
        "image-archive",
        image_tar(both_empty),
    )
    with pytest.raises(DataError, match="no images in train/bees/"):  # not one class
        data.load_image_folder("hymenoptera", 16, profile="full")


def test_a_flowers_class_too_small_to_split_or_missing_is_named(monkeypatch, tmp_path):
    classes = data.IMAGE_FOLDER_CLASSES["flowers"]
    members = {f"flowers/{c}/{i}.jpg": jpeg(i) for c in classes for i in range(5)}
    for count, rose in ((2, "2 images of 'rose'"), (0, "0 images of 'rose'")):
        kept = {
            m: v for m, v in members.items() if "/rose/" not in m or int(m[-5]) < count
        }
        archive = image_tar(kept)
        in_data_dir(
            monkeypatch, tmp_path, "flowers", "f/f.tar.gz", "image-archive", archive
        )
        with pytest.raises(DataError, match=f"has {rose} \\(at least 3"):
            data.load_image_folder("flowers", 16, profile="full")
    in_data_dir(
        monkeypatch,
        tmp_path,
        "flowers",
        "f/f.tar.gz",
        "image-archive",
        image_tar(members),
    )
    (x, _), (xt, yt), names = data.load_image_folder("flowers", 16, profile="full")
    assert (
        names == list(classes) and len(x) == 20 and np.bincount(yt).tolist() == [1] * 5
    )


def test_cifar10_jpegs_missing_a_class_name_it(monkeypatch, tmp_path):
    members = {
        f"c/{s}/{c}/0.jpg": jpeg()
        for s in ("train", "test")
        for c in data.CIFAR10_CLASSES
    }
    del members["c/test/truck/0.jpg"]
    in_data_dir(
        monkeypatch, tmp_path, "cifar10", "c/c.tar.gz", "jpg-tar", image_tar(members)
    )
    with pytest.raises(DataError, match="no images in test/truck/"):
        data.load_cifar10(profile="full")


@pytest.mark.parametrize("where", ["inside", "at"])
def test_a_tar_cut_at_a_member_header_is_truncated_not_shorter(
    monkeypatch, tmp_path, where
):
    raw = gzip.decompress(
        (sources.SAMPLES_DIR / "hymenoptera-sample.tar.gz").read_bytes()
    )
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        third = tar.getmembers()[2].offset  # 2 of the 64 images come before it
    cut = raw[: third + (100 if where == "inside" else 0)]
    placed = hand_placed(
        monkeypatch, tmp_path, "hymenoptera", "h/h.tar.gz", gzip.compress(cut)
    )
    with pytest.warns(UserWarning, match="unverified"):
        with pytest.raises(DataError, match="truncated") as err:
            data.load_image_folder("hymenoptera", 16, profile="full")
    assert f"{placed} (unverified" in str(err.value) and "Delete it" in str(err.value)
    assert f"at byte {third:,} (after 2 members)" in str(err.value)


@pytest.mark.parametrize(
    "bad", [b"<html>not found</html>", jpeg(3)[:200]], ids=["not an image", "cut short"]
)
def test_a_member_that_is_not_a_readable_image_is_named(monkeypatch, tmp_path, bad):
    members = hymenoptera(
        **{"train/bees": {"h/train/bees/0.jpg": jpeg(), "h/train/bees/x.jpg": bad}}
    )
    placed = hand_placed(
        monkeypatch, tmp_path, "hymenoptera", "h/h.tar.gz", image_tar(members)
    )
    with pytest.warns(UserWarning, match="unverified"):
        with pytest.raises(
            DataError,
            match=f"{placed}: its member h/train/bees/x.jpg is not a readable image",
        ):
            data.load_image_folder("hymenoptera", 16, profile="full")
    members = {f"c/{s}/{c}/0.jpg": jpeg() for s in ("train", "test") for c in "ab"}
    members["c/test/b/1.jpg"] = bad  # CIFAR-10's JPEGs decode at their own size
    in_data_dir(
        monkeypatch, tmp_path, "cifar10", "c.tar.gz", "jpg-tar", image_tar(members)
    )
    with pytest.raises(DataError, match="its member c/test/b/1.jpg is not a readable"):
        data.load_cifar10(profile="full")


def test_an_archive_member_that_cannot_be_read_is_named(monkeypatch, tmp_path):
    raw = gzip.decompress(
        (sources.SAMPLES_DIR / "hymenoptera-sample.tar.gz").read_bytes()
    )
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        third = tar.getmembers()[2]
    cut = gzip.compress(raw[: third.offset_data + 10])  # inside the third image
    hand_placed(monkeypatch, tmp_path, "hymenoptera", "h/h.tar.gz", cut)
    with pytest.warns(UserWarning, match="unverified"):
        with pytest.raises(DataError, match=f"cannot read its member {third.name} "):
            data.load_image_folder("hymenoptera", 16, profile="full")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for member, content in hymenoptera().items():
            z.writestr(member, content)
    damaged = bytearray(buf.getvalue())
    with zipfile.ZipFile(buf) as z:
        info = z.getinfo("h/train/bees/1.jpg")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    damaged[start + 20 : start + 60] = bytes(40)  # zeros inside its compressed data
    hand_placed(monkeypatch, tmp_path, "hymenoptera", "h/h.zip", bytes(damaged))
    with pytest.warns(UserWarning, match="unverified"):
        with pytest.raises(
            DataError, match="cannot read its member h/train/bees/1.jpg"
        ):
            data.load_image_folder("hymenoptera", 16, profile="full")


@pytest.mark.parametrize("size", [-5, 0, (64,), "64", (64, 0), (64, 64, 3), True, 2.5])
def test_image_sizes_are_checked_before_any_file_is_touched(monkeypatch, size):
    monkeypatch.setattr(
        data.images, "fetch", lambda *a, **k: pytest.fail("a file was fetched")
    )
    with pytest.raises(ValueError, match=r"size=.*: give a positive int"):
        data.load_image_folder("hymenoptera", size, profile="smoke")


def test_good_sizes_still_load():
    (x, _), _, _ = data.load_image_folder("hymenoptera", np.int64(8), profile="smoke")
    (x2, _), _, _ = data.load_image_folder("hymenoptera", [8, 12], profile="smoke")
    assert x.shape[1:] == (8, 8, 3) and x2.shape[1:] == (8, 12, 3)


def test_a_file_that_passed_its_checksum_is_never_called_damaged(monkeypatch, tmp_path):
    in_data_dir(
        monkeypatch,
        tmp_path,
        "hymenoptera",
        "h/h.tar.gz",
        "image-archive",
        b"no archive",
    )
    with pytest.raises(DataError, match="matches its published checksum") as err:
        data.load_image_folder("hymenoptera", 16, profile="full")
    assert "Delete" not in str(err.value) and "report" in str(err.value)


def test_a_file_swapped_for_one_of_the_same_size_and_mtime_is_hashed_again(
    monkeypatch, tmp_path
):
    in_data_dir(monkeypatch, tmp_path, "toy", "toy/toy.bin", "bin", b"good data")
    path = tmp_path / "d" / "toy" / "toy.bin"
    for rewrite in ("replaced", "in place"):
        path.write_bytes(b"good data")
        assert sources.fetch("toy").path == path  # hashed and remembered
        before = path.stat()
        if rewrite == "replaced":
            swap = path.with_name("swap")
            swap.write_bytes(b"evil data")
            os.utime(swap, ns=(before.st_atime_ns, before.st_mtime_ns))
            os.replace(swap, path)
        else:
            time.sleep(0.05)  # past the file system's clock tick, so ctime moves
            path.write_bytes(b"evil data")
            os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        after = path.stat()
        assert (after.st_size, after.st_mtime_ns) == (
            before.st_size,
            before.st_mtime_ns,
        )
        with pytest.raises(DataError, match="Checksum mismatch"):
            sources.fetch("toy")


def test_a_cache_folder_that_is_a_file_is_named_not_the_network(monkeypatch, tmp_path):
    register(
        monkeypatch,
        "toy",
        "archive",
        "toy/toy.bin",
        "bin",
        b"x",
        ["https://example.org/toy.bin"],
    )
    blocker = tmp_path / "cache-file"
    blocker.write_text("keep me")
    monkeypatch.setenv("LABS_CACHE_DIR", str(blocker))
    for offline in (
        "1",
        "0",
    ):  # online, no download is tried (the network use fails the test)
        monkeypatch.setenv("LABS_OFFLINE", offline)
        with pytest.raises(
            DataError, match=f"{blocker} is a file, not a folder"
        ) as err:
            sources.fetch("toy")
        message = str(err.value)
        assert "LABS_CACHE_DIR" in message and "Connect to the internet" not in message
        assert not isinstance(err.value, DataUnavailable)
    monkeypatch.setenv("LABS_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache" / "toy").parent.mkdir()
    (tmp_path / "cache" / "toy").write_text("a file where the data set's folder goes")
    with pytest.raises(DataError, match="cache/toy is a file, not a folder"):
        sources.fetch("toy")
    assert blocker.read_text() == "keep me"


@pytest.mark.parametrize("place", ["LABS_DATA_DIR", "cache"])
def test_a_folder_where_a_data_file_should_be(monkeypatch, tmp_path, place):
    register(monkeypatch, "toy", "archive", "toy/toy.bin", "bin", b"x")
    root = tmp_path / ("d" if place == "LABS_DATA_DIR" else "cache")
    (root / "toy" / "toy.bin").mkdir(parents=True)
    monkeypatch.setenv("LABS_DATA_DIR", str(tmp_path / "d"))
    (tmp_path / "d").mkdir(exist_ok=True)
    with pytest.raises(
        DataError, match="toy.bin is a folder, where a data file should be"
    ) as err:
        sources.fetch("toy")
    assert ("Re-copy" if place == "LABS_DATA_DIR" else "Delete it") in str(err.value)


def as_nobody(fn, *args) -> tuple[str, str]:
    """``fn(*args)`` in a forked child run as the unprivileged user nobody (root may
    read and write everything, so permissions are only real without it):
    ``("ok", repr(result))`` or ``(exception type, message)``. Not root: run here, where
    permissions already apply."""

    def call():
        try:
            return "ok", repr(fn(*args))
        except Exception as e:  # noqa: BLE001  (reported to the parent)
            return type(e).__name__, str(e)

    if os.geteuid() != 0:
        return call()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest, and never hangs it
        signal.alarm(60)
        try:
            os.setgid(65534)
            os.setuid(65534)
            outcome = call()
        except OSError as e:
            outcome = "skip", f"cannot drop root: {e}"
        os.write(write, json.dumps(outcome).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        outcome = tuple(json.loads(f.read()))
    os.waitpid(pid, 0)
    if outcome[0] == "skip":
        pytest.skip(outcome[1])
    return outcome


@pytest.fixture
def open_dir():
    """A folder that the user nobody may enter (pytest's tmp_path is private
    to root)."""
    path = Path(tempfile.mkdtemp(prefix="labs-test-"))
    path.chmod(0o755)
    yield path

    def unlock(p: Path):  # top down: a folder must open before its files can
        p.chmod(0o755 if p.is_dir() else 0o644)
        for child in p.iterdir() if p.is_dir() else ():
            unlock(child)

    unlock(path)
    shutil.rmtree(path)


def test_an_unreadable_data_file_says_so(monkeypatch, open_dir):
    """Real permissions: the check runs as the user nobody (os.setuid in a
    forked child)."""
    in_data_dir(monkeypatch, open_dir, "toy", "toy/toy.bin", "bin", b"secret")
    (open_dir / "d" / "toy" / "toy.bin").chmod(0)
    kind, message = as_nobody(sources.fetch, "toy")
    assert (
        kind == "DataError"
        and "Cannot read" in message
        and "PermissionError" in message
    )
    assert "toy/toy.bin" in message and "chmod a+r" in message
    (open_dir / "d" / "toy").chmod(0)  # a folder that cannot be entered
    kind, message = as_nobody(sources.fetch, "toy")
    assert (
        kind == "DataError" and "Cannot look at" in message and "permissions" in message
    )


def test_an_unwritable_cache_folder_says_so(monkeypatch, open_dir):
    register(
        monkeypatch,
        "toy",
        "archive",
        "toy/toy.bin",
        "bin",
        b"x",
        ["https://example.org/toy.bin"],
    )
    (open_dir / "cache").mkdir(mode=0o555)
    monkeypatch.setenv("LABS_CACHE_DIR", str(open_dir / "cache"))
    kind, message = as_nobody(sources.fetch, "toy")
    assert kind == "DataError" and "cannot be written (PermissionError" in message
    assert "LABS_CACHE_DIR" in message and "Connect to the internet" not in message


def test_stale_partial_files_are_swept_live_ones_kept(monkeypatch, tmp_path):
    content = b"payload"
    served = tmp_path / "toy.bin"
    served.write_bytes(content)
    register(
        monkeypatch, "toy", "archive", "toy/toy.bin", "bin", content, [served.as_uri()]
    )
    folder = tmp_path / "cache" / "toy"
    folder.mkdir(parents=True)
    stale, live = folder / ".toy.bin.killed.part", folder / ".toy.bin.writing.part"
    other = (
        folder / ".other.bin.killed.part"
    )  # another file's: not this download's to sweep
    for p in (stale, live, other):
        p.write_bytes(b"half")
    for p in (stale, other):
        os.utime(p, (time.time() - 2 * sources.STALE_S,) * 2)
    monkeypatch.delenv("LABS_OFFLINE")
    monkeypatch.setattr(
        sources, "_urlopen", __import__("urllib.request").request.urlopen
    )
    found = sources.fetch("toy")  # a download: atomic_write sweeps
    assert sorted(files_under(folder)) == sorted([found.path, live, other])
    os.utime(live, (time.time() - 2 * sources.STALE_S,) * 2)
    sources.fetch("toy")  # served from the cache: swept too
    assert sorted(files_under(folder)) == sorted([found.path, other])


# --- Settings, disks, permissions, links: a clear message and nothing left behind ----
def test_a_misspelt_labs_offline_is_refused_not_taken_as_online(monkeypatch, tmp_path):
    register(
        monkeypatch, "toy", "archive", "toy/toy.bin", "bin", b"x", ["https://e.org/t"]
    )
    monkeypatch.setenv("LABS_OFFLINE", "ture")  # the network use would fail the test
    with pytest.raises(DataError, match="LABS_OFFLINE='ture' is not understood") as e:
        sources.fetch("toy")
    assert "1, true, yes, on" in str(e.value) and "0, false, no, off" in str(e.value)
    assert files_under(tmp_path / "cache") == []
    for value, downloads_off in (("On", True), (" no ", False), ("", False)):
        monkeypatch.setenv("LABS_OFFLINE", value)
        assert sources.offline() is downloads_off


class FullDisk:
    """A file whose writes stop half way with ENOSPC, as on a full disk."""

    def __init__(self, out):
        self.out = out

    def write(self, data):
        self.out.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.out, name)


def test_a_full_disk_during_a_download_names_the_folder_not_the_network(
    monkeypatch, tmp_path
):
    register(
        monkeypatch, "toy", "archive", "toy/toy.bin", "bin", b"x", ["https://e.org/t"]
    )
    monkeypatch.delenv("LABS_OFFLINE")
    monkeypatch.setattr(sources, "_urlopen", lambda url, timeout=None: io.BytesIO(b"x"))
    real = sources.atomic_write

    @contextlib.contextmanager
    def on_a_full_disk(dest, suffix=".part"):
        with real(dest, suffix) as out:
            yield FullDisk(out)

    monkeypatch.setattr(sources, "atomic_write", on_a_full_disk)
    with pytest.raises(data.DiskFull, match="No space left on the disk") as e:
        sources.fetch("toy")
    message = str(e.value)
    assert str(tmp_path / "cache" / "toy") in message and "LABS_CACHE_DIR" in message
    assert "Connect to the internet" not in message and e.value.errno == errno.ENOSPC
    assert files_under(tmp_path / "cache") == []  # no partial file


def test_atomic_write_on_a_full_disk_keeps_the_old_file(tmp_path):
    dest = tmp_path / "cache" / "features.npz"
    dest.parent.mkdir()
    dest.write_bytes(b"old")
    with pytest.raises(
        OSError, match=f"No space left on the disk that holds {dest.parent}"
    ):
        with sources.atomic_write(dest, suffix=".tmp") as out:
            FullDisk(out).write(b"new contents")
    assert dest.read_bytes() == b"old" and files_under(dest.parent) == [dest]


@contextlib.contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def test_new_files_get_the_umasks_mode_and_rewritten_ones_keep_theirs(tmp_path):
    for mask, mode in ((0o022, 0o644), (0o002, 0o664)):
        dest = tmp_path / f"new-{mask:o}.bin"
        with umask(mask), sources.atomic_write(dest) as out:
            out.write(b"shared cache")
        assert dest.stat().st_mode & 0o777 == mode  # not tempfile's 0600
    dest.chmod(0o640)
    with umask(0o022), sources.atomic_write(dest) as out:
        out.write(b"rewritten")
    assert dest.stat().st_mode & 0o777 == 0o640 and dest.read_bytes() == b"rewritten"


def test_atomic_write_writes_through_a_link_and_keeps_the_owner(tmp_path):
    target = tmp_path / "real" / "lab.ipynb"
    target.parent.mkdir()
    target.write_bytes(b"old")
    target.chmod(0o604)
    link = tmp_path / "lab.ipynb"
    link.symlink_to(target)
    if os.geteuid() == 0:  # only root can give a file away, and keep it given
        os.chown(target, 65534, 65534)
    with sources.atomic_write(link, suffix=".tmp") as out:
        out.write(b"new")
    assert link.is_symlink() and link.resolve() == target
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o604
    if os.geteuid() == 0:
        assert (target.stat().st_uid, target.stat().st_gid) == (65534, 65534)
    assert sorted(tmp_path.rglob("*")) == [link, target.parent, target]  # nothing else


def test_a_symlink_loop_in_the_data_folder_is_a_data_error(monkeypatch, tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    monkeypatch.setenv("LABS_DATA_DIR", str(loop))
    with pytest.raises(DataError, match="is a loop of symbolic links") as e:
        data.load_mnist(profile="full")
    assert "LABS_DATA_DIR=" in str(e.value) and str(loop) in str(e.value)
    register(monkeypatch, "toy", "archive", "toy/toy.bin", "bin", b"x")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "toy").symlink_to(tmp_path / "d" / "toy")
    monkeypatch.setenv("LABS_DATA_DIR", str(tmp_path / "d"))
    with pytest.raises(DataError, match="goes through a loop of symbolic links") as e:
        sources.fetch("toy")
    assert str(tmp_path / "d" / "toy" / "toy.bin") in str(e.value)


def test_an_unreadable_home_or_cache_folder_is_named_with_the_fix(
    monkeypatch, open_dir
):
    """Real permissions: run as the user nobody (os.setuid in a forked child)."""
    register(monkeypatch, "toy", "archive", "toy/toy.bin", "bin", b"x")
    home = open_dir / "home"
    (home / ".cache").mkdir(parents=True)
    home.chmod(0o700)  # root's home: nobody may not enter it
    monkeypatch.setenv("LABS_CACHE_DIR", str(home / ".cache"))
    kind, message = as_nobody(sources.fetch, "toy")
    assert kind == "DataError" and f"the folder {home} cannot be entered" in message
    assert "LABS_CACHE_DIR" in message and "permissions" in message
    home.chmod(0o755)
    (home / ".cache").chmod(0)  # a cache folder that cannot be looked into
    kind, message = as_nobody(sources.fetch, "toy")
    assert kind == "DataError" and f"{home / '.cache'} cannot be entered" in message
    assert "LABS_CACHE_DIR" in message
