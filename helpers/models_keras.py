"""Keras 3 architectures of the practicals (backend-neutral: no TensorFlow calls).

Parameter counts are facts from the reports and are checked by ``tests/test_models.py``.
"""

from __future__ import annotations

import keras
from keras import layers


def dense_mnist_net(num_classes: int = 10, input_shape=(28, 28, 1)) -> keras.Model:
    """R3's "EJ8_Dense": Flatten → Dense 20 → BN → Dense 10 → BN → Dense k (16,140 params, k=10)."""
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Flatten(),
            layers.Dense(20, activation="relu"),
            layers.BatchNormalization(),
            layers.Dense(10, activation="relu"),
            layers.BatchNormalization(),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name="dense_mnist_net",
    )


def tominet(num_classes: int = 10, input_shape=(28, 28, 1)) -> keras.Model:
    """TomiNet (R0, R3's "EJ8_Conv"): two 3x3 conv blocks, then one Dense layer.

    Conv 32 → MaxPool 2 → BN → Conv 16 → MaxPool 2 → BN → Flatten (7·7·16 = 784) → Dense k.
    12,986 params for k=10 (96 of them the BatchNorm moving statistics), 12,201 for k=9.
    """
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, 3, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(2),
            layers.BatchNormalization(),
            layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2"),
            layers.MaxPooling2D(2),
            layers.BatchNormalization(),
            layers.Flatten(),
            layers.Dense(num_classes, activation="softmax", name="head"),
        ],
        name="tominet",
    )


# --- Keras basics (R3) ---------------------------------------------------------------------------
def _l2(factor: float | None):
    """An L2 weight penalty ``factor · Σw²`` (``None`` or 0: no penalty)."""
    return keras.regularizers.L2(factor) if factor else None


def linear_regression(n_features: int, l2: float = 1e-4) -> keras.Model:
    """Linear regression as a one-unit Dense layer with an L2 penalty (n_features + 1 params)."""
    return keras.Sequential(
        [
            keras.Input(shape=(n_features,)),
            layers.Dense(1, kernel_regularizer=_l2(l2), name="linear"),
        ],
        name="linear_regression",
    )


def xor_net(
    hidden: int = 2, concat: bool = False, activation: str = "tanh"
) -> keras.Model:
    """A two-input, one-output net for XOR, built with the functional API.

    Input (2) → Dense ``hidden`` → Dense 1 (sigmoid). With ``concat=True`` the output layer also
    sees the inputs: Concatenate([input, hidden]) → Dense 1. Parameters: 3·hidden + hidden + 1
    without, 3·hidden + hidden + 3 with the concatenation (1 hidden unit: 5 vs 7).
    """
    inputs = keras.Input(shape=(2,), name="x")
    hidden_out = layers.Dense(hidden, activation=activation, name="hidden")(inputs)
    features = (
        layers.Concatenate(name="input_and_hidden")([inputs, hidden_out])
        if concat
        else hidden_out
    )
    outputs = layers.Dense(1, activation="sigmoid", name="output")(features)
    return keras.Model(
        inputs, outputs, name=f"xor_{hidden}_hidden{'_concat' if concat else ''}"
    )


def two_layer_classifier(
    n_inputs: int = 784, hidden: int = 32, num_classes: int = 10
) -> keras.Model:
    """A small two-layer classifier (Sequential API): Dense ``hidden`` ReLU → Dense k softmax.

    784 inputs, 32 hidden, 10 classes: 25,450 params.
    """
    return keras.Sequential(
        [
            keras.Input(shape=(n_inputs,)),
            layers.Dense(hidden, activation="relu", name="hidden"),
            layers.Dense(num_classes, activation="softmax", name="output"),
        ],
        name="two_layer_classifier",
    )


