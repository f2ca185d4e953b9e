"""Keras' ImageNet nets as PyTorch modules: R1's MobileNet and R4's ResNet50, with
Keras' weights.

R1 trained ``keras.applications.MobileNet`` and R4 ``keras.applications.ResNet50``; the
transfer lab's training code is PyTorch. The classes below rebuild the two nets layer
for layer, with each Keras layer's name as the name of its module (``conv_pw_13_bn``,
``conv5_block3_3_bn`` ...), and :func:`copy_weights` copies a Keras model's weights into
them, so that both compute the same function (tests compare them).
``pretrained.load("mobilenet", framework="torch")`` does both.

Like EfficientNet-Lite's port, each module has ``extract_features`` (images → the
last feature maps, (N, C, h, w)), ``num_features`` (C) and ``forward`` (images →
ImageNet logits).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def same_padding(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """TensorFlow's ``padding="same"``: the padding goes after the pixels when it
    is odd."""
    pads = []
    for size in reversed(x.shape[2:]):  # F.pad wants the last dimension first
        total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class MobileNet(nn.Module):
    """``keras.applications.MobileNet`` (width 1.0): 13 depthwise-separable blocks,
    ReLU6, BatchNorm ε 1e-3."""

    BLOCKS = (
        (64, 1),
        (128, 2),
        (128, 1),
        (256, 2),
        (256, 1),
        (512, 2),
        (512, 1),
        (512, 1),
        (512, 1),
        (512, 1),
        (512, 1),
        (1024, 2),
        (1024, 1),
    )  # (filters, stride)
    num_features = 1024

    def __init__(self, classes: int = 1000, dropout: float = 1e-3):
        super().__init__()
        self._add("conv1", 3, 32, 3, stride=2)
        channels = 32
        for i, (filters, stride) in enumerate(self.BLOCKS, 1):
            self._add(
                f"conv_dw_{i}",
                channels,
                channels,
                3,
                stride=stride,
                groups=channels,
                padding=1 if stride == 1 else 0,
            )
            self._add(f"conv_pw_{i}", channels, filters, 1)
            channels = filters
        self.dropout = nn.Dropout(dropout)
        self.conv_preds = nn.Conv2d(channels, classes, 1)

    def _add(self, name, c_in, c_out, kernel, stride=1, groups=1, padding=0):
        self.add_module(
            name,
            nn.Conv2d(c_in, c_out, kernel, stride, padding, groups=groups, bias=False),
        )
        self.add_module(f"{name}_bn", nn.BatchNorm2d(c_out, eps=1e-3))

    def _conv_bn_relu6(self, name, x):
        return F.relu6(self.get_submodule(f"{name}_bn")(self.get_submodule(name)(x)))

    def extract_features(self, x):
        x = self._conv_bn_relu6("conv1", same_padding(x, 3, 2))
        for i, (_, stride) in enumerate(self.BLOCKS, 1):
            if (
                stride == 2
            ):  # Keras pads one row and column after the pixels, then convolves "valid"
                x = F.pad(x, (0, 1, 0, 1))
            x = self._conv_bn_relu6(
                f"conv_pw_{i}", self._conv_bn_relu6(f"conv_dw_{i}", x)
            )
        return x

    def forward(self, x):
        pooled = self.extract_features(x).mean((2, 3), keepdim=True)
        return self.conv_preds(self.dropout(pooled)).flatten(1)


class ResNet50(nn.Module):
    """``keras.applications.ResNet50`` (v1: the stride on a block's first 1x1
    convolution, convolutions with biases, BatchNorm ε 1.001e-5); torchvision's ResNet50
    puts the stride on the 3x3 instead."""

    STAGES = (
        ("conv2", 64, 3, 1),
        ("conv3", 128, 4, 2),
        ("conv4", 256, 6, 2),
        ("conv5", 512, 3, 2),
    )
    num_features = 2048

    def __init__(self, classes: int = 1000):
        super().__init__()
        self._add("conv1", 3, 64, 7, stride=2, padding=3)
        self.blocks, channels = [], 64
        for stage, filters, n_blocks, stride in self.STAGES:
            for b in range(1, n_blocks + 1):
                name, s = f"{stage}_block{b}", stride if b == 1 else 1
                if b == 1:  # a projection shortcut where the shape changes
                    self._add(f"{name}_0", channels, 4 * filters, 1, stride=s)
                self._add(f"{name}_1", channels, filters, 1, stride=s)
                self._add(f"{name}_2", filters, filters, 3, padding=1)
                self._add(f"{name}_3", filters, 4 * filters, 1)
                self.blocks.append(name)
                channels = 4 * filters
        self.predictions = nn.Linear(channels, classes)

    def _add(self, name, c_in, c_out, kernel, stride=1, padding=0):
        self.add_module(f"{name}_conv", nn.Conv2d(c_in, c_out, kernel, stride, padding))
        self.add_module(f"{name}_bn", nn.BatchNorm2d(c_out, eps=1.001e-5))

    def _conv_bn(self, name, x):
        return self.get_submodule(f"{name}_bn")(self.get_submodule(f"{name}_conv")(x))

    def extract_features(self, x):
        x = F.max_pool2d(
            F.relu(self._conv_bn("conv1", x)), 3, 2, padding=1
        )  # inputs >= 0: same as zeros
        for name in self.blocks:
            shortcut = (
                self._conv_bn(f"{name}_0", x) if hasattr(self, f"{name}_0_conv") else x
            )
            y = F.relu(self._conv_bn(f"{name}_1", x))
            y = F.relu(self._conv_bn(f"{name}_2", y))
            x = F.relu(shortcut + self._conv_bn(f"{name}_3", y))
        return x

    def forward(self, x):
        return self.predictions(self.extract_features(x).mean((2, 3)))


PORTS = {"mobilenet": MobileNet, "resnet50": ResNet50}


def copy_weights(keras_model, module: nn.Module) -> nn.Module:
    """Copy every weight of ``keras_model`` into the module of the same name; returns
    ``module`` in inference mode. Raises if a layer has no module, or a module with
    weights was not filled."""
    modules, filled = dict(module.named_modules()), set()
    for layer in keras_model.layers:
        weights = [np.asarray(w) for w in layer.get_weights()]
        if not weights:
            continue
        if layer.name not in modules:
            raise ValueError(
                f"{type(module).__name__} has no module for Keras layer {layer.name!r}."
            )
        _copy(weights, modules[layer.name], layer.name)
        filled.add(layer.name)
    missing = [
        n
        for n, m in modules.items()
        if n and not list(m.children()) and list(m.parameters()) and n not in filled
    ]
    if missing:
        raise ValueError(
            f"Keras model {keras_model.name!r} has no weights for: "
            f"{', '.join(missing)}."
        )
    return module.eval()


def _copy(weights: list[np.ndarray], m: nn.Module, name: str) -> None:
    def put(tensor, value):
        if tuple(tensor.shape) != value.shape:
            raise ValueError(
                f"{name}: Keras gives shape {value.shape}, "
                f"the module wants {tuple(tensor.shape)}."
            )
        with torch.no_grad():
            tensor.copy_(
                torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
            )

    if isinstance(m, nn.BatchNorm2d):  # gamma, beta, moving mean, moving variance
        for tensor, value in zip(
            (m.weight, m.bias, m.running_mean, m.running_var), weights
        ):
            put(tensor, value)
    elif isinstance(
        m, nn.Conv2d
    ):  # Keras: (kh, kw, in, out); depthwise (kh, kw, channels, 1)
        kernel = (
            weights[0].transpose(2, 3, 0, 1)
            if m.groups > 1
            else weights[0].transpose(3, 2, 0, 1)
        )
        put(m.weight, kernel)
        if m.bias is not None:
            put(m.bias, weights[1])
    elif isinstance(m, nn.Linear):  # Keras: (in, out)
        put(m.weight, weights[0].T)
        put(m.bias, weights[1])
    else:
        raise TypeError(
            f"{name}: no rule to copy Keras weights into {type(m).__name__}."
        )
