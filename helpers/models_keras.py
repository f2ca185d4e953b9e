"""Keras 3 architectures of the practicals (backend-neutral: no TensorFlow calls).

Parameter counts are facts from the reports and are checked by ``tests/test_models.py``
and ``tests/test_cnn_models_keras.py`` (with every layer's output shape where a report
prints it).
"""

from __future__ import annotations

import keras
from keras import layers


def dense_mnist_net(num_classes: int = 10, input_shape=(28, 28, 1)) -> keras.Model:
    """R3's "EJ8_Dense": Flatten → Dense 20 → BN → Dense 10 → BN → Dense k (16,140
    params, k=10)."""
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

    Conv 32 → MaxPool 2 → BN → Conv 16 → MaxPool 2 → BN → Flatten (7·7·16 = 784) →
    Dense k. 12,986 params for k=10 (96 of them the BatchNorm moving statistics),
    12,201 for k=9.
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


# --- Keras basics (R3) ----------------------------------------------------------------
def _l2(factor: float | None):
    """An L2 weight penalty ``factor · Σw²`` (``None`` or 0: no penalty)."""
    return keras.regularizers.L2(factor) if factor else None


def xor_net(
    hidden: int = 2, concat: bool = False, activation: str = "tanh"
) -> keras.Model:
    """A two-input, one-output net for XOR, built with the functional API.

    Input (2) → Dense ``hidden`` → Dense 1 (sigmoid). With ``concat=True`` the output
    layer also sees the inputs: Concatenate([input, hidden]) → Dense 1. Parameters:
    3·hidden + hidden + 1 without, 3·hidden + hidden + 3 with the concatenation
    (1 hidden unit: 5 vs 7).
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
    """A small two-layer classifier (Sequential API): Dense ``hidden`` ReLU → Dense
    k softmax.

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
    """R3's IMDB bag-of-words net: Dense 100 ReLU → Dense 10 ReLU → concat(input,
    hidden) → Dense 1.

    ``regularisation`` is ``"l2"`` (an L2 penalty on every Dense kernel),
    ``"dropout+l2"`` (also Dropout after each hidden layer) or ``"batchnorm+l2"`` (also
    BatchNormalization after each hidden layer). 10,000 words: 1,011,121 params
    (``"batchnorm+l2"``: 1,011,561, 220 of them non-trainable statistics).
    """
    if regularisation not in ("l2", "dropout+l2", "batchnorm+l2"):
        raise ValueError(
            f"regularisation={regularisation!r}; "
            "use 'l2', 'dropout+l2' or 'batchnorm+l2'."
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

    Embedding → Flatten (500·32 = 16,000) → Dense 100 ReLU → Dropout → Dense 10 ReLU →
    Dropout, then Concatenate(flattened embedding, Dense 10) → Dense 1 sigmoid; L2 on
    the Dense kernels.
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
    """R3's IMDB 1-D convolutional net (172,305 params for 10,000 words, length 500,
    dim 16).

    Embedding 16 → BN → Conv1D 16 (kernel 3, same) → MaxPool 2 → BN → Conv1D 64 (kernel
    3, same) → MaxPool 2 → BN → Flatten (125·64 = 8,000) → Dropout → Dense 1 sigmoid.

    ``bn_momentum`` 0.9 rather than Keras' 0.99: the embeddings start with a variance
    near 5e-4, while BatchNormalization's running variance starts at 1; with 0.99 it
    takes several hundred steps to get there, and until then predictions in inference
    mode are useless.
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
    """A small regression net for a 1-D map x(t-1) → x(t): Dense h tanh → Dense h tanh →
    Dense 1.

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
    """R3's Pima diabetes net, its layers and 673 params: Dense 24 → BN → Dense 12 → BN
    → Dense 1. The activations (ReLU hidden units, a sigmoid output) are ours: R3 gives
    none."""
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
    """A convolutional denoising autoencoder for MNIST (12,537 params), all kernels 3x3,
    same padding.

    Encoder: Conv 8 → MaxPool 2 → Conv 8 → MaxPool 2 (a 7x7x8 code: 392 numbers for 784
    pixels). Decoder: Conv 32 → UpSample 2 → Conv 32 → UpSample 2 → Conv 1 sigmoid
    (pixels in [0, 1]).
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


# --- CNNs (R3 exercise 10, R4) --------------------------------------------------------
def augmentation(
    flip: bool = True,
    translate: float = 0.0,
    zoom: float = 0.0,
    rotate: float = 0.0,
    seed: int | None = None,
    fill_mode: str = "reflect",
) -> keras.Sequential:
    """Random image transformations as Keras preprocessing layers, to put at a
    model's input.

    Horizontal flips, shifts (``translate``: a fraction of the height and width), zoom
    and rotation (a fraction of a full turn). They act only in training (inside
    ``fit``); ``predict`` and ``evaluate`` pass images unchanged. A model called
    directly applies them unless ``training=False`` is passed: call feature models with
    ``training=False``. ``fill_mode``: how shifts, zoom and rotation fill the pixels
    they uncover (Keras' default ``"reflect"``; ``"nearest"`` is what Keras 2's
    ``ImageDataGenerator`` did). No parameters.
    """
    steps = [layers.RandomFlip("horizontal", seed=seed)] if flip else []
    if translate:
        steps.append(
            layers.RandomTranslation(
                translate, translate, fill_mode=fill_mode, seed=seed
            )
        )
    if zoom:
        steps.append(layers.RandomZoom(zoom, fill_mode=fill_mode, seed=seed))
    if rotate:
        steps.append(layers.RandomRotation(rotate, fill_mode=fill_mode, seed=seed))
    return keras.Sequential(steps, name="augmentation")


def _layer_names():
    """Names as a fresh Keras 2 session gives them (``conv2d``, ``conv2d_1``, ...), so
    that ``model.summary()`` reads like the tables R3 prints: ``name("conv2d")`` is the
    next one."""
    counts: dict[str, int] = {}

    def name(kind: str) -> str:
        counts[kind] = counts.get(kind, -1) + 1
        return kind if counts[kind] == 0 else f"{kind}_{counts[kind]}"

    return name


def _dense_head(x, num_classes: int, dropout: float, units, name):
    """R3's classifier: Flatten, then Dense (ReLU) → Dropout → BN for each of ``units``,
    then the softmax layer. ``name``: the model's :func:`_layer_names`."""
    x = layers.Flatten(name=name("flatten"))(x)
    for width in units:
        x = layers.Dense(width, activation="relu", name=name("dense"))(x)
        x = layers.Dropout(dropout, name=name("dropout"))(x)
        x = layers.BatchNormalization(name=name("batch_normalization"))(x)
    return layers.Dense(num_classes, activation="softmax", name=name("dense"))(x)


def alexnet_style(
    num_classes: int = 100,
    input_shape=(32, 32, 3),
    augment: keras.Layer | None = None,
    dropout: float = 0.5,
) -> keras.Model:
    """R3's AlexNet-style net for 32x32 colour images, layer by layer as R3 prints it.

    Conv 96 (15x15) → pool (13x13) → BN → Conv 256 (6x6) → pool (5x5) → BN → Conv 384 →
    BN → Conv 384 → BN → Conv 256 (all 5x5) → pool (4x4) → BN → Flatten (4,096) → [Dense
    512 → Dropout → BN] x 2 → Dense k softmax. With 100 classes: 5,744,964 parameters,
    4,800 of them the BN statistics (non-trainable), as R3 prints.

    R3 prints the layers, shapes and counts; the rest is ours, inferred from them.
    Kernels and strides: the only ones that give both R3's shapes and its count are a
    4x4 stride-2 first convolution (32 → 15), 3x3 stride-2 valid for the second
    (13 → 6), 3x3 same for the last three; pools of 3x3 stride 1 (15 → 13) and 2x2
    stride 1 (6 → 5, 5 → 4). ReLU activations, Dropout ``dropout`` (R3 gives no
    rate). Layer names are R3's. ``augment``: a layer applied to the input (e.g.
    :func:`augmentation`), or None.
    """
    name = _layer_names()
    inputs = keras.Input(shape=input_shape)
    x = augment(inputs) if augment is not None else inputs

    def conv(x, filters, kernel, **options):
        return layers.Conv2D(
            filters, kernel, activation="relu", name=name("conv2d"), **options
        )(x)

    def pool_bn(x, size):
        x = layers.MaxPooling2D(size, strides=1, name=name("max_pooling2d"))(x)
        return layers.BatchNormalization(name=name("batch_normalization"))(x)

    x = pool_bn(conv(x, 96, 4, strides=2), 3)  # 15x15x96, then 13x13
    x = pool_bn(conv(x, 256, 3, strides=2), 2)  # 6x6x256, then 5x5
    for filters in (384, 384):
        x = layers.BatchNormalization(name=name("batch_normalization"))(
            conv(x, filters, 3, padding="same")
        )
    x = pool_bn(conv(x, 256, 3, padding="same"), 2)  # 5x5x256, then 4x4
    outputs = _dense_head(x, num_classes, dropout, (512, 512), name)
    return keras.Model(inputs, outputs, name="alexnet_style")


def vgg_style(
    num_classes: int = 100,
    input_shape=(32, 32, 3),
    augment: keras.Layer | None = None,
    dropout: float = 0.5,
) -> keras.Model:
    """R3's VGG16-style net for 32x32 colour images, layer by layer as R3 prints it.

    Thirteen 3x3 convolutions in five blocks, 32, 32 | 64, 64 | 128 x 3 | 256 x 3 | 256,
    256, 128, each block ending in a 2x2 max-pool: the first halves 32x32 to 16x16, the
    other four (stride 1) take one row and column off each (16 → 15 → 14 → 13 → 12). A
    BN layer comes before every convolution (the first normalises the input images).
    Flatten (12·12·128 = 18,432) → [Dense 128 → Dropout → BN] x 3 → Dense k softmax.
    With 100 classes: 5,799,440 parameters, 4,486 of them the BN statistics
    (non-trainable), as R3 prints.

    R3 prints the layers, shapes and counts; ours, inferred from them: 3x3 kernels with
    same padding (all 3x3 meets R3's count exactly), the pools' sizes and strides, ReLU
    activations, Dropout ``dropout`` (R3 gives no rate). Layer names are R3's.
    ``augment``: a layer applied to the input (e.g. :func:`augmentation`), or None.
    """
    name = _layer_names()
    inputs = keras.Input(shape=input_shape)
    x = augment(inputs) if augment is not None else inputs
    blocks = ((32, 32), (64, 64), (128, 128, 128), (256, 256, 256), (256, 256, 128))
    for b, widths in enumerate(blocks):
        for width in widths:
            x = layers.BatchNormalization(name=name("batch_normalization"))(x)
            x = layers.Conv2D(
                width, 3, padding="same", activation="relu", name=name("conv2d")
            )(x)
        x = layers.MaxPooling2D(
            2, strides=2 if b == 0 else 1, name=name("max_pooling2d")
        )(x)
    outputs = _dense_head(x, num_classes, dropout, (128, 128, 128), name)
    return keras.Model(inputs, outputs, name="vgg_style")


def basenet(num_classes: int = 25, input_shape=(32, 32, 3)) -> keras.Model:
    """R4's BaseNet, layer by layer as R4 prints it (its Figura 1): two convolutional
    modules (Conv 5x5, valid padding → ReLU → MaxPool 2), then two Dense layers.

    24,197 params for the 25 classes (456 + 2,416 + 20,050 + 1,275), 23,432 for 10.
    R4's improvements (normalisation, augmentation, deeper nets, BatchNorm, Dropout)
    are options of :func:`helpers.ablation.r4_net`.
    """
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(6, 5, name="conv1"),  # 32x32x3 → 28x28x6
            layers.ReLU(),
            layers.MaxPooling2D(2),  # → 14x14x6
            layers.Conv2D(16, 5, name="conv2"),  # → 10x10x16
            layers.ReLU(),
            layers.MaxPooling2D(2),  # → 5x5x16
            layers.Flatten(),  # → 400
            layers.Dense(50, name="dense1"),
            layers.ReLU(),
            layers.Dense(num_classes, activation="softmax", name="classes"),
        ],
        name="basenet",
    )
