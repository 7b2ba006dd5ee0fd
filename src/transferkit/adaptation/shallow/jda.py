"""Joint distribution adaptation (Long, Wang, Ding, Sun, Yu, ICCV 2013)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from transferkit.adaptation._info import SHALLOW_METHODS, MethodInfo
from transferkit.adaptation.shallow._base import DomainAdaptationClassifier
from transferkit.adaptation.shallow._mmd_embedding import (
    conditional_mmd_factor,
    marginal_mmd_factor,
    mmd_projection,
    normalize_factor,
)


def _unit_rows(X: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(n > 0, n, 1.0)


@SHALLOW_METHODS.register("jda", info=MethodInfo(
    "subspace", "TCA plus class-conditional MMD on target pseudo-labels, refined over iterations",
    "Long et al. Transfer feature learning with joint distribution adaptation. ICCV 2013"))
class JDA(DomainAdaptationClassifier):
    """Joint distribution adaptation (linear, primal form).

    Each iteration solves a TCA-like eigenproblem whose MMD matrix also holds the per-class
    mean gaps between source classes and target pseudo-classes, then re-labels the target rows
    with the base classifier trained in the new space. Rows are scaled to unit length before
    and after the projection, as in the authors' code.

    Args:
        base_estimator: classifier in the projected space, also used for the pseudo-labels
            (default: logistic regression with ``C=10``; the rows are unit length, so the usual
            ``C`` would underfit).
        n_components: projection size (the paper uses 100; 30 is the default here).
        mu: regularisation of the projection (the paper's lambda; 1.0 on Office-Caltech).
        n_iter: pseudo-label refinement rounds (the paper uses 10).
    """

    def __init__(self, base_estimator: Any = None, n_components: int = 30, mu: float = 1.0, n_iter: int = 10) -> None:
        self.base_estimator = base_estimator
        self.n_components = n_components
        self.mu = mu
        self.n_iter = n_iter

    def _fit_adapter(self, Xs: np.ndarray, ys: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, None]:
        if self.n_iter < 1:
            raise ValueError("n_iter must be >= 1")
        X = _unit_rows(np.vstack([Xs, Xt]))
        ns, nt = len(Xs), len(Xt)
        classes = np.unique(ys)
        e0 = marginal_mmd_factor(ns, nt)
        yt_pseudo: np.ndarray | None = None
        self.pseudo_label_history_: list[np.ndarray] = []
        for _ in range(self.n_iter):
            E = e0 if yt_pseudo is None else np.hstack([e0, conditional_mmd_factor(ys, yt_pseudo, classes)])
            A = mmd_projection(X, normalize_factor(E), self.n_components, self.mu, "linear")
            Z = _unit_rows(X @ A)
            clf = self._make_estimator()
            clf.fit(Z[:ns], ys)
            yt_pseudo = clf.predict(Z[ns:])
            self.pseudo_label_history_.append(yt_pseudo)
        self.components_ = A
        return Z[:ns], None

    def _make_estimator(self) -> Any:
        if self.base_estimator is not None:
            return clone(self.base_estimator)
        return LogisticRegression(C=10.0, max_iter=2000)

    def _transform(self, X: np.ndarray, is_source: np.ndarray) -> np.ndarray:
        return _unit_rows(_unit_rows(X) @ self.components_)
