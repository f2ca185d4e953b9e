"""R2's two-class study: four ways to represent ants vs bees (the transfer lab runs
it; the t-SNE lab maps its features).

:func:`two_class_representations` trains R2's four methods on the hymenoptera images
and returns, for each, the features its final linear classifier sees and that
classifier's validation accuracy. Its sizes come from the profile (:data:`SIZES`,
chosen with :func:`helpers.profile.choose`); its result is cached on disk, keyed by
what decides it: the seed, the profile, the settings and the source of the code that
computes it (:data:`CODE`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from torch import nn

from .. import data, pretrained, train
from .. import profile as _profile
from ..data.sources import CACHE_DIR_VAR, atomic_write, cache_dir
from ..transfer_torch import (
    BackboneClassifier,
    SmallCNN,
    extract_features,
    random_crop_flip,
)

TWO_CLASS_METHODS = (
    "scratch",
    "pretrained + SVM",
    "fine-tuning",
    "fine-tuning + augmentation",
)

SIZES = dict(
    smoke=dict(size=64, scratch_epochs=2, head_epochs=2, finetune_epochs=1),
    cpu=dict(size=128, scratch_epochs=20, head_epochs=30, finetune_epochs=4),
    full=dict(size=224, scratch_epochs=50, head_epochs=30, finetune_epochs=25),
)
"""The study's sizes per profile. ``full`` is the practical's scale (R2 gives its
results, not its settings: 224 px, 25 epochs of fine-tuning as in PyTorch's
transfer-learning tutorial); ``cpu`` a stated reduction; ``smoke`` what still runs."""

CODE = (
    __name__,
    "helpers.train",
    "helpers.profile",
    "helpers.transfer_torch",
    "helpers.pretrained",
    "helpers.keras_ports",
    "helpers.data",
)
"""The modules (or packages) whose source decides the result: the cache key hashes
them."""


@dataclass
class Representation:
    """One method's features of the train and val images (what its final linear
    classifier sees), and that classifier's accuracy on val."""

    train_features: np.ndarray
    train_labels: np.ndarray
    val_features: np.ndarray
    val_labels: np.ndarray
    val_accuracy: float
    description: str
    history: dict[str, list[float]] = field(default_factory=dict)  # trained nets'


@dataclass(frozen=True)
class TwoClassSettings:
    """How :func:`two_class_representations` trains; the sizes (the first four) per
    profile in :data:`SIZES`, see :func:`two_class_settings`."""

    size: int  # image side (short side resized, centre crop)
    scratch_epochs: int  # the small CNN, from scratch
    head_epochs: int  # fine-tuning, step 1: a linear head on the frozen features
    finetune_epochs: int  # step 2: the whole net, starting from that head
    scratch_lr: float = 1e-3  # Adam, for the small CNN
    head_lr: float = 1e-3  # Adam
    finetune_lr: float = 1e-4  # Adam
    batch_size: int = 32
    svm_c: float = 1.0
    crop_scale: tuple[float, float] = (0.6, 1.0)
    backbone: str = "efficientnet-lite0"


TWO_CLASS_PRACTICAL = TwoClassSettings(**SIZES["full"])
"""The practical's settings (the ``full`` profile's)."""


def two_class_settings(profile: str | None = None, **changes) -> TwoClassSettings:
    """The settings for ``profile`` (default: the active one): its :data:`SIZES`, the
    rest as :class:`TwoClassSettings` has them. ``changes`` override fields, e.g.
    ``backbone="mobilenet"``."""
    chosen = vars(_profile.choose(profile=profile, **SIZES))
    sizes = {k: chosen[k] for k in SIZES["full"]}
    return TwoClassSettings(**{**sizes, **changes})


