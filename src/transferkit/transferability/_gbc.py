"""GBC: Gaussian Bhattacharyya coefficient between classes (Pandy et al., CVPR 2022)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Literal

import numpy as np

from transferkit.errors import DataError
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._validate import check_features, check_labels


def pca_project(f: np.ndarray, n_components: int) -> np.ndarray:
    """Centred features projected on their top ``n_components`` principal directions."""
    fc = f - f.mean(axis=0)
    if f.shape[1] <= n_components:
        return fc
    _, _, vt = np.linalg.svd(fc, full_matrices=False)
    return fc @ vt[:n_components].T


@SCORES.register("gbc", info=ScoreInfo(
    input="features", summary="minus the summed Bhattacharyya overlap of class Gaussians"))
def gbc(features: Any, labels: Sequence[Hashable] | np.ndarray, *, n_components: int = 64,
        gaussian: Literal["spherical", "diagonal"] = "spherical", min_variance: float = 1e-4) -> float:
    """``-sum_{i != j} BC(c_i, c_j)`` over ordered class pairs, in ``[-C(C-1), 0]``.

    Features are PCA-reduced to ``n_components`` dimensions; each class is a Gaussian with a
    spherical (one variance) or diagonal covariance, variances floored at ``min_variance``.
    The spherical log-determinant counts all dimensions (the reference code counts it once).
    """
    if gaussian not in ("spherical", "diagonal"):
        raise DataError(f"gaussian must be 'spherical' or 'diagonal', got {gaussian!r}")
    f = check_features(features)
    y, c = check_labels(labels, f.shape[0])
    z = pca_project(f, n_components)
    dim = z.shape[1]
    means = np.stack([z[y == k].mean(axis=0) for k in range(c)])
    var = np.stack([z[y == k].var(axis=0) for k in range(c)])
    if gaussian == "spherical":
        var = np.repeat(var.mean(axis=1, keepdims=True), dim, axis=1)
    var = np.maximum(var, min_variance)
    total = 0.0
    for i in range(c):
        for j in range(i + 1, c):
            avg = (var[i] + var[j]) / 2
            db = 0.125 * np.sum((means[i] - means[j]) ** 2 / avg) + 0.5 * np.sum(
                np.log(avg) - 0.5 * np.log(var[i]) - 0.5 * np.log(var[j]))
            total += 2.0 * np.exp(-db)
    return float(-total)
