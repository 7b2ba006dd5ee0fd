"""Transfer component analysis (Pan, Tsang, Kwok, Yang, IEEE TNN 2011)."""

from __future__ import annotations

from typing import Any

import numpy as np

from transferkit.adaptation._info import SHALLOW_METHODS, MethodInfo
from transferkit.adaptation.shallow._base import DomainAdaptationClassifier
from transferkit.adaptation.shallow._mmd_embedding import (
    marginal_mmd_factor,
    mmd_projection,
    normalize_factor,
    rbf_kernel,
)
from transferkit.adaptation.shallow.kmm import median_gamma


@SHALLOW_METHODS.register("tca", info=MethodInfo(
    "subspace", "shared projection that keeps variance and shrinks the marginal MMD between domains",
    "Pan et al. Domain adaptation via transfer component analysis. IEEE TNN 2011"))
class TCA(DomainAdaptationClassifier):
    """Transfer component analysis: one projection for both domains, learnt without labels.

    Args:
        base_estimator: classifier in the projected space (default logistic regression).
        n_components: projection size.
        mu: trade-off (larger keeps more variance, smaller matches means harder).
        kernel: ``linear`` (primal, cost grows with the feature count) or ``rbf`` (dual, cost
            grows with the row count cubed).
        gamma: RBF width (default: median heuristic).
    """

    def __init__(self, base_estimator: Any = None, n_components: int = 30, mu: float = 1.0, kernel: str = "linear",
                 gamma: float | None = None) -> None:
        self.base_estimator = base_estimator
        self.n_components = n_components
        self.mu = mu
        self.kernel = kernel
        self.gamma = gamma

    def _fit_adapter(self, Xs: np.ndarray, ys: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, None]:
        X = np.vstack([Xs, Xt])
        self.gamma_ = median_gamma(Xs, Xt) if (self.kernel == "rbf" and self.gamma is None) else self.gamma
        E = normalize_factor(marginal_mmd_factor(len(Xs), len(Xt)))
        self.components_ = mmd_projection(X, E, self.n_components, self.mu, self.kernel, self.gamma_ or 1.0)
        self.train_rows_ = X if self.kernel == "rbf" else None
        return self._transform(Xs, np.ones(len(Xs), bool)), None

    def _transform(self, X: np.ndarray, is_source: np.ndarray) -> np.ndarray:
        if self.kernel == "rbf":
            return rbf_kernel(X, self.train_rows_, self.gamma_) @ self.components_
        return X @ self.components_