def imdb_bow_net(
    regularisation: str = "l2",
    num_words: int = 10_000,
    l2: float = 1e-4,
    dropout: float = 0.5,
) -> keras.Model:
    """R3's IMDB bag-of-words net: Dense 100 ReLU → Dense 10 ReLU → concat(input, hidden) → Dense 1.

    ``regularisation`` is ``"l2"`` (an L2 penalty on every Dense kernel), ``"dropout+l2"`` (also
    Dropout after each hidden layer) or ``"batchnorm+l2"`` (also BatchNormalization after each
    hidden layer). 10,000 words: 1,011,121 params (``"batchnorm+l2"``: 1,011,561, 220 of them
    non-trainable statistics).
    """
    if regularisation not in ("l2", "dropout+l2", "batchnorm+l2"):
        raise ValueError(
            f"regularisation={regularisation!r}; use 'l2', 'dropout+l2' or 'batchnorm+l2'."
        )

    def after_hidden(x, name):
        if regularisation == "dropout+l2":
            return layers.Dropout(dropout, name=f"{name}_dropout")(x)
        if regularisation == "batchnorm+l2":
            return layers.BatchNormalization(name=f"{name}_bn")(x)
        return x

    words = keras.Input(shape=(num_words,), name="word_counts")
    x = after_hidden(
        layers.Dense(
            100, activation="relu", kernel_regularizer=_l2(l2), name="dense_100"
        )(words),
        "dense_100",
    )
    x = after_hidden(
        layers.Dense(
            10, activation="relu", kernel_regularizer=_l2(l2), name="dense_10"
        )(x),
        "dense_10",
    )
    x = layers.Concatenate(name="input_and_hidden")([words, x])
    outputs = layers.Dense(
        1, activation="sigmoid", kernel_regularizer=_l2(l2), name="output"
    )(x)
    return keras.Model(
        words, outputs, name=f"imdb_bow_{regularisation.replace('+', '_')}"
    )


