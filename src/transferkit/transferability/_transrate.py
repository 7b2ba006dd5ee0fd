"""TransRate (Huang et al., ICML 2022): coding-rate gain of knowing the labels."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._validate import check_features, check_labels


def coding_rate(z: np.ndarray, scale: float) -> float:
    """``1/2 log det(I + scale Z'Z)`` from the eigenvalues of the smaller Gram matrix."""
    gram = z @ z.T if z.shape[0] < z.shape[1] else z.T @ z
    w = np.clip(np.linalg.eigvalsh(gram), 0.0, None)
    return float(0.5 * np.sum(np.log1p(scale * w)))


@SCORES.register("transrate", info=ScoreInfo(
    input="features", summary="coding rate of all features minus within-class rates"))
def transrate(features: Any, labels: Sequence[Hashable] | np.ndarray, *, eps2: float = 1e-4) -> float:
    """``R(Z) - sum_c (n_c / N) R(Z_c)`` with ``R(Z) = 1/2 log det(I + D/(n eps2) Z'Z)``.

    Rows are scaled to unit length and centred (as in the authors' code), class parts stay
    globally centred and are weighted by class frequency, so the value is ``>= 0``.
    """
    f = check_features(features)
    y, c = check_labels(labels, f.shape[0])
    norms = np.linalg.norm(f, axis=1, keepdims=True)
    z = f / np.where(norms > 0, norms, 1.0)
    z = z - z.mean(axis=0)
    n, d = z.shape
    total = coding_rate(z, d / (n * eps2))
    within = 0.0
    for k in range(c):
        zk = z[y == k]
        within += len(zk) / n * coding_rate(zk, d / (len(zk) * eps2))
    return float(total - within)
