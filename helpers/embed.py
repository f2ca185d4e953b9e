"""Learned representations in two dimensions: t-SNE (openTSNE), and checks that a
picture is real.

A t-SNE map is easy to over-read: it keeps neighbourhoods, not distances, and its look
depends on the perplexity. So beside :func:`tsne` live the numbers that keep it honest:
how well a linear classifier separates the *original* features (:func:`linear_probe`),
how well a line separates the 2-D map (:func:`separating_line`), how often a point's
neighbours in the map share its class (:func:`neighbour_agreement`), and which classes
share neighbourhoods (:func:`overlapping_pairs`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

PCA_DIMS = (
    50  # features wider than this are reduced by PCA before t-SNE (common practice)
)


@dataclass
class Embedding:
    """A 2-D t-SNE map of some points: coordinates, the settings, and the time
    it took."""

    points: np.ndarray
    perplexity: float
    seconds: float
    input_dims: int


def reduce(features, dims: int = PCA_DIMS, seed: int = 0) -> np.ndarray:
    """``features`` (N, D) as float32, reduced to ``dims`` principal components when D >
    ``dims`` (to at most N components when there are fewer points than that)."""
    from sklearn.decomposition import PCA

    x = np.asarray(features, dtype=np.float32).reshape(len(features), -1)
    if x.shape[1] <= dims:
        return x
    return (
        PCA(n_components=min(dims, len(x)), random_state=seed)
        .fit_transform(x)
        .astype(np.float32)
    )


def tsne(
    features,
    *,
    perplexity: float = 30,
    seed: int = 0,
    n_jobs: int = 1,
    method: str = "fft",
) -> Embedding:
    """A 2-D openTSNE embedding of ``features`` (N, D): PCA to 50 dimensions first when
    wider, PCA initialisation, default optimisation (250 + 500 iterations).
    ``perplexity`` must be below N / 3: roughly the number of neighbours each point
    tries to keep. ``n_jobs``: threads; ``method``: openTSNE's
    ``negative_gradient_method``, ``"fft"`` (interpolation) or ``"bh"`` (Barnes-Hut).
    Which is fastest depends on the machine and its load: :func:`time_tsne` measures
    them side by side."""
    from openTSNE import TSNE

    x = _checked(features, perplexity)
    start = time.perf_counter()
    points = TSNE(
        perplexity=perplexity,
        random_state=seed,
        n_jobs=n_jobs,
        negative_gradient_method=method,
    ).fit(reduce(x, seed=seed))
    return Embedding(
        np.asarray(points), perplexity, time.perf_counter() - start, x.shape[1]
    )


def _checked(features, perplexity: float) -> np.ndarray:
    x = np.asarray(features).reshape(len(features), -1)
    if not 0 < perplexity < len(x) / 3:
        raise ValueError(
            f"perplexity {perplexity} needs more than {3 * perplexity:.0f} points; "
            f"got {len(x)}."
        )
    return x


def tsne_sklearn(
    features, *, perplexity: float = 30, seed: int = 0, n_jobs: int | None = None
) -> Embedding:
    """The same embedding with scikit-learn's ``TSNE`` (Barnes-Hut; its gradient uses
    every core through OpenMP, ``n_jobs`` only the neighbour search)."""
    from sklearn.manifold import TSNE

    x = _checked(features, perplexity)
    start = time.perf_counter()
    points = TSNE(
        perplexity=perplexity, init="pca", random_state=seed, n_jobs=n_jobs
    ).fit_transform(reduce(x, seed=seed))
    return Embedding(points, perplexity, time.perf_counter() - start, x.shape[1])


def time_tsne(
    features, configurations: dict, *, perplexity: float = 30, seed: int = 0
) -> dict[str, Embedding]:
    """Each configuration (a name → a function like :func:`tsne`) run once on the
    same ``features``, in turn: their embeddings, each with its ``seconds``."""
    return {
        name: run(features, perplexity=perplexity, seed=seed)
        for name, run in configurations.items()
    }


def fastest(timed: dict[str, Embedding]) -> str:
    """The name of the configuration that took the fewest seconds."""
    return min(timed, key=lambda name: timed[name].seconds)


def _standardised_logistic(max_iter: int = 2000):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))


def linear_probe(
    features,
    labels,
    test_features=None,
    test_labels=None,
    *,
    folds: int = 5,
    seed: int = 0,
) -> float:
    """Accuracy of a linear classifier (standardised inputs, logistic regression) on
    ``features``: fitted on them and scored on ``test_features`` when given, else
    ``folds``-fold stratified cross-validation. A high probe accuracy says the
    classes are linearly separable in the original space, whatever the 2-D picture
    looks like."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    x = np.asarray(features).reshape(len(features), -1)
    if test_features is not None:
        model = _standardised_logistic().fit(x, labels)
        return float(
            model.score(
                np.asarray(test_features).reshape(len(test_features), -1), test_labels
            )
        )
    splits = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return float(cross_val_score(_standardised_logistic(), x, labels, cv=splits).mean())


