"""Shrinkage-regularised H-score (Ibrahim, Ponomareva & Mazumder, ECML-PKDD 2022)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
from sklearn.covariance import LedoitWolf

from transferkit.transferability._hscore import class_mean_matrix, trace_pinv_product
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._validate import check_features, check_labels


@SCORES.register("regularized_h_score", aliases=("reg_h_score", "shrinkage_h_score"), info=ScoreInfo(
    input="features", summary="H-score with a Ledoit-Wolf shrunk feature covariance"))
def regularized_h_score(features: Any, labels: Sequence[Hashable] | np.ndarray) -> float:
    """``tr(inv(S_a) (1 - a) Cov(g))`` with the Ledoit-Wolf covariance ``S_a`` and its shrinkage ``a``.

    Features are centred first; ``S_a`` uses the ``1/N`` normalisation of scikit-learn's
    ``LedoitWolf`` and ``Cov(g)`` of the class means uses ``1/(N - 1)``, as TLlib does.
    """
    f = check_features(features)
    y, c = check_labels(labels, f.shape[0])
    fc = f - f.mean(axis=0)
    lw = LedoitWolf(assume_centered=False).fit(fc)
    g = class_mean_matrix(fc, y, c)
    cov_g = g.T @ g / (f.shape[0] - 1)
    return (1.0 - float(lw.shrinkage_)) * trace_pinv_product(lw.covariance_, cov_g)