def two_class_representations(
    seed: int = 0,
    *,
    profile: str | None = None,
    settings: TwoClassSettings | dict | None = None,
    refresh: bool = False,
) -> dict[str, Representation]:
    """R2's four methods on ants vs bees (trained on the train split, evaluated on val).

    Keys: ``"scratch"`` (``transfer_torch.SmallCNN``'s 128 pooled features),
    ``"pretrained + SVM"`` (the frozen backbone's pooled features, a linear SVM on
    them), ``"fine-tuning"`` and ``"fine-tuning + augmentation"`` (the whole backbone +
    a linear head, trained together; features = the fine-tuned backbone's pooled ones;
    the second with ``transfer_torch.random_crop_flip``).

    ``settings``: a :class:`TwoClassSettings`, a dict overriding the profile's, or
    None. The result is cached as an .npz under ``cache_dir() / "representations"``,
    keyed by seed, profile, settings and the source of :data:`CODE`, so calling again
    is cheap. A cache file that cannot be read is computed again and replaced
    (atomically); a cache that cannot be written costs a warning, not the result.
    ``refresh=True`` computes anew whatever the cache holds (and replaces it): features
    extracted in this very run.
    """
    name, s = _resolved(profile, settings)
    path = _cache_path(seed, name, s)
    if not refresh and (cached := _load(path)) is not None:
        return cached
    result = _compute(seed, name, s)
    _save(path, result)
    return result


def two_class_cached(
    seed: int = 0,
    *,
    profile: str | None = None,
    settings: TwoClassSettings | dict | None = None,
) -> bool:
    """True when :func:`two_class_representations` with these arguments would read its
    result from the disk cache instead of training (so a page can say which it did)."""
    name, s = _resolved(profile, settings)
    return _cache_path(seed, name, s).is_file()


def _resolved(profile, settings) -> tuple[str, TwoClassSettings]:
    """The profile's name and the settings that apply (see
    :func:`two_class_representations`)."""
    name = _profile.current() if profile is None else _profile.validate(profile)
    if isinstance(settings, TwoClassSettings):
        return name, settings
    return name, two_class_settings(name, **(settings or {}))