def imdb_embedding_mlp(
    num_words: int = 10_000,
    length: int = 500,
    dim: int = 32,
    l2: float = 1e-4,
    dropout: float = 0.5,
) -> keras.Model:
    """R3's IMDB embedding MLP (1,937,121 params for 10,000 words, length 500, dim 32).

    Embedding → Flatten (500·32 = 16,000) → Dense 100 ReLU → Dropout → Dense 10 ReLU → Dropout,
    then Concatenate(flattened embedding, Dense 10) → Dense 1 sigmoid; L2 on the Dense kernels.
    """
    ids = keras.Input(shape=(length,), dtype="int32", name="word_ids")
    flat = layers.Flatten(name="flatten")(
        layers.Embedding(num_words, dim, name="embedding")(ids)
    )
    x = layers.Dense(
        100, activation="relu", kernel_regularizer=_l2(l2), name="dense_100"
    )(flat)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(
        10, activation="relu", kernel_regularizer=_l2(l2), name="dense_10"
    )(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Concatenate(name="input_and_hidden")([flat, x])
    outputs = layers.Dense(
        1, activation="sigmoid", kernel_regularizer=_l2(l2), name="output"
    )(x)
    return keras.Model(ids, outputs, name="imdb_embedding_mlp")


def imdb_conv_net(
    num_words: int = 10_000,
    length: int = 500,
    dim: int = 16,
    dropout: float = 0.5,
    bn_momentum: float = 0.9,
) -> keras.Model:
    """R3's IMDB 1-D convolutional net (172,305 params for 10,000 words, length 500, dim 16).

    Embedding 16 → BN → Conv1D 16 (kernel 3, same) → MaxPool 2 → BN → Conv1D 64 (kernel 3, same)
    → MaxPool 2 → BN → Flatten (125·64 = 8,000) → Dropout → Dense 1 sigmoid.

    ``bn_momentum`` 0.9 rather than Keras' 0.99: the embeddings start with a variance near 5e-4,
    while BatchNormalization's running variance starts at 1; with 0.99 it takes several hundred
    steps to get there, and until then predictions in inference mode are useless.
    """
    return keras.Sequential(
        [
            keras.Input(shape=(length,), dtype="int32", name="word_ids"),
            layers.Embedding(num_words, dim, name="embedding"),
            layers.BatchNormalization(momentum=bn_momentum),
            layers.Conv1D(16, 3, padding="same", activation="relu", name="conv_16"),
            layers.MaxPooling1D(2),
            layers.BatchNormalization(momentum=bn_momentum),
            layers.Conv1D(64, 3, padding="same", activation="relu", name="conv_64"),
            layers.MaxPooling1D(2),
            layers.BatchNormalization(momentum=bn_momentum),
            layers.Flatten(),
            layers.Dropout(dropout),
            layers.Dense(1, activation="sigmoid", name="output"),
        ],
        name="imdb_conv_net",
    )


def logistic_map_net(hidden: int = 16) -> keras.Model:
    """A small regression net for a 1-D map x(t-1) → x(t): Dense h tanh → Dense h tanh → Dense 1.

    16 hidden units: 321 params.
    """
    return keras.Sequential(
        [
            keras.Input(shape=(1,)),
            layers.Dense(hidden, activation="tanh"),
            layers.Dense(hidden, activation="tanh"),
            layers.Dense(1, name="next_x"),
        ],
        name="logistic_map_net",
    )


def pima_net(n_features: int = 8) -> keras.Model:
    """R3's Pima diabetes net: Dense 24 ReLU → BN → Dense 12 ReLU → BN → Dense 1 sigmoid (673 params)."""
    return keras.Sequential(
        [
            keras.Input(shape=(n_features,)),
            layers.Dense(24, activation="relu"),
            layers.BatchNormalization(),
            layers.Dense(12, activation="relu"),
            layers.BatchNormalization(),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="pima_net",
    )


def denoising_autoencoder(input_shape=(28, 28, 1)) -> keras.Model:
    """A convolutional denoising autoencoder for MNIST (12,537 params), all kernels 3x3, same padding.

    Encoder: Conv 8 → MaxPool 2 → Conv 8 → MaxPool 2 (a 7x7x8 code: 392 numbers for 784 pixels).
    Decoder: Conv 32 → UpSample 2 → Conv 32 → UpSample 2 → Conv 1 sigmoid (pixels in [0, 1]).
    """
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(8, 3, padding="same", activation="relu", name="encode_1"),
            layers.MaxPooling2D(2),
            layers.Conv2D(8, 3, padding="same", activation="relu", name="encode_2"),
            layers.MaxPooling2D(2, name="code"),
            layers.Conv2D(32, 3, padding="same", activation="relu", name="decode_1"),
            layers.UpSampling2D(2),
            layers.Conv2D(32, 3, padding="same", activation="relu", name="decode_2"),
            layers.UpSampling2D(2),
            layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="pixels"),
        ],
        name="denoising_autoencoder",
    )


# --- CNNs (R3 exercise 10, R4) ---------------------------------------------------------------------
def augmentation(
    flip: bool = True,
    translate: float = 0.0,
    zoom: float = 0.0,
    rotate: float = 0.0,
    seed: int | None = None,
) -> keras.Sequential:
    """Random image transformations as Keras preprocessing layers, to put at a model's input.

    Horizontal flips, shifts (``translate``: a fraction of the height and width), zoom and
    rotation (a fraction of a full turn). They act only in training (inside ``fit``); ``predict``
    and ``evaluate`` pass images unchanged. A model called directly applies them unless
    ``training=False`` is passed: call feature models with ``training=False``. No parameters.
    """
    steps = [layers.RandomFlip("horizontal", seed=seed)] if flip else []
    if translate:
        steps.append(layers.RandomTranslation(translate, translate, seed=seed))
    if zoom:
        steps.append(layers.RandomZoom(zoom, seed=seed))
    if rotate:
        steps.append(layers.RandomRotation(rotate, seed=seed))
    return keras.Sequential(steps, name="augmentation")


