"""H-score (Bao et al., ICIP 2019): between-class variance explained per unit of feature variance.

Computed from first and second moments accumulated in float64 on torch (no ``N x D`` copies):
the ``D x D`` covariance and the class sums when ``N > D``, the ``N x N`` Gram matrix of the
centred rows for wide features (``D >= N``), where ``tr(pinv(Cov f) Cov g)`` equals the summed
squared class-indicator coordinates along the Gram matrix's eigenvectors.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import scipy.linalg
import torch

from transferkit._compute import Moments, column_mean, moments, resolve_device, row_gram, symmetric_eig
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._validate import check_labels, check_rows, one_hot


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


def nonzero(w: np.ndarray, dim: int) -> np.ndarray:
    """Eigenvalues above the round-off level ``max(w) * dim * eps * 10`` (the rest count as zero)."""
    return w > max(float(w.max()), 0.0) * dim * np.finfo(np.float64).eps * 10


def score_inputs(features: Any, labels: Any, device: Any) -> tuple[np.ndarray, np.ndarray, int, torch.device]:
    """Checked features (no copy), class indices, the number of classes and the device."""
    f = check_rows(features)
    y, c = check_labels(labels, f.shape[0])
    return f, y, c, resolve_device(device)


def pinv_trace(w: np.ndarray, v: np.ndarray, between: np.ndarray, dim: int) -> float:
    """``tr(pinv(A) B)`` for ``A = V diag(w) V'`` and ``B = between' between``.

    Eigenvalues at or below ``max(w) * dim * eps * 10`` count as zero (``dim``: the size of ``A``).
    """
    keep = nonzero(w, dim)
    proj = between @ v[:, keep]
    return float(np.sum(np.sum(proj**2, axis=0) / w[keep]))


def scaled_class_sums(mom: Moments) -> np.ndarray:
    """``(C, D)`` rows ``s_k / sqrt(n_k)``: ``sum_i g_i g_i'`` of the class-mean rows is their Gram matrix."""
    assert mom.class_sums is not None and mom.counts is not None
    return (mom.class_sums / mom.counts.clamp(min=1).sqrt()[:, None]).cpu().numpy()


def wide_class_trace(f: np.ndarray, y: np.ndarray, c: int, dev: torch.device) -> tuple[np.ndarray, np.ndarray]:
    """For ``D >= N``: eigenvalues of the centred ``N x N`` Gram matrix and the squared
    coordinates of the normalised class indicators ``1_k / sqrt(n_k)`` along its eigenvectors."""
    w, u = symmetric_eig(row_gram(f, dev, column_mean(f, dev)), dev)
    ind = one_hot(y, c) / np.sqrt(np.bincount(y, minlength=c))
    coords = (ind.T @ u) ** 2  # (C, N)
    return w, coords.sum(axis=0)


@SCORES.register("h_score", aliases=("hscore",), info=ScoreInfo(
    input="features", summary="tr(cov(f)^-1 cov(class means)), in [0, min(D, C-1)]"))
def h_score(features: Any, labels: Sequence[Hashable] | np.ndarray, *,
            device: str | torch.device | None = None) -> float:
    """H-score ``tr(pinv(Cov(f)) Cov(g))`` where ``g_i`` is the mean feature of ``x_i``'s class.

    Both covariances use the ``N - 1`` denominator; the value lies in ``[0, min(D, C - 1)]``.
    Unstable when ``D`` is large compared with ``N``; see ``regularized_h_score``.
    """
    f, y, c, dev = score_inputs(features, labels, device)
    n, d = f.shape
    if d >= n:
        w, mass = wide_class_trace(f, y, c, dev)
        return float(np.sum(mass[nonzero(w, d)]))
    mom = moments(f, y, c, device=dev)
    w, v = symmetric_eig(mom.gram / (n - 1), dev)
    return pinv_trace(w, v, scaled_class_sums(mom) / np.sqrt(n - 1), d)