def _cache_path(seed: int, profile: str, s: TwoClassSettings) -> Path:
    key = json.dumps(
        {
            "seed": seed,
            "profile": profile,
            "settings": dataclasses.asdict(s),
            "code": code_hash(),
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return (
        cache_dir() / "representations" / f"ants_bees_seed{seed}_{profile}_{digest}.npz"
    )


def code_hash() -> str:
    """SHA-256 over the source of :data:`CODE` (every ``.py`` file of a package)."""
    digest = hashlib.sha256()
    for name in CODE:
        path = Path(importlib.import_module(name).__file__)
        files = sorted(path.parent.rglob("*.py")) if path.stem == "__init__" else [path]
        for file in files:
            digest.update(f"{name}/{file.name}".encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


# --- The four methods -----------------------------------------------------------------
def _compute(seed: int, profile: str, s: TwoClassSettings) -> dict[str, Representation]:
    (x_train, y_train), (x_val, y_val), _ = data.load_image_folder(
        "hymenoptera", s.size, profile=profile
    )
    backbone = pretrained.load(s.backbone, framework="torch")
    x_train = backbone.preprocess(x_train, s.size)
    x_val = backbone.preprocess(x_val, s.size)
    split = (x_train, y_train, x_val, y_val)
    fit = dict(seed=seed, batch_size=s.batch_size, validation=(x_val, y_val))
    epochs = s.scratch_epochs + s.head_epochs + 2 * s.finetune_epochs
    with train.progress(epochs, desc=f"ants vs bees, seed {seed}"):
        scratch = _trained(
            SmallCNN, (x_train, y_train), s.scratch_epochs, s.scratch_lr, fit
        )
        result = {
            "scratch": _representation(
                scratch,
                split,
                "a small CNN trained from scratch: its 128 pooled features",
            )
        }
        f_train, f_val = (extract_features(backbone, x) for x in (x_train, x_val))
        result["pretrained + SVM"] = _svm(f_train, y_train, f_val, y_val, s, seed)
        head = _trained(
            lambda: nn.Linear(f_train.shape[1], 2),
            (f_train, y_train),
            s.head_epochs,
            s.head_lr,
            {**fit, "validation": (f_val, y_val)},
        ).model
        for key, augment in (
            ("fine-tuning", False),
            ("fine-tuning + augmentation", True),
        ):
            result[key] = _fine_tuned(split, s, head, augment, fit)
    return result


def _trained(build, data, epochs: int, lr: float, fit: dict) -> train.Run:
    """``build()``'s net trained on ``data`` (``(x, y)``) with Adam at ``lr``, kept."""
    return train.fit_torch(
        build, (data, None), epochs=epochs, lr=lr, keep_model=True, **fit
    )


def _svm(f_train, y_train, f_val, y_val, s: TwoClassSettings, seed: int):
    """A linear SVM on the frozen backbone's pooled features."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    svm = make_pipeline(StandardScaler(), LinearSVC(C=s.svm_c, random_state=seed))
    svm.fit(f_train, y_train)
    return Representation(
        f_train,
        y_train,
        f_val,
        y_val,
        float(svm.score(f_val, y_val)),
        f"frozen ImageNet {s.backbone}: its {f_train.shape[1]} pooled features, a "
        "linear SVM on them",
    )


def _fine_tuned(split, s: TwoClassSettings, head, augment: bool, fit: dict):
    """The whole backbone fine-tuned from ``head`` (fresh pretrained weights), with
    random crops and flips if ``augment``."""
    x_train, y_train, x_val, y_val = split
    crop = (lambda x: random_crop_flip(x, s.crop_scale)) if augment else None

    def build():
        backbone = pretrained.load(s.backbone, framework="torch")
        return BackboneClassifier(backbone, 2, head=head, augment=crop)

    run = _trained(build, (x_train, y_train), s.finetune_epochs, s.finetune_lr, fit)
    what = "with random crops and flips" if augment else "without augmentation"
    return _representation(
        run,
        split,
        f"{s.backbone} fine-tuned whole {what}, after a linear head on its "
        "frozen features: its pooled features",
    )


def _representation(run, split, description: str) -> Representation:
    """A trained net's features of the train and val images (its ``embedding``)."""
    x_train, y_train, x_val, y_val = split
    _, f_train = train.predict_torch(run.model, x_train, features=True, batch_size=64)
    logits, f_val = train.predict_torch(run.model, x_val, features=True, batch_size=64)
    accuracy = float(np.mean(logits.argmax(1) == y_val))
    return Representation(
        f_train,
        np.asarray(y_train),
        f_val,
        np.asarray(y_val),
        accuracy,
        description,
        {k: list(v) for k, v in run.history.items()},
    )


# --- The cache on disk ----------------------------------------------------------------
_ARRAYS = ("train_features", "train_labels", "val_features", "val_labels")
# What a damaged .npz raises (empty, truncated, a missing entry, a bad
# compressed stream...)
_UNREADABLE = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error)


def _save(path: Path, result: dict[str, Representation]) -> None:
    """Cache ``result`` at ``path`` (all or nothing); a cache that cannot be written is
    a warning."""
    arrays = {}
    for i, (key, r) in enumerate(result.items()):
        arrays[f"{i}/method"] = np.array(key)
        arrays.update({f"{i}/{a}": getattr(r, a) for a in _ARRAYS})
        arrays[f"{i}/val_accuracy"] = np.array(r.val_accuracy)
        arrays[f"{i}/description"] = np.array(r.description)
        arrays.update({f"{i}/history/{k}": np.array(v) for k, v in r.history.items()})
    try:  # a reader sees the old file or the whole new one
        with atomic_write(path, suffix=".tmp") as f:
            np.savez(f, **arrays)
    except OSError as e:
        warnings.warn(
            f"The representations could not be cached at {path} ({type(e).__name__}: "
            f"{e}); they will be computed again next time. Check that path, or point "
            f"{CACHE_DIR_VAR} at a folder you can write to.",
            stacklevel=3,
        )


def _load(path: Path) -> dict[str, Representation] | None:
    """The result cached at ``path``; None when there is none, or it cannot be read
    (with a warning: it is then computed again, and replaced)."""
    try:
        return _read(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except _UNREADABLE as e:
        warnings.warn(
            f"The cached representations {path} cannot be read ({type(e).__name__}: "
            f"{e}); computing them again to replace it.",
            stacklevel=3,
        )
        return None


def _read(path: Path) -> dict[str, Representation]:
    with np.load(path, allow_pickle=False) as z:
        n = len({k.split("/")[0] for k in z.files})
        result = {}
        for i in range(n):
            history = {
                k.split("/")[-1]: z[k].tolist()
                for k in z.files
                if k.startswith(f"{i}/history/")
            }
            result[str(z[f"{i}/method"])] = Representation(
                *(z[f"{i}/{a}"] for a in _ARRAYS),
                float(z[f"{i}/val_accuracy"]),
                str(z[f"{i}/description"]),
                history,
            )
    if list(result) != list(TWO_CLASS_METHODS):
        raise ValueError(f"it holds {list(result)}, not {list(TWO_CLASS_METHODS)}")
    return result
