"""Kernel mean matching (Huang, Smola, Gretton, Borgwardt, Schoelkopf, NIPS 2006)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize

from transferkit.adaptation._info import SHALLOW_METHODS, MethodInfo
from transferkit.adaptation.shallow._base import DomainAdaptationClassifier
from transferkit.adaptation.shallow._mmd_embedding import sqdist

MAX_SOURCE_ROWS = 20000


def median_gamma(Xs: np.ndarray, Xt: np.ndarray, max_rows: int = 1000, seed: int = 0) -> float:
    """RBF ``gamma = 1 / median(squared pairwise distance)`` over the pooled sample."""
    rng = np.random.default_rng(seed)
    Z = np.vstack([Xs, Xt])
    if len(Z) > max_rows:
        Z = Z[rng.choice(len(Z), max_rows, replace=False)]
    d2 = sqdist(Z, Z)
    med = float(np.median(d2[np.triu_indices(len(Z), 1)]))
    return 1.0 / med if med > 0 else 1.0


def kmm_weights(Xs: np.ndarray, Xt: np.ndarray, *, gamma: float | None = None, B: float = 1000.0,
                eps: float | None = None) -> np.ndarray:
    """Source weights that match the kernel mean of the target sample.

    Solves ``min_b 1/2 b'Kb - kappa'b`` with ``0 <= b <= B`` and ``|sum(b) - n_s| <= n_s eps``
    (``eps`` defaults to ``(sqrt(n_s) - 1)/sqrt(n_s)``, the paper's choice), with the sum
    constraint as a quadratic penalty and L-BFGS-B for the box. Memory is ``O(n_s^2)``.
    """
    ns, nt = len(Xs), len(Xt)
    if ns > MAX_SOURCE_ROWS:
        raise ValueError(f"KMM needs an n_s x n_s kernel; {ns} source rows exceed {MAX_SOURCE_ROWS}")
    g = median_gamma(Xs, Xt) if gamma is None else gamma
    K = np.exp(-g * sqdist(Xs, Xs))
    kappa = (ns / nt) * np.exp(-g * sqdist(Xs, Xt)).sum(1)
    eps = (np.sqrt(ns) - 1) / np.sqrt(ns) if eps is None else eps
    lam = 10.0 * float(np.mean(np.diag(K)))

    def fun(b: np.ndarray) -> tuple[float, np.ndarray]:
        kb = K @ b
        s = b.sum() - ns
        viol = max(0.0, abs(s) - ns * eps)
        val = 0.5 * b @ kb - kappa @ b + lam * viol**2
        grad = kb - kappa + (2 * lam * viol * np.sign(s)) * np.ones(ns)
        return float(val), grad

    res = minimize(fun, np.ones(ns), jac=True, method="L-BFGS-B", bounds=[(0.0, B)] * ns)
    w = np.clip(res.x, 0.0, B)
    if w.sum() <= 0:
        return np.ones(ns)
    return w * ns / w.sum()


@SHALLOW_METHODS.register("kmm", info=MethodInfo(
    "reweighting", "weight source rows so their RBF kernel mean matches the target's (a QP)",
    "Huang et al. Correcting sample selection bias by unlabeled data. NIPS 2006"))
class KMM(DomainAdaptationClassifier):
    """Kernel mean matching: source weights from a quadratic programme, then a weighted fit.

    Args:
        base_estimator: classifier that accepts ``sample_weight`` (default logistic regression).
        gamma: RBF kernel width (default: median heuristic on the pooled sample).
        B: upper bound on each weight.
        eps: slack on the weight sum (default ``(sqrt(n_s)-1)/sqrt(n_s)``).
    """

    def __init__(self, base_estimator: Any = None, gamma: float | None = None, B: float = 1000.0,
                 eps: float | None = None) -> None:
        self.base_estimator = base_estimator
        self.gamma = gamma
        self.B = B
        self.eps = eps

    def _fit_adapter(self, Xs: np.ndarray, ys: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return Xs, kmm_weights(Xs, Xt, gamma=self.gamma, B=self.B, eps=self.eps)
