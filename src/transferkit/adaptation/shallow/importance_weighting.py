"""Importance weighting with a discriminative density-ratio estimate (a domain classifier)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from transferkit.adaptation._info import SHALLOW_METHODS, MethodInfo
from transferkit.adaptation.shallow._base import DomainAdaptationClassifier, check_features


def domain_classifier_weights(Xs: Any, Xt: Any, *, C: float = 0.01, max_weight: float = 10.0, n_folds: int = 3,
                              random_state: int = 0) -> np.ndarray:
    """Density ratio ``p_t(x) / p_s(x)`` at each source row, from a domain classifier.

    A logistic regression separates source (0) from target (1); by Bayes' rule
    ``p_t(x)/p_s(x) = P(t|x)/P(s|x) * n_s/n_t``. The probabilities are cross-fitted (each row is
    scored by a classifier that did not see it), the ratios are clipped at ``max_weight`` (times
    their mean) to bound the variance, and the result is rescaled to mean 1.
    """
    Xs = check_features(Xs, "source X")
    Xt = check_features(Xt, "target X")
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    p = cross_fitted_target_probability(clf, Xs, Xt, n_folds, random_state)
    return clip_weights(p / (1 - p) * (len(Xs) / len(Xt)), max_weight)


def cross_fitted_target_probability(clf: Any, Zs: np.ndarray, Zt: np.ndarray, n_folds: int,
                                    random_state: int) -> np.ndarray:
    """``P(target | z)`` at each source row from ``clf`` separating source from target rows, clipped to
    ``[1e-6, 1 - 1e-6]``; cross-fitted over ``n_folds`` shuffled stratified folds (one fit without folds when
    a domain has fewer than 2 rows)."""
    Z = np.vstack([Zs, Zt])
    d = np.r_[np.zeros(len(Zs), int), np.ones(len(Zt), int)]
    folds = min(n_folds, len(Zs), len(Zt))
    if folds >= 2:
        cv = StratifiedKFold(folds, shuffle=True, random_state=random_state)
        p = cross_val_predict(clf, Z, d, cv=cv, method="predict_proba")[: len(Zs), 1]
    else:
        p = clf.fit(Z, d).predict_proba(Zs)[:, 1]
    return np.clip(p, 1e-6, 1 - 1e-6)


def clip_weights(w: np.ndarray, max_weight: float) -> np.ndarray:
    """Rescale ``w`` to mean 1 with no weight above ``max_weight`` (clip and rescale until stable)."""
    if max_weight < 1:
        raise ValueError("max_weight must be >= 1 (weights are normalised to mean 1)")
    w = np.asarray(w, dtype=float) / np.mean(w)
    for _ in range(50):
        if w.max() <= max_weight * (1 + 1e-9):
            break
        w = np.minimum(w, max_weight)
        w = w / w.mean()
    return np.minimum(w, max_weight)


@SHALLOW_METHODS.register("importance_weighting", aliases=("iw", "discriminator_reweight"), info=MethodInfo(
    "reweighting", "weight source rows by p_t/p_s estimated with a cross-fitted domain classifier",
    "Bickel, Brueckner, Scheffer. Discriminative learning under covariate shift. JMLR 2009"))
class ImportanceWeighting(DomainAdaptationClassifier):
    """Covariate-shift correction: fit the classifier on source rows weighted by ``p_t/p_s``.

    Helps only when ``p(y|x)`` is the same in both domains and the target support lies inside
    the source support; it cannot fix a translation or rotation of the features.

    Args:
        base_estimator: classifier that accepts ``sample_weight`` (default logistic regression).
        C: inverse regularisation of the domain classifier.
        max_weight: clip for the normalised weights.
        random_state: seed of the cross-fitting folds.
    """

    def __init__(self, base_estimator: Any = None, C: float = 0.01, max_weight: float = 10.0,
                 random_state: int = 0) -> None:
        self.base_estimator = base_estimator
        self.C = C
        self.max_weight = max_weight
        self.random_state = random_state

    def _fit_adapter(self, Xs: np.ndarray, ys: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = domain_classifier_weights(Xs, Xt, C=self.C, max_weight=self.max_weight, random_state=self.random_state)
        return Xs, w