def _conv_bn(x, filters: int, kernel: int, name: str, **options):
    """Conv2D (ReLU) followed by BatchNormalization, the unit of the R3 CIFAR-100 nets."""
    x = layers.Conv2D(filters, kernel, activation="relu", name=name, **options)(x)
    return layers.BatchNormalization(name=f"{name}_bn")(x)


def _dense_head(x, num_classes: int, dropout: float, units=(512, 512)):
    """Dense 512 → BN → Dropout, twice, then the softmax layer (313,956 params for 100 classes)."""
    for i, width in enumerate(units, start=1):
        x = layers.Dense(width, activation="relu", name=f"dense_{i}")(x)
        x = layers.BatchNormalization(name=f"dense_{i}_bn")(x)
        x = layers.Dropout(dropout)(x)
    return layers.Dense(num_classes, activation="softmax", name="classes")(x)


def alexnet_style(
    num_classes: int = 100,
    input_shape=(32, 32, 3),
    augment: keras.Layer | None = None,
    dropout: float = 0.5,
) -> keras.Model:
    """R3's AlexNet-style net for 32x32 colour images: 5,744,964 params with 100 classes.

    AlexNet's five convolutions (96, 256, 384, 384, 256 filters), each followed by batch
    normalisation; a Dense 512-512 head with BN and Dropout. The report gives the count and the
    first shapes (15x15x96, 13x13, 6x6x256, 5x5); this wiring meets all of them and the count
    exactly: a 4x4 stride-2 first convolution, 3x3 after it, an overlapping 3x3 stride-2 pool,
    and two 2x2 stride-1 pools that bring 6x6 to 5x5 and then to 4x4x256 = 4,096 features.
    ``augment``: a layer applied to the input (e.g. :func:`augmentation`), or None.
    """
    inputs = keras.Input(shape=input_shape)
    x = augment(inputs) if augment is not None else inputs
    x = _conv_bn(x, 96, 4, "conv1", strides=2)  # 15x15x96
    x = _conv_bn(x, 256, 3, "conv2")  # 13x13x256
    x = layers.MaxPooling2D(3, strides=2)(x)  # 6x6x256
    x = _conv_bn(x, 384, 3, "conv3", padding="same")
    x = layers.MaxPooling2D(2, strides=1)(x)  # 5x5x384
    x = _conv_bn(x, 384, 3, "conv4", padding="same")
    x = _conv_bn(x, 256, 3, "conv5", padding="same")
    x = layers.MaxPooling2D(2, strides=1)(x)  # 4x4x256
    outputs = _dense_head(layers.Flatten()(x), num_classes, dropout)
    return keras.Model(inputs, outputs, name="alexnet_style")


def vgg_style(
    num_classes: int = 100,
    input_shape=(32, 32, 3),
    augment: keras.Layer | None = None,
    dropout: float = 0.5,
    blocks=((64, 64), (128, 128), (256, 256, 256), (384, 384), (384,)),
) -> keras.Model:
    """R3's VGG16-style net for 32x32 colour images: 5,799,984 params with 100 classes.

    VGG's recipe: only 3x3 convolutions (same padding), each followed by batch normalisation, in
    blocks that end in a 2x2 max-pool; ``blocks`` lists each block's widths. The default keeps
    VGG16's first three blocks (64, 64 | 128, 128 | 256, 256, 256) and two narrower ones (384,
    384 | 384): five pools bring 32x32 to 1x1x384. The same head as :func:`alexnet_style`.

    The report gives 5,799,440 parameters. Its count is a multiple of 16, while the 512 → 100
    softmax layer (51,300) plus convolutions, Dense layers and BatchNorm whose widths are
    multiples of 16 always leave a remainder of 4: some layer of the report's net has a width
    that is not a multiple of 16. A BatchNormalization of the 3 input channels (12 params) is the
    simplest one that closes that gap, and is included here. A search over VGG-like layouts
    (blocks of equal-width 3x3 convolutions, widths never shrinking, BatchNorm after every
    convolution or block, this head) found exact matches only among irregular ones (odd first
    kernels, widths such as 96, 96, 128, 512), so we kept this regular net: 544 parameters
    (0.01%) more than the report's, in widths the report does not give.
    """
    inputs = keras.Input(shape=input_shape)
    x = augment(inputs) if augment is not None else inputs
    x = layers.BatchNormalization(name="input_bn")(x)
    for b, widths in enumerate(blocks, start=1):
        for i, width in enumerate(widths, start=1):
            x = _conv_bn(x, width, 3, f"block{b}_conv{i}", padding="same")
        x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
    outputs = _dense_head(layers.Flatten()(x), num_classes, dropout)
    return keras.Model(inputs, outputs, name="vgg_style")


