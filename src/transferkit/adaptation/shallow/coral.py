"""CORAL: align source to target by mean and covariance (Sun, Feng, Saenko, AAAI 2016)."""

from __future__ import annotations

from typing import Any

import numpy as np

from transferkit.adaptation._info import SHALLOW_METHODS, MethodInfo
from transferkit.adaptation.shallow._base import DomainAdaptationClassifier, symmetric_power


@SHALLOW_METHODS.register("coral", info=MethodInfo(
    "mapping", "centre, whiten source with (Cs+reg I)^-1/2, re-colour with (Ct+reg I)^1/2, add target mean",
    "Sun, Feng, Saenko. Return of frustratingly easy domain adaptation. AAAI 2016"))
class CORAL(DomainAdaptationClassifier):
    """CORrelation ALignment with centring.

    Source rows become ``(xs - mu_s) (Cs + reg I)^(-1/2) (Ct + reg I)^(1/2) + mu_t``; target rows
    are left as they are. The original paper re-colours covariances only; without the centring
    step a pure translation between domains is not corrected (the variant ADAPT ships), so
    centring is on by default (``center=True``).

    Args:
        base_estimator: classifier trained on the mapped source rows (default logistic regression).
        reg: ridge added to both covariances (the paper uses 1 on standardised features).
        center: also align the means (recommended).
    """

    def __init__(self, base_estimator: Any = None, reg: float = 1.0, center: bool = True) -> None:
        self.base_estimator = base_estimator
        self.reg = reg
        self.center = center

    def _fit_adapter(self, Xs: np.ndarray, ys: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, None]:
        if self.reg <= 0:
            raise ValueError("reg must be > 0 (it keeps the covariances invertible)")
        d = Xs.shape[1]
        mu_s, mu_t = Xs.mean(0), Xt.mean(0)
        cs = np.cov(Xs, rowvar=False).reshape(d, d) + self.reg * np.eye(d)
        ct = np.cov(Xt, rowvar=False).reshape(d, d) + self.reg * np.eye(d)
        self.mapping_ = symmetric_power(cs, -0.5) @ symmetric_power(ct, 0.5)
        self.mean_source_, self.mean_target_ = mu_s, mu_t
        return self._map_source(Xs), None

    def _map_source(self, X: np.ndarray) -> np.ndarray:
        if self.center:
            return (X - self.mean_source_) @ self.mapping_ + self.mean_target_
        return X @ self.mapping_

    def _transform(self, X: np.ndarray, is_source: np.ndarray) -> np.ndarray:
        out = X.copy()
        if is_source.any():
            out[is_source] = self._map_source(X[is_source])
        return out
