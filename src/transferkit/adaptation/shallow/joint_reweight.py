"""Joint (feature, label) source re-weighting against negative transfer (a discriminator gate)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from transferkit.adaptation._info import SHALLOW_METHODS, MethodInfo
from transferkit.adaptation.shallow._base import DomainAdaptationClassifier, default_base_estimator
from transferkit.adaptation.shallow.importance_weighting import clip_weights, cross_fitted_target_probability


@SHALLOW_METHODS.register("joint_reweight", aliases=("discriminator_gate",), info=MethodInfo(
    "reweighting", "down-weight source rows whose (x, y) pair is unlike the target's (pseudo-labelled) pairs",
    "Wang, Dai, Poczos, Carbonell. Characterizing and avoiding negative transfer. CVPR 2019",
    against_negative_transfer=True))
class JointReweight(DomainAdaptationClassifier):
    """Estimate ``P_T(x, y) / P_S(x, y)`` at each source row and train on re-weighted source.

    A shallow version of the discriminator gate: a source-only classifier labels the target rows
    (soft labels), a cross-fitted logistic regression separates source ``[x, onehot(y)]`` from
    target ``[x, p(y|x)]``, and its odds become the source weights. Source rows from classes or
    regions that the target does not contain (the usual cause of negative transfer) get small
    weights; a class that is rare in the target is down-weighted as a whole (label-shift
    correction). Weights are clipped at ``max_weight`` times their mean.

    Args:
        base_estimator: classifier that accepts ``sample_weight`` (default logistic regression).
        C: inverse regularisation of the domain discriminator.
        label_scale: how strongly the label block counts against the features (after scaling).
        max_weight: clip for the normalised weights.
        random_state: seed of the cross-fitting folds.
    """

    def __init__(self, base_estimator: Any = None, C: float = 0.01, label_scale: float = 3.0, max_weight: float = 10.0,
                 random_state: int = 0) -> None:
        self.base_estimator = base_estimator
        self.C = C
        self.label_scale = label_scale
        self.max_weight = max_weight
        self.random_state = random_state

    def _fit_adapter(self, Xs: np.ndarray, ys: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        base = self._make_estimator()
        if not hasattr(base, "predict_proba"):
            base = default_base_estimator()
        base.fit(Xs, ys)
        classes = base.classes_
        pt = base.predict_proba(Xt)
        onehot = (ys[:, None] == classes[None, :]).astype(float)
        scaler = StandardScaler().fit(np.vstack([Xs, Xt]))
        zs = np.hstack([scaler.transform(Xs), self.label_scale * onehot * np.sqrt(Xs.shape[1])])
        zt = np.hstack([scaler.transform(Xt), self.label_scale * pt * np.sqrt(Xs.shape[1])])
        p = cross_fitted_target_probability(LogisticRegression(C=self.C, max_iter=2000), zs, zt, 5, self.random_state)
        self.target_class_prior_ = pt.mean(0)
        return Xs, clip_weights(p / (1 - p), self.max_weight)