def basenet(
    num_classes: int = 25,
    input_shape=(32, 32, 3),
    *,
    blocks=((6,), (16,)),
    kernel_size: int = 5,
    dense=(50,),
    augment: keras.Layer | None = None,
    normalize: keras.Layer | None = None,
    batchnorm: str | None = None,
    dropout: float | tuple[float, ...] = 0.0,
) -> keras.Model:
    """R4's BaseNet, and the variations its improvement steps try, as options of one builder.

    Default (the baseline): Conv 6 (5x5, valid) ReLU → MaxPool 2 → Conv 16 (5x5, valid) ReLU →
    MaxPool 2 → Flatten (5·5·16 = 400) → Dense 50 ReLU → Dense k softmax; 24,197 params for the
    25 classes (456 + 2,416 + 20,050 + 1,275), 23,432 for 10.

    ``blocks``: the filter counts of each block's convolutions (valid padding, ``kernel_size``),
    a 2x2 max-pool ending each block; ``dense``: the hidden Dense widths. A deeper net is another
    ``blocks``/``kernel_size``/``dense``, e.g. ``blocks=((32, 64), (128, 256)), kernel_size=3,
    dense=(500, 150)``. ``augment`` and ``normalize``: layers applied to the input, in that order
    (e.g. :func:`augmentation`, and a ``layers.Normalization`` holding the training set's mean
    and variance). ``batchnorm``: ``None``, ``"before"`` or ``"after"`` the ReLU of every
    convolution and hidden Dense layer. ``dropout``: one rate after every block and hidden Dense
    layer, or one rate for each of them in order (0: none).
    """
    if batchnorm not in (None, "before", "after"):
        raise ValueError(
            f"batchnorm={batchnorm!r}; use None, 'before' or 'after' (the ReLU)."
        )
    rates = (
        [dropout] * (len(blocks) + len(dense))
        if isinstance(dropout, (int, float))
        else list(dropout)
    )
    if len(rates) != len(blocks) + len(dense):
        raise ValueError(
            f"{len(rates)} dropout rates for {len(blocks)} blocks and {len(dense)} Dense layers."
        )

    def relu(x):
        if batchnorm == "before":
            x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        return layers.BatchNormalization()(x) if batchnorm == "after" else x

    inputs = keras.Input(shape=input_shape)
    x = inputs
    for step in (augment, normalize):
        x = step(x) if step is not None else x
    rate = iter(rates)
    for b, widths in enumerate(blocks, start=1):
        for i, width in enumerate(widths, start=1):
            x = relu(
                layers.Conv2D(
                    width,
                    kernel_size,
                    name=f"conv{b}_{i}" if len(widths) > 1 else f"conv{b}",
                )(x)
            )
        x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout(r)(x) if (r := next(rate)) else x
    x = layers.Flatten()(x)
    for i, width in enumerate(dense, start=1):
        x = relu(layers.Dense(width, name=f"dense{i}")(x))
        x = layers.Dropout(r)(x) if (r := next(rate)) else x
    outputs = layers.Dense(num_classes, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="basenet")
