"""Shrinkage-regularised H-score (Ibrahim, Ponomareva & Mazumder, ECML-PKDD 2022).

The Ledoit-Wolf shrinkage is computed from the same float64 moments as the H-score (the centred
Gram matrix and ``sum_i |x_i - mean|^4``, by scikit-learn's formula), so no ``N x D`` copy is made;
wide features (``D >= N``) go through the ``N x N`` Gram matrix.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import torch

from transferkit._compute import centred_fourth, column_mean, moments, symmetric_eig
from transferkit.transferability._hscore import nonzero, scaled_class_sums, score_inputs, wide_class_trace
from transferkit.transferability._info import SCORES, ScoreInfo


def ledoit_wolf_shrinkage(eigenvalues: np.ndarray, n: int, d: int, fourth: float) -> float:
    """scikit-learn's Ledoit-Wolf shrinkage from the eigenvalues of the centred Gram matrix
    (``X'X`` or ``X X'``, same nonzero spectrum), ``n``, ``d`` and ``fourth = sum_i |x_i|^4``."""
    if d == 1:
        return 0.0
    lam = eigenvalues / n  # of the empirical covariance X'X / n
    trace = float(np.sum(lam))
    mu = trace / d
    delta_ = float(np.sum(lam**2))  # |X'X / n|_F^2
    beta = 1.0 / (d * n) * (fourth / n - delta_)
    delta = (delta_ - 2.0 * mu * trace + d * mu**2) / d
    beta = min(beta, delta)
    return 0.0 if beta == 0 else beta / delta


@SCORES.register("regularized_h_score", aliases=("reg_h_score", "shrinkage_h_score"), info=ScoreInfo(
    input="features", summary="H-score with a Ledoit-Wolf shrunk feature covariance"))
def regularized_h_score(features: Any, labels: Sequence[Hashable] | np.ndarray, *,
                        device: str | torch.device | None = None) -> float:
    """``tr(inv(S_a) (1 - a) Cov(g))`` with the Ledoit-Wolf covariance ``S_a`` and its shrinkage ``a``.

    Features are centred first; ``S_a`` uses the ``1/N`` normalisation of scikit-learn's
    ``LedoitWolf`` and ``Cov(g)`` of the class means uses ``1/(N - 1)``, as TLlib does.
    """
    f, y, c, dev = score_inputs(features, labels, device)
    n, d = f.shape
    if d >= n:
        w, mass = wide_class_trace(f, y, c, dev)
        w = np.clip(w, 0.0, None)
        a = ledoit_wolf_shrinkage(w, n, d, centred_fourth(f, column_mean(f, dev), dev))
        mu = float(np.sum(w)) / n / d
        shrunk = (1.0 - a) * w / n + a * mu
        keep = nonzero(w, d)
        return (1.0 - a) * float(np.sum(w[keep] * mass[keep] / (n - 1) / shrunk[keep]))
    mom = moments(f, y, c, device=dev, fourth=True)
    lam, v = symmetric_eig(mom.gram, dev)
    assert mom.fourth is not None
    a = ledoit_wolf_shrinkage(np.clip(lam, 0.0, None), n, d, mom.fourth)
    shrunk = (1.0 - a) * lam / n + a * float(np.sum(lam)) / n / d
    between = scaled_class_sums(mom) / np.sqrt(n - 1)
    keep = nonzero(shrunk, d)
    proj = between @ v[:, keep]
    return (1.0 - a) * float(np.sum(np.sum(proj**2, axis=0) / shrunk[keep]))
