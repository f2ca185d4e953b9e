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
