"""Tiny noisy problems shared by the search, ensemble and Dask tests."""

from __future__ import annotations

import numpy as np

from dataaudit.training.config import TrainConfig
from dataaudit.training.loop import TrainData


def noisy_classification(n_train: int = 240, n_val: int = 120, n_test: int = 120) -> TrainData:
    """3 classes from a random linear rule on 6 features, with 25% of the labels resampled."""
    rng = np.random.default_rng(0)
    n = n_train + n_val + n_test
    X = rng.normal(size=(n, 6)).astype(np.float32)
    y = (X @ rng.normal(size=(6, 3))).argmax(axis=1).astype(np.int64)
    noisy = rng.random(n) < 0.25
    y[noisy] = rng.integers(0, 3, size=int(noisy.sum()))
    a, b = n_train, n_train + n_val
    return TrainData(X[:a], y[:a], X[a:b], y[a:b], X[b:], y[b:], n_classes=3)


def noisy_regression() -> TrainData:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    y = (np.sin(X[:, 0]) + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=300)).astype(np.float32)
    return TrainData(X[:180], y[:180], X[180:240], y[180:240], X[240:], y[240:], task="regression")


TINY = TrainConfig(hidden=(8,), max_epochs=6, batch_size=32, patience=3)
