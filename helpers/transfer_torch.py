"""Transfer learning with an ImageNet backbone in PyTorch (reports R1, R2, R4).

The backbone is :func:`helpers.pretrained.load`'s, in PyTorch: EfficientNet-Lite0
offline (verified weights, ``torch.load(weights_only=True)``); with internet, Keras'
MobileNet or ResNet50 as their PyTorch ports (``framework="torch"``). This module adds
what transfer learning needs on top of it:

* :func:`extract_features`: a frozen backbone's features, pooled (N, C) or un-pooled (N,
  C, h, w) (C = :func:`n_features`: 1280 for EfficientNet-Lite0, 1024 for MobileNet,
  2048 for ResNet50);
* :class:`BackboneClassifier`: backbone + new head, a trainable module for
  ``train.fit_torch`` (``freeze_backbone`` switches between training the head only and
  fine-tuning the whole net);
* :func:`dense_head`, :class:`ConvHead`: heads for pooled features and for un-pooled
  feature maps;
* :class:`SmallCNN`: a net trained from scratch, for comparison;
* :func:`random_crop_flip`: per-image random crops and flips on the
  device (``fit_torch(augment=...)``);
* :func:`two_class_representations`: R2's four methods on ants vs bees, with the
  features each method's final linear classifier sees, cached on disk (the t-SNE lab
  reuses them).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import data, pretrained, train
from . import profile as _profile
from .data.sources import CACHE_DIR_VAR, atomic_write, cache_dir

TWO_CLASS_METHODS = (
    "scratch",
    "pretrained + SVM",
    "fine-tuning",
    "fine-tuning + augmentation",
)


# --- Backbone pieces ------------------------------------------------------------------
def backbone_trunk(backbone) -> nn.Module:
    """The backbone's convolutional trunk: images → un-pooled features (N, C, h, w).

    The model's ``extract_features``: EfficientNet-Lite's (stem, blocks, 1x1 head
    convolution, BatchNorm, ReLU6), or that of a Keras net's port (everything before the
    global pooling).
    """
    model = backbone.model if isinstance(backbone, pretrained.Backbone) else backbone
    if not hasattr(model, "extract_features"):
        raise TypeError(
            f"{type(model).__name__} has no extract_features(); a torch backbone is "
            "needed (pretrained.load(name, framework='torch'))."
        )
    return _Trunk(model)


def n_features(backbone) -> int:
    """How many channels the backbone's last feature maps have (the length of its
    pooled features)."""
    model = backbone.model if isinstance(backbone, pretrained.Backbone) else backbone
    return (
        model.num_features
        if hasattr(model, "num_features")
        else model._bn1.num_features
    )  # EfficientNet


class _Trunk(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.extract_features(x)


def extract_features(
    backbone, x, *, pooled: bool = True, batch_size: int = 64, bar=None
) -> np.ndarray:
    """A frozen backbone's features of the preprocessed batch ``x`` (N, 3, H, W), in
    inference mode.

    ``pooled``: the global average of the last feature maps, (N, C), what a linear head
    sees; else the maps themselves, (N, C, H/32, W/32), for a convolutional head.
    ``bar``: a tqdm bar advanced by the number of images.
    """
    trunk = backbone_trunk(backbone).eval()
    device = next(trunk.parameters()).device
    out = []
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            f = trunk(
                torch.as_tensor(
                    np.asarray(x[start : start + batch_size], np.float32), device=device
                )
            )
            out.append((f.mean((2, 3)) if pooled else f).cpu().numpy())
            if bar is not None:
                bar.update(len(f))
    return np.concatenate(out)


class BackboneClassifier(nn.Module):
    """An ImageNet backbone with a new linear head: ``forward`` returns
    ``(logits, pooled features)``.

    ``freeze_backbone=True`` trains the head only (the backbone's weights stay fixed and
    its BatchNorms keep their ImageNet statistics, as a frozen Keras base does);
    ``unfreeze()`` then fine-tunes the whole net. ``head``: start from a copy of a
    head already trained on the frozen backbone's pooled features
    (:func:`extract_features`), so fine-tuning starts from a working classifier: a
    linear layer, or any module mapping the pooled features to class scores (such as
    :func:`dense_head`'s MLP). Without it the head is a new linear layer. ``dropout``
    is applied to the features before the head.

    BatchNorm: ``frozen_batchnorm=True`` keeps the trunk's BatchNorms in inference mode
    while the rest trains (they normalise with their ImageNet statistics, and only their
    scale and shift learn), as Keras fine-tuning does with ``base(x, training=False)``;
    otherwise they normalise each batch with its own statistics and update their running
    averages. ``batchnorm_momentum`` sets how fast those averages move (PyTorch's
    default 0.1; the port's 0.01 is TensorFlow's 0.99).
    """

    def __init__(
        self,
        backbone,
        n_classes: int,
        *,
        dropout: float = 0.0,
        freeze_backbone: bool = False,
        head: nn.Module | None = None,
        frozen_batchnorm: bool = False,
        batchnorm_momentum: float | None = None,
    ):
        super().__init__()
        self.trunk = backbone_trunk(backbone)
        self.dropout = nn.Dropout(dropout)
        # a copy of a head already trained on this backbone's frozen pooled features
        self.head = (
            nn.Linear(n_features(backbone), n_classes)
            if head is None
            else copy.deepcopy(head)
        )
        self.frozen, self.frozen_batchnorm = False, frozen_batchnorm
        if batchnorm_momentum is not None:
            for m in self._batchnorms():
                m.momentum = batchnorm_momentum
        if freeze_backbone:
            self.freeze()

    def freeze(self) -> BackboneClassifier:
        self.frozen = True
        for p in self.trunk.parameters():
            p.requires_grad_(False)
        return self.train(self.training)

    def unfreeze(self) -> BackboneClassifier:
        self.frozen = False
        for p in self.trunk.parameters():
            p.requires_grad_(True)
        return self.train(self.training)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:
            self.trunk.eval()
        elif self.frozen_batchnorm:
            for m in self._batchnorms():
                m.eval()
        return self

    def _batchnorms(self):
        return (
            m
            for m in self.trunk.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm)
        )

    def forward(self, x):
        features = self.trunk(x).mean((2, 3))
        return self.head(self.dropout(features)), features


class SmallCNN(nn.Module):
    """A small CNN trained from scratch: four Conv 3x3 → BatchNorm → ReLU → MaxPool 2
    blocks (16, 32, 64, 128 filters), global average pooling to 128 features, Dropout,
    Linear. ``forward`` returns ``(logits, features)``."""

    def __init__(
        self,
        n_classes: int = 2,
        widths: tuple[int, ...] = (16, 32, 64, 128),
        dropout: float = 0.3,
    ):
        super().__init__()
        layers, channels = [], 3
        for width in widths:
            layers += [
                nn.Conv2d(channels, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            channels = width
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(channels, n_classes)
        )

    def forward(self, x):
        features = self.features(x)
        return self.classifier(features), features


def dense_head(
    n_features: int, n_classes: int, hidden: int | None = None, dropout: float = 0.4
) -> nn.Module:
    """A head for pooled features: Linear (``hidden=None``; R4's Cuadro 4), or Linear
    ``hidden`` → ReLU → Dropout → Linear (R4's Cuadros 5 and 7: 1024, Dropout 0.4)."""
    if hidden is None:
        return nn.Linear(n_features, n_classes)
    return nn.Sequential(
        nn.Linear(n_features, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, n_classes),
    )


class ConvHead(nn.Module):
    """R4's head for un-pooled feature maps (N, C, h, w) (its Cuadro 6): Conv
    ``filters`` (``kernel_size``, valid padding) → ReLU → BatchNorm → Dropout →
    flatten, keeping where on the map each feature was → Linear ``hidden`` → ReLU →
    BatchNorm → Dropout → Linear.

    On ResNet50's 7x7 maps at 224 px a 3x3 valid convolution leaves 5x5, and the first
    Linear reads 5·5·512 = 12,800 values, R4's sizes. (Cuadro 6 also lists an average
    pooling whose output keeps the 5x5 size, so it pools nothing; it is left out.)
    R4 gives no Dropout rate for this head: ``dropout`` is that of its dense head, 0.4.
    """

    def __init__(
        self,
        channels: int,
        n_classes: int,
        map_size: tuple[int, int],
        filters: int = 512,
        kernel_size: int = 3,
        hidden: int = 1024,
        dropout: float = 0.4,
    ):
        super().__init__()
        h, w = (side - kernel_size + 1 for side in map_size)
        if min(h, w) < 1:
            raise ValueError(
                f"a {kernel_size}x{kernel_size} valid convolution does not fit feature "
                f"maps of {map_size[0]}x{map_size[1]}; use larger images or a smaller "
                "kernel_size."
            )
        self.conv = nn.Sequential(
            nn.Conv2d(channels, filters, kernel_size),  # valid padding
            nn.ReLU(),
            nn.BatchNorm2d(filters),
            nn.Dropout(dropout),
            nn.Flatten(),
        )
        self.dense = nn.Sequential(
            nn.Linear(filters * h * w, hidden),
            nn.ReLU(),
            nn.BatchNorm1d(hidden),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, maps):
        return self.dense(self.conv(maps))


def random_crop_flip(
    x: torch.Tensor, scale: tuple[float, float] = (0.6, 1.0), flip: bool = True
) -> torch.Tensor:
    """Per-image random crops (a square covering ``scale`` of each side, anywhere in the
    image), resized back to the input size, and random horizontal flips; on ``x``'s
    device, drawn from torch's seeded generator. ``x``: (N, C, H, W)."""
    n = len(x)
    s = torch.empty(n, device=x.device).uniform_(*scale)
    shift = (torch.rand(n, 2, device=x.device) * 2 - 1) * (1 - s)[
        :, None
    ]  # keeps the crop inside
    sign = (
        torch.where(torch.rand(n, device=x.device) < 0.5, -1.0, 1.0)
        if flip
        else torch.ones(n, device=x.device)
    )
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0], theta[:, 1, 1] = s * sign, s
    theta[:, :, 2] = shift
    grid = nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
    return nn.functional.grid_sample(
        x, grid, mode="bilinear", padding_mode="border", align_corners=False
    )


# --- R2: four representations of a two-class set --------------------------------------
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
    history: dict[str, list[float]] = field(
        default_factory=dict
    )  # per-epoch curves of trained nets


@dataclass(frozen=True)
class TwoClassSettings:
    """How :func:`two_class_representations` trains (see :func:`two_class_settings`
    for defaults)."""

    size: int = 224  # image side (short side resized, centre crop)
    scratch_epochs: int = 50
    scratch_lr: float = 1e-3  # Adam, for the small CNN
    head_epochs: int = (
        30  # fine-tuning, step 1: a linear head on the frozen pooled features
    )
    head_lr: float = 1e-3  # Adam
    finetune_epochs: int = 25  # step 2: the whole net, starting from that head
    finetune_lr: float = 1e-4  # Adam
    batch_size: int = 32
    svm_c: float = 1.0
    crop_scale: tuple[float, float] = (0.6, 1.0)
    backbone: str = "efficientnet-lite0"


# The practical's scale (R2 gives its results, not its settings: 224 px, 25 epochs
# of fine-tuning as in PyTorch's transfer-learning tutorial); CPU runs use a
# stated reduction.
TWO_CLASS_PRACTICAL = TwoClassSettings()
TWO_CLASS_CPU = TwoClassSettings(size=128, scratch_epochs=20, finetune_epochs=4)
TWO_CLASS_SMOKE = TwoClassSettings(
    size=64, scratch_epochs=2, head_epochs=2, finetune_epochs=1
)


def two_class_settings(profile: str | None = None, **changes) -> TwoClassSettings:
    """The profile's default settings: the practical's in ``full``, a reduction in
    ``cpu``. ``changes`` override fields, e.g. ``backbone="mobilenet"``."""
    name = _profile.current() if profile is None else _profile.validate(profile)
    defaults = {
        "smoke": TWO_CLASS_SMOKE,
        "cpu": TWO_CLASS_CPU,
        "full": TWO_CLASS_PRACTICAL,
    }[name]
    return dataclasses.replace(defaults, **changes)


def two_class_representations(
    seed: int = 0,
    *,
    profile: str | None = None,
    settings: TwoClassSettings | dict | None = None,
    refresh: bool = False,
) -> dict[str, Representation]:
    """R2's four methods on ants vs bees (trained on the train split, evaluated on val).

    Keys: ``"scratch"`` (:class:`SmallCNN`'s 128 pooled features),
    ``"pretrained + SVM"`` (the frozen backbone's pooled features, a linear SVM on
    them), ``"fine-tuning"`` and ``"fine-tuning + augmentation"`` (the whole backbone +
    a linear head, trained together; features = the fine-tuned backbone's pooled ones;
    the second with :func:`random_crop_flip`).

    ``settings``: a :class:`TwoClassSettings`, a dict overriding the profile's defaults,
    or None. The result is cached as an .npz under ``cache_dir() / "representations"``,
    keyed by seed, profile, settings and the helpers' source
    (:func:`helpers.provenance.helpers_hash`), so calling again is cheap. A cache file
    that cannot be read is computed again and replaced (atomically); a cache that cannot
    be written costs a warning, not the result. ``refresh=True`` computes anew whatever
    the cache holds (and replaces it): features extracted in this very run.
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
    from .provenance import helpers_hash  # lazily: provenance is the notebook runner

    source = helpers_hash()
    key = json.dumps(
        {
            "seed": seed,
            "profile": profile,
            "settings": dataclasses.asdict(s),
            "source": source,
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return (
        cache_dir() / "representations" / f"ants_bees_seed{seed}_{profile}_{digest}.npz"
    )


def _compute(seed: int, profile: str, s: TwoClassSettings) -> dict[str, Representation]:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    (x_train, y_train), (x_val, y_val), _ = data.load_image_folder(
        "hymenoptera", s.size, profile=profile
    )
    backbone = pretrained.load(s.backbone, framework="torch")
    x_train, x_val = (
        backbone.preprocess(x_train, s.size),
        backbone.preprocess(x_val, s.size),
    )
    result = {}
    with train.progress(
        total=s.scratch_epochs + 2 * s.finetune_epochs,
        desc=f"ants vs bees, seed {seed}",
    ) as bar:
        fit = dict(
            seed=seed,
            batch_size=s.batch_size,
            validation_data=(x_val, y_val),
            bar=bar,
            keep_model=True,
        )
        run = train.fit_torch(
            SmallCNN,
            ((x_train, y_train), None),
            epochs=s.scratch_epochs,
            lr=s.scratch_lr,
            **fit,
        )
        result["scratch"] = _representation(
            run,
            x_train,
            y_train,
            x_val,
            y_val,
            "a small CNN trained from scratch: its 128 pooled features",
        )
        f_train, f_val = (
            extract_features(backbone, x_train),
            extract_features(backbone, x_val),
        )
        svm = make_pipeline(
            StandardScaler(), LinearSVC(C=s.svm_c, random_state=seed)
        ).fit(f_train, y_train)
        result["pretrained + SVM"] = Representation(
            f_train,
            y_train,
            f_val,
            y_val,
            float(svm.score(f_val, y_val)),
            f"frozen ImageNet {s.backbone}: its {f_train.shape[1]} pooled features, a "
            "linear SVM on them",
        )
        head = train.fit_torch(
            lambda: nn.Linear(f_train.shape[1], 2),
            ((f_train, y_train), None),
            epochs=s.head_epochs,
            lr=s.head_lr,
            **{**fit, "bar": None, "validation_data": (f_val, y_val)},
        ).model
        for key, augment in (
            ("fine-tuning", False),
            ("fine-tuning + augmentation", True),
        ):
            crop = (lambda x: random_crop_flip(x, s.crop_scale)) if augment else None
            build = lambda: BackboneClassifier(
                pretrained.load(s.backbone, framework="torch"), 2, head=head
            )  # noqa: E731  (fresh weights)
            run = train.fit_torch(
                build,
                ((x_train, y_train), None),
                epochs=s.finetune_epochs,
                lr=s.finetune_lr,
                augment=crop,
                **fit,
            )
            what = "with random crops and flips" if augment else "without augmentation"
            result[key] = _representation(
                run,
                x_train,
                y_train,
                x_val,
                y_val,
                f"{s.backbone} fine-tuned whole {what}, after a linear head on its "
                "frozen features: its pooled features",
            )
    return result


def _representation(
    run, x_train, y_train, x_val, y_val, description: str
) -> Representation:
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