@dataclass
class Line:
    """A line ``w · p + b = 0`` in a 2-D map, fitted to separate two classes;
    ``errors``: points on the wrong side of it."""

    w: np.ndarray
    b: float
    errors: int

    def y(self, x):
        """The line's second coordinate at first coordinate(s) ``x``."""
        return -(self.w[0] * np.asarray(x) + self.b) / self.w[1]


def separating_line(points, labels) -> Line:
    """The linear SVM (hinge loss, C=1) that best separates two classes in a 2-D map."""
    from sklearn.svm import LinearSVC

    labels = np.asarray(labels)
    if len(np.unique(labels)) != 2:
        raise ValueError(
            f"separating_line needs two classes, got {len(np.unique(labels))}."
        )
    scale = np.abs(points).max() or 1.0
    svm = LinearSVC(C=1.0, max_iter=20_000).fit(points / scale, labels)
    w = svm.coef_[0] / scale
    return Line(
        w, float(svm.intercept_[0]), int((svm.predict(points / scale) != labels).sum())
    )


def _neighbours(points, k: int) -> np.ndarray:
    from sklearn.neighbors import NearestNeighbors

    return (
        NearestNeighbors(n_neighbors=k + 1)
        .fit(points)
        .kneighbors(points, return_distance=False)[:, 1:]
    )


def neighbour_agreement(points, labels, k: int = 10) -> float:
    """The share of each point's ``k`` nearest neighbours (in ``points``, 2-D or not)
    that have its class, averaged: 1.0 for perfectly separated clusters, 1/classes for a
    random mix."""
    labels = np.asarray(labels)
    return float((labels[_neighbours(points, k)] == labels[:, None]).mean())


def overlapping_pairs(
    points, labels, class_names: Sequence[str] | None = None, k: int = 10, top: int = 5
) -> list[tuple[str, str, float]]:
    """The class pairs that share neighbourhoods most: for each unordered pair {a, b},
    the share of neighbour links (each point to its ``k`` nearest) that join a and b, as
    a share of all links that leave their own class. Largest first."""
    labels = np.asarray(labels)
    names = class_names or [str(c) for c in range(labels.max() + 1)]
    other = labels[_neighbours(points, k)]
    mixed = other != labels[:, None]
    a, b = np.broadcast_to(labels[:, None], other.shape)[mixed], other[mixed]
    n = len(names)
    counts = np.zeros((n, n))
    np.add.at(counts, (np.minimum(a, b), np.maximum(a, b)), 1)
    total = counts.sum() or 1.0
    order = np.dstack(
        np.unravel_index(np.argsort(counts, axis=None)[::-1], counts.shape)
    )[0]
    return [
        (names[i], names[j], counts[i, j] / total)
        for i, j in order[:top]
        if counts[i, j] > 0
    ]
