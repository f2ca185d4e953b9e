"""A loaded backbone (:class:`Backbone`): its preprocessing, predictions and layer
activations; and the preprocessing itself, for any net."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .layers import layer_function, no_grad
from .registry import IMAGENET_MEAN, IMAGENET_STD, Spec


@dataclass
class Backbone:
    """A loaded backbone: the model, its preprocessing, its predictions and
    layer activations."""

    name: str
    model: object
    spec: Spec
    weights: Path | None
    framework: str  # "torch" or "keras": the model's, not always the spec's
    _layers: dict = field(default_factory=dict, repr=False)

    @property
    def fixed_size(self) -> bool:
        return (
            self.spec.fixed_size and self.framework == "keras"
        )  # the ports pool any size

    @property
    def channels_last(self) -> bool:
        return self.framework == "keras"

    @property
    def late_layers(self) -> tuple[str, str]:
        return self.spec.late_layers

    def describe(self) -> str:
        """One line: the net, its size, its weights and its inputs."""
        if self.framework == "torch":
            n = sum(p.numel() for p in self.model.parameters())
        else:  # without BatchNorm's moving statistics, as PyTorch counts
            n = sum(int(np.prod(w.shape)) for w in self.model.trainable_weights)
        w = self.spec.weights
        checked = (
            "SHA-256 checked"
            if w.sha256
            else "MD5 checked"
            if w.md5
            else "no published checksum"
        )
        weights = (
            f"weights {self.weights.name} ({checked})"
            if self.weights
            else "random weights"
        )
        port = " port of Keras'" if self.framework != self.spec.framework else ""
        low, high = self.valid_range()
        return (
            f"{self.name} ({self.framework}{port}, {n:,} parameters), {weights}; "
            f"inputs {self.spec.size}x{self.spec.size} "
            f"{'BGR' if self.spec.bgr else 'RGB'} scaled to [{low:g}, {high:g}]"
        )

    def preprocess(self, images, size: int | None = None) -> np.ndarray:
        """Photos (uint8, or floats in [0, 1]; one (H, W, 3) or a batch) → the net's
        input batch."""
        if self.fixed_size and size not in (None, self.spec.size):
            raise ValueError(
                f"{self.name} takes {self.spec.size}x{self.spec.size} inputs only, not "
                f"{size}x{size}."
            )
        x = preprocess(
            images,
            size or self.spec.size,
            self.spec.mean,
            self.spec.std,
            self.channels_last,
        )
        return self._flip(x) if self.spec.bgr else x

    def deprocess(self, x) -> np.ndarray:
        """The net's inputs → (N, H, W, 3) images in [0, 1] for display."""
        x = self._flip(np.asarray(x)) if self.spec.bgr else x
        return deprocess(x, self.spec.mean, self.spec.std, self.channels_last)

    def _flip(self, x: np.ndarray) -> np.ndarray:
        """RGB ↔ BGR along the channel axis."""
        return np.ascontiguousarray(
            x[..., ::-1] if self.channels_last else x[..., ::-1, :, :]
        )

    def valid_range(self) -> tuple[float, float]:
        """The range of preprocessed pixels (the widest over the three channels)."""
        low = (0 - np.asarray(self.spec.mean)) / np.asarray(self.spec.std)
        high = (1 - np.asarray(self.spec.mean)) / np.asarray(self.spec.std)
        return float(low.min()), float(high.max())

    def layer_function(self, layer: str) -> Callable:
        """Input batch → the output of ``layer`` (differentiable;
        see :func:`layer_function`)."""
        if layer not in self._layers:
            self._layers[layer] = layer_function(self.model, layer)
        return self._layers[layer]

    def n_channels(self, layer: str) -> int:
        """How many channels (filters) ``layer`` has."""
        size = self.spec.size if self.fixed_size else 64
        x = np.zeros(
            (1, size, size, 3) if self.channels_last else (1, 3, size, size), np.float32
        )
        return self.activations(x, layer).shape[-1 if self.channels_last else 1]

    def activations(self, x, layer: str) -> np.ndarray:
        """The output of ``layer`` for the preprocessed batch ``x``, as NumPy."""
        return no_grad(self.layer_function(layer), x, self.framework, self._device())

    def predict(self, x) -> np.ndarray:
        """Class probabilities (N, 1000) for the preprocessed batch ``x``."""
        out = no_grad(
            lambda t: (
                self.model(t)
                if self.framework == "torch"
                else self.model(t, training=False)
            ),
            x,
            self.framework,
            self._device(),
        )
        if (
            self.framework == "torch"
        ):  # torch nets return logits, Keras' nets probabilities
            out = np.exp(out - out.max(axis=1, keepdims=True))
            out /= out.sum(axis=1, keepdims=True)
        return out

    def top_k(self, probabilities, k: int = 5) -> list[list[tuple[int, str, float]]]:
        """For each row of ``probabilities``: the ``k`` most likely (class index,
        name, probability)."""
        names = imagenet_classes()
        rows = np.atleast_2d(probabilities)
        return [
            [(int(i), names[i], float(p[i])) for i in np.argsort(p)[::-1][:k]]
            for p in rows
        ]

    def _device(self):
        return (
            next(self.model.parameters()).device if self.framework == "torch" else None
        )


# --- Preprocessing --------------------------------------------------------------------
def preprocess(
    images,
    size: int = 224,
    mean=IMAGENET_MEAN,
    std=IMAGENET_STD,
    channels_last: bool = False,
) -> np.ndarray:
    """Photos → a normalised float32 batch: the shorter side resized to ``size``
    (bicubic), the centre ``size`` x ``size`` crop, pixels scaled to [0, 1], then
    ``(x - mean) / std`` per channel.

    ``images``: uint8 (0-255) or floats in [0, 1], one (H, W, 3) image or a
    batch. The result is (N, 3, size, size) for PyTorch, or (N, size, size, 3)
    with ``channels_last``.
    """
    from PIL import Image

    images = np.asarray(images)
    batch = images[None] if images.ndim == 3 else images
    out = []
    for image in batch:
        if image.dtype != np.uint8:
            image = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
        picture = Image.fromarray(image)
        scale = size / min(picture.size)
        w, h = (
            max(size, round(picture.width * scale)),
            max(size, round(picture.height * scale)),
        )
        picture = picture.resize((w, h), Image.BICUBIC)
        left, top = (w - size) // 2, (h - size) // 2
        out.append(
            np.asarray(
                picture.crop((left, top, left + size, top + size)), dtype=np.float32
            )
            / 255
        )
    x = (np.stack(out) - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return (
        x.astype(np.float32)
        if channels_last
        else x.transpose(0, 3, 1, 2).astype(np.float32)
    )


def deprocess(
    x, mean=IMAGENET_MEAN, std=IMAGENET_STD, channels_last: bool = False
) -> np.ndarray:
    """The inverse of :func:`preprocess`'s normalisation: ``x * std + mean``, as (N, H,
    W, 3) images clipped to [0, 1] for display."""
    x = np.asarray(x, dtype=np.float32)
    x = x[None] if x.ndim == 3 else x
    if not channels_last:
        x = x.transpose(0, 2, 3, 1)
    return np.clip(x * np.asarray(std, np.float32) + np.asarray(mean, np.float32), 0, 1)


def imagenet_classes() -> list[str]:
    """The 1,000 ImageNet class names in the usual index order (dogs are 151-268)."""
    from torchvision.models import ResNet50_Weights

    return list(ResNet50_Weights.IMAGENET1K_V1.meta["categories"])
