"""Inside a net: a named layer's output as a function, and the convolutions of its
feature extractor in the order the forward pass runs them."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


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


def no_grad(fn, x, framework: str, device=None) -> np.ndarray:
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
