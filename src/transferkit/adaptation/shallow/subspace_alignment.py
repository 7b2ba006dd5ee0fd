"""Subspace alignment (Fernando, Habrard, Sebban, Tuytelaars, ICCV 2013)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.extmath import randomized_svd

from transferkit.adaptation._info import SHALLOW_METHODS, MethodInfo
from transferkit.adaptation.shallow._base import DomainAdaptationClassifier


def _pca_basis(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and top-``k`` principal directions (d x k); a seeded randomized SVD when ``k`` is small
    against the data (as scikit-learn's PCA chooses), else the full SVD."""
    mean = X.mean(0)
    if max(X.shape) > 500 and k < 0.8 * min(X.shape):
        _, _, vt = randomized_svd(X - mean, k, n_iter=7, random_state=0)
    else:
        _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    return mean, vt[:k].T


@SHALLOW_METHODS.register("subspace_alignment", aliases=("sa",), info=MethodInfo(
    "subspace", "project each domain on its own top-k PCA basis and map the source basis onto the target's",
    "Fernando et al. Unsupervised visual domain adaptation using subspace alignment. ICCV 2013"))
class SubspaceAlignment(DomainAdaptationClassifier):
    """Align the source PCA subspace to the target PCA subspace.

    With bases ``Ps`` and ``Pt`` (d x k), source rows become ``(xs - mu_s) Ps Ps^T Pt`` and
    target rows ``(xt - mu_t) Pt``; the classifier works in this k-dimensional space.

    Args:
        base_estimator: classifier in the aligned space (default logistic regression).
        n_components: subspace size k (capped by the smaller domain's rank).
    """

    def __init__(self, base_estimator: Any = None, n_components: int = 20) -> None:
        self.base_estimator = base_estimator
        self.n_components = n_components

    def _fit_adapter(self, Xs: np.ndarray, ys: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, None]:
        if self.n_components < 1:
            raise ValueError("n_components must be >= 1")
        k = min(self.n_components, Xs.shape[1], len(Xs) - 1, len(Xt) - 1)
        if k < 1:
            raise ValueError("subspace alignment needs at least 2 source and 2 target rows")
        self.mean_source_, ps = _pca_basis(Xs, k)
        self.mean_target_, pt = _pca_basis(Xt, k)
        self.source_map_ = ps @ (ps.T @ pt)
        self.target_map_ = pt
        return self._transform(Xs, np.ones(len(Xs), bool)), None

    def _transform(self, X: np.ndarray, is_source: np.ndarray) -> np.ndarray:
        out = np.empty((len(X), self.target_map_.shape[1]))
        out[is_source] = (X[is_source] - self.mean_source_) @ self.source_map_
        out[~is_source] = (X[~is_source] - self.mean_target_) @ self.target_map_
        return out
