"""H-score (Bao et al., ICIP 2019): between-class variance explained per unit of feature variance."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import scipy.linalg

from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._validate import check_features, check_labels, one_hot


def class_mean_matrix(centred: np.ndarray, y: np.ndarray, c: int) -> np.ndarray:
    """``(N, D)`` matrix whose row ``i`` is the mean of the (centred) features of class ``y_i``."""
    onehot = one_hot(y, c)
    means = onehot.T @ centred / onehot.sum(axis=0)[:, None]
    return means[y]


def trace_pinv_product(cov_f: np.ndarray, cov_g: np.ndarray) -> float:
    """``tr(pinv(cov_f) @ cov_g)`` through the eigendecomposition of the symmetric ``cov_f``."""
    w, v = scipy.linalg.eigh(cov_f, check_finite=False)
    keep = w > max(float(w.max()), 0.0) * len(w) * np.finfo(np.float64).eps * 10
    proj = v[:, keep]
    return float(np.sum((proj.T @ cov_g * proj.T).sum(axis=1) / w[keep]))


@SCORES.register("h_score", aliases=("hscore",), info=ScoreInfo(
    input="features", summary="tr(cov(f)^-1 cov(class means)), in [0, min(D, C-1)]"))
def h_score(features: Any, labels: Sequence[Hashable] | np.ndarray) -> float:
    """H-score ``tr(pinv(Cov(f)) Cov(g))`` where ``g_i`` is the mean feature of ``x_i``'s class.

    Both covariances use the ``N - 1`` denominator; the value lies in ``[0, min(D, C - 1)]``.
    Unstable when ``D`` is large compared with ``N``; see ``regularized_h_score``.
    """
    f = check_features(features)
    y, c = check_labels(labels, f.shape[0])
    fc = f - f.mean(axis=0)
    g = class_mean_matrix(fc, y, c)
    n = f.shape[0]
    cov_f = fc.T @ fc / (n - 1)
    cov_g = g.T @ g / (n - 1)
    return trace_pinv_product(cov_f, cov_g)
