"""Gradients of a model's output with respect to its *input*, and gradient ascent
on images.

Keras 3 has no backend-neutral reverse-mode gradient, so :func:`value_and_grad`
dispatches on ``keras.backend.backend()``: ``tf.GradientTape`` on TensorFlow, autograd
on torch, ``jax.grad`` on JAX. Plain PyTorch modules (the pretrained backbones of
:mod:`helpers.pretrained`) take the same torch branch. TensorFlow is imported only
inside its branch, so the labs stay backend-neutral.

An *objective* maps a batch of input images (a tensor of the model's framework) to one
number per image; the gradient of their sum gives each image its own gradient (images of
a batch do not interact in inference mode). :func:`gradient_ascent` then moves every
image a fixed distance per step along its own L2-normalised gradient::

    objective = gradients.filter_objective(model, "conv1", filters=range(32))
    result = gradients.gradient_ascent(objective, start, steps=50, step_size=1.0)
    # the images, and each image's objective before every step
    result.images, result.values
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .pretrained import framework_of, layer_function

FRAMEWORKS = (
    "keras",
    "torch",
)  # "keras": a Keras model on its backend; "torch": a plain torch.nn.Module


@dataclass(frozen=True)
class Objective:
    """A function from a batch of inputs to one value per input, and where it runs.

    ``framework`` is ``"keras"`` (any Keras backend) or ``"torch"`` (a plain PyTorch
    model, whose inputs go to ``device``).
    """

    fn: Callable
    framework: str = "keras"
    device: object = None

    def __call__(self, x):
        return self.fn(x)


@dataclass
class Ascent:
    """The result of :func:`gradient_ascent`: the final images and the objective along
    the way."""

    images: np.ndarray  # same shape and layout as the starting images
    values: (
        np.ndarray
    )  # (steps + 1, n_images): each image's objective before every step, and at the end

    @property
    def gain(self) -> np.ndarray:
        """How much each image's objective grew, final minus initial."""
        return self.values[-1] - self.values[0]


def value_and_grad(
    objective, x, *, framework: str | None = None, device=None
) -> tuple[np.ndarray, np.ndarray]:
    """``objective(x)`` (one value per image) and the gradient of its sum with respect
    to ``x``.

    ``x`` is a NumPy batch; both results are NumPy. ``framework`` and ``device`` default
    to the :class:`Objective`'s (a plain function counts as Keras).
    """
    framework = framework or getattr(objective, "framework", "keras")
    device = device if device is not None else getattr(objective, "device", None)
    x = np.asarray(x, dtype="float32")
    if framework == "torch":
        return _torch(objective, x, device)
    if framework != "keras":
        raise ValueError(
            f"framework={framework!r}; use one of {', '.join(FRAMEWORKS)}."
        )
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow(objective, x)
    if backend == "torch":
        return _torch(
            objective, keras.ops.convert_to_tensor(x), None
        )  # on Keras' device
    if backend == "jax":
        return _jax(objective, x)
    raise NotImplementedError(
        f"input gradients on the Keras {backend!r} backend; "
        "use tensorflow, torch or jax."
    )


def _tensorflow(objective, x):
    import tensorflow as tf  # the only place the labs' code reaches TensorFlow directly

    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        values = objective(x)
        total = tf.reduce_sum(values)
    return np.asarray(values), np.asarray(tape.gradient(total, x))


def _torch(objective, x, device):
    import torch

    x = torch.as_tensor(x, device=device).detach().requires_grad_(True)
    values = objective(x)
    (grad,) = torch.autograd.grad(values.sum(), x)
    return values.detach().cpu().numpy(), grad.cpu().numpy()


def _jax(objective, x):
    """``jax.grad`` through the objective. A Keras model called inside it uses
    its current weights as constants; that gives the same gradient as going
    through ``model.stateless_call``."""
    import jax

    def total(x):
        values = objective(x)
        return values.sum(), values

    (_, values), grad = jax.value_and_grad(total, has_aux=True)(jax.numpy.asarray(x))
    return np.asarray(values), np.asarray(grad)


