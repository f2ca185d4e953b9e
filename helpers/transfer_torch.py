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
* :func:`random_crop_flip`: per-image random crops and flips on the device
  (``BackboneClassifier(augment=...)``).

R2's two-class study (ants vs bees) lives in :mod:`helpers.labs.ants_vs_bees`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from . import pretrained


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
    """An ImageNet backbone with a new linear head: ``forward`` returns the logits,
    ``embedding`` the backbone's pooled features the head starts from.

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
    default 0.1; the port's 0.01 is TensorFlow's 0.99). ``augment``: a function
    ``images -> images`` applied in training mode only (e.g. :func:`random_crop_flip`).
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
        augment: Callable | None = None,
    ):
        super().__init__()
        self.augment = augment
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

    def embedding(self, x):
        """The backbone's pooled features (N, C)."""
        return self.trunk(x).mean((2, 3))

    def forward(self, x):
        if self.training and self.augment is not None:
            x = self.augment(x)
        return self.head(self.dropout(self.embedding(x)))


class SmallCNN(nn.Module):
    """A small CNN trained from scratch: four Conv 3x3 → BatchNorm → ReLU → MaxPool 2
    blocks (16, 32, 64, 128 filters), global average pooling to 128 features, Dropout,
    Linear. ``forward`` returns the logits, ``embedding`` the 128 pooled features."""

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

    def embedding(self, x):
        """The 128 pooled features the classifier starts from."""
        return self.features(x)

    def forward(self, x):
        return self.classifier(self.embedding(x))


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
