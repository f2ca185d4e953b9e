"""Preprocessing fitted on training data only: standardisation, zero replacement, noise.

Every function that learns something from data (a mean, a standard deviation) learns it
from its first argument, the training part, and applies it unchanged to the other parts,
so nothing about the validation or test examples leaks into training.

>>> x_train, x_test = standardize(x_train, x_test)
"""

from __future__ import annotations

import numpy as np


def standardize(train, *others):
    """Scale every column to mean 0, std 1 using the statistics of ``train``; returns
    all parts.

    Constant columns are only centred.
    """
    train = np.asarray(train, dtype=np.float32)
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0).astype(np.float32)
    return tuple(
        (np.asarray(part, dtype=np.float32) - mean) / std for part in (train, *others)
    )


def replace_zeros_by_mean(train, *others, columns):
    """Replace the zeros of ``columns`` by that column's mean over the *non-zero*
    training values.

    For measurements where zero is impossible (a blood pressure of 0 means "not
    recorded"). The means come from ``train`` only and are applied to every part;
    returns copies of all parts.
    """
    train = np.asarray(train, dtype=np.float64)
    columns = list(columns)
    means = np.array([train[train[:, c] != 0, c].mean() for c in columns])
    out = []
    for part in (train, *others):
        part = np.array(part, dtype=np.float64)
        block = part[:, columns]
        part[:, columns] = np.where(block == 0, means, block)
        out.append(part)
    return tuple(out)


def add_noise(images, std: float, seed: int):
    """Images in [0, 1] plus seeded Gaussian noise of standard deviation ``std``,
    clipped to [0, 1]."""
    images = np.asarray(images, dtype=np.float32)
    noise = (
        np.random.default_rng(seed).normal(0.0, std, images.shape).astype(np.float32)
    )
    return np.clip(images + noise, 0.0, 1.0)


def standardize_images(train, *others, channels_first: bool = True):
    """Images (N, H, W) or (N, H, W, C), e.g. uint8 pixels, as float32 with every
    channel at mean 0, std 1, using the per-channel statistics of ``train``; returns
    all parts.

    ``channels_first`` gives (N, C, H, W), PyTorch's layout (a grey image gets C = 1);
    else (N, H, W, C).
    """
    parts = [np.asarray(p) for p in (train, *others)]
    parts = [p.reshape(*p.shape[:3], -1).astype(np.float32) for p in parts]
    mean, std = parts[0].mean(axis=(0, 1, 2)), parts[0].std(axis=(0, 1, 2))
    std = np.where(std > 0, std, 1.0).astype(np.float32)
    out = tuple((p - mean) / std for p in parts)
    return (
        tuple(np.ascontiguousarray(p.transpose(0, 3, 1, 2)) for p in out)
        if channels_first
        else out
    )