def filter_objective(model, layer: str, filters: Sequence[int]) -> Objective:
    """Image ``i`` of a batch maximises the mean activation of filter ``filters[i]``
    of ``layer``.

    ``model`` is a Keras model (layer name as in ``model.summary()``, called with
    ``training=False``) or a torch module (a name from ``named_modules()``, read with a
    forward hook); see :func:`helpers.pretrained.layer_function`. The mean runs over
    all positions.
    """
    framework = framework_of(model)
    features = layer_function(model, layer)
    filters = np.asarray(list(filters))

    if framework == "keras":
        import keras

        def fn(x):
            out = features(x)  # (N, H, W, C)
            chosen = keras.ops.convert_to_tensor(_one_hot(filters, out.shape, -1))
            return keras.ops.sum(keras.ops.mean(out, axis=(1, 2)) * chosen, axis=1)

        return Objective(fn, "keras")

    import torch

    device = next(model.parameters()).device

    def fn(x):
        out = features(x)  # (N, C, H, W)
        chosen = torch.as_tensor(_one_hot(filters, out.shape, 1), device=out.device)
        return (out.mean(dim=(2, 3)) * chosen).sum(dim=1)

    return Objective(fn, "torch", device)


def _one_hot(filters: np.ndarray, shape, channel_axis: int) -> np.ndarray:
    """(N, C) float32 with a 1 at (i, filters[i]): picks filter ``filters[i]`` for
    image ``i``."""
    if len(filters) != shape[0]:
        raise ValueError(
            f"{len(filters)} filters for a batch of {shape[0]} images; "
            "give one filter per image."
        )
    return np.eye(shape[channel_axis], dtype="float32")[filters]


def gradient_ascent(
    objective,
    images,
    *,
    steps: int,
    step_size: float,
    clip: tuple[float, float] | None = None,
    bar=None,
    desc: str = "gradient ascent",
) -> Ascent:
    """Climb ``objective`` from ``images``: each step moves every image by ``step_size``
    along its own gradient divided by that gradient's L2 norm, so every step has the
    same length.

    ``images`` is a NumPy batch in the model's layout; ``clip=(low, high)`` keeps the
    pixels in that range after every step (the range of valid, preprocessed pixels).
    Progress goes to ``bar`` (one update per step) or, without one, to a bar of its own.
    """
    x = np.array(images, dtype="float32", copy=True)
    own_bar = bar is None
    if own_bar:
        bar = progress(steps, desc)
    values = []
    try:
        for _ in range(steps):
            value, grad = value_and_grad(objective, x)
            norm = np.sqrt(
                (grad.reshape(len(grad), -1).astype("float64") ** 2).sum(axis=1)
            )
            scale = np.divide(
                step_size, norm, out=np.zeros_like(norm), where=norm > 0
            )  # a zero gradient: stay
            x += scale.astype("float32").reshape((-1,) + (1,) * (x.ndim - 1)) * grad
            if clip is not None:
                np.clip(x, *clip, out=x)
            values.append(value)
            bar.update(1)
        values.append(value_and_grad(objective, x)[0])
    finally:
        if own_bar:
            bar.close()
    return Ascent(x, np.asarray(values))


def progress(total: int, desc: str = "gradient ascent"):
    """The labs' one-line progress bar (:func:`helpers.train.progress`),
    counting steps."""
    from . import train

    return train.progress(total, desc, unit="step")


# --- Did the ascent converge? ---------------------------------------------------------
CONVERGED, RISING, NO_RISE = "converged", "still rising", "did not rise"


def convergence(values, *, tail: float = 0.2, settled: float = 0.02) -> np.ndarray:
    """Each image's ascent as ``"converged"``, ``"still rising"`` or ``"did not
    rise"``, from its objective along the way (:attr:`Ascent.values`,
    ``(steps + 1, n_images)``).

    * did not rise: the final objective is not above the start (a filter the start
      leaves silent has a zero gradient, and stays there);
    * still rising: over the last ``tail`` of the steps the objective still climbs by
      more than ``settled`` of its whole rise (the slope of a least-squares line
      through those steps, times their number: steps of a fixed length make the
      objective zigzag, which a line averages out);
    * converged: otherwise, the objective has levelled off.

    The rule and its thresholds are the book's (the reports ask no such question). A
    steady climb brings ``tail`` of its rise in the last ``tail`` of the steps, a
    levelled-off one next to nothing; with the defaults, a converged climb that went on
    at its final rate for as many steps again would add under a tenth to its rise
    (five fifths of at most 2%).
    """
    values = np.asarray(values, dtype="float64")
    if values.ndim != 2 or len(values) < 3:
        raise ValueError(
            f"values of shape {values.shape}: expected (steps + 1, n_images) with "
            "at least two steps"
        )
    last = max(2, round(tail * (len(values) - 1)))
    window = values[-last - 1 :]
    steps = np.arange(len(window)) - last / 2
    slope = steps @ (window - window.mean(axis=0)) / (steps @ steps)
    rise = values[-1] - values[0]
    status = np.where(slope * last > settled * rise, RISING, CONVERGED).astype(object)
    status[rise <= 0] = NO_RISE
    return status
