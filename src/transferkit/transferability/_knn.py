"""Leave-one-out k-nearest-neighbour accuracy on frozen features."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from transferkit.errors import DataError
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._validate import canonical_order, check_features, check_labels


def loo_neighbours(f: np.ndarray, k: int, chunk: int = 1024) -> np.ndarray:
    """Indices ``(N, k)`` of each row's ``k`` nearest other rows (Euclidean), nearest first."""
    n = f.shape[0]
    sq = np.einsum("ij,ij->i", f, f)
    out = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        d2 = sq[start:stop, None] + sq[None, :] - 2.0 * f[start:stop] @ f.T
        d2[np.arange(stop - start), np.arange(start, stop)] = np.inf
        part = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < n - 1 else np.argsort(d2, axis=1)[:, :k]
        rows = np.arange(stop - start)[:, None]
        sub = np.argsort(d2[rows, part], axis=1, kind="stable")
        out[start:stop] = part[rows, sub]
    return out


@SCORES.register("knn_accuracy", aliases=("knn",), info=ScoreInfo(
    input="features", summary="leave-one-out k-NN accuracy"))
def knn_accuracy(features: Any, labels: Sequence[Hashable] | np.ndarray, *, k: int = 5) -> float:
    """Fraction of samples whose ``k`` nearest other samples vote for their label.

    Ties between classes go to the tied class of the nearest neighbour.
    """
    f = check_features(features)
    y, c = check_labels(labels, f.shape[0])
    n = f.shape[0]
    if not 1 <= k < n:
        raise DataError(f"knn_accuracy: k must be between 1 and N - 1 = {n - 1} (N: the number of samples), got {k}")
    order = canonical_order(f, y)
    f, y = f[order], y[order]
    nb_labels = y[loo_neighbours(f, k)]
    votes = np.zeros((n, c))
    np.add.at(votes, (np.repeat(np.arange(n), k), nb_labels.ravel()), 1.0)
    tied = votes == votes.max(axis=1, keepdims=True)
    rows = np.arange(n)
    first = np.argmax(tied[rows[:, None], nb_labels], axis=1)
    pred = nb_labels[rows, first]
    return float(np.mean(pred == y))
