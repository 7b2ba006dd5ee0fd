"""LogME: the maximum log evidence of a Bayesian linear model on frozen features.

You, Liu, Wang & Long, "LogME: Practical Assessment of Pre-trained Models for Transfer Learning",
ICML 2021; fixed-point maximisation from the JMLR 2022 extension. For each target column ``t``
(one-vs-rest indicators for classification, target columns for regression) with prior
``w ~ N(0, 1/alpha I_D)`` and noise ``N(0, 1/beta)``::

    L = D/2 log a + N/2 log b - N/2 log 2pi - b/2 |t - F m|^2 - a/2 |m|^2 - 1/2 log det(a I + b F'F)

maximised over ``(a, b)`` and divided by ``N``; the score is the mean over target columns.

Differences from the reference implementation, on purpose:

* the log-determinant keeps ``(D - k) log a`` for the ``D - k`` zero eigenvalues of ``F'F``, so the
  score is exact when ``N < D`` or the features are rank-deficient (the reference drops it);
* one symmetric eigendecomposition of the smaller Gram matrix (``F'F`` when ``N > D``, else
  ``F F'``), without forming its eigenvector matrix (see :func:`eig_project`), serves every
  class, and the evidence is maximised for all classes at once, exactly (see
  :func:`max_evidence`) instead of by at most 11 fixed-point steps;
* labels are mapped to the classes actually present, so an absent class adds nothing.

The Gram matrix and the target projections are accumulated in float64 on torch, chunk by chunk,
without a float64 copy of the features or an ``N x C`` indicator matrix (see
:mod:`transferkit._compute`); the eigendecomposition is float64 too (LAPACK on the CPU,
``torch.linalg.eigh`` on CUDA).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import scipy.linalg
import torch
from scipy.linalg import lapack

from transferkit._compute import chunks, moments, resolve_device, row_gram, use_torch_linalg
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._validate import check_labels, check_rows, check_targets, one_hot

_LOG_2PI = float(np.log(2 * np.pi))


def eig_project(gram: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues ``w`` of the symmetric ``gram`` and ``V' b`` for its eigenvectors ``V``.

    Reduces ``gram`` to tridiagonal form ``Q' gram Q = T`` (LAPACK ``sytrd``), applies ``Q'`` to the
    few columns of ``b`` only, and takes the eigenvectors ``Z`` of ``T`` by the MRRR algorithm, so
    ``V' b = Z' (Q' b)``. This never forms ``V = Q Z``, the most expensive part of a full
    eigendecomposition, and is several times faster than an SVD of the feature matrix.
    ``gram`` is overwritten; ``b`` is not.
    """
    n = gram.shape[0]
    if n < 3:
        w, v = scipy.linalg.eigh(gram)
        return w, v.T @ b
    lwork = int(lapack.dsytrd_lwork(n, lower=1)[0])
    packed, diag, off, tau, info = lapack.dsytrd(gram, lower=1, lwork=lwork, overwrite_a=1)
    if info != 0:  # pragma: no cover - LAPACK failure
        raise np.linalg.LinAlgError(f"tridiagonal reduction failed (info={info})")
    reflectors = np.asfortranarray(packed[1:, :-1])
    rest = np.array(b[1:], dtype=np.float64, order="F", copy=True)  # overwritten below
    lwork = int(lapack.dormqr("L", "T", reflectors, tau, rest, -1)[1][0])
    qb_rest, _, info = lapack.dormqr("L", "T", reflectors, tau, rest, max(lwork, 1), overwrite_c=1)
    if info != 0:  # pragma: no cover - LAPACK failure
        raise np.linalg.LinAlgError(f"applying the tridiagonal reduction failed (info={info})")
    qb = np.vstack([b[:1], qb_rest])
    w, z = scipy.linalg.eigh_tridiagonal(diag, off, lapack_driver="stemr", check_finite=False)
    return w, z.T @ qb


def spectral_projections(features: np.ndarray, targets: np.ndarray | None = None, labels: np.ndarray | None = None,
                         n_classes: int = 0, device: torch.device | None = None,
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nonzero eigenvalues ``sigma`` of ``F'F`` and the squared target coordinates along them.

    Returns ``(sigma, x2, t2)`` where ``x2[i, j] = (u_i' t_j)^2`` for the left singular vector
    ``u_i`` of ``F`` with eigenvalue ``sigma_i`` and ``t2[j] = |t_j|^2``. The targets are either
    ``targets`` ``(N, K)`` or the one-vs-rest indicators of ``labels`` (``n_classes`` columns,
    never formed when ``N > D``). Works on the smaller Gram matrix (``F'F`` when ``N > D``, else
    ``F F'``). Eigenvalues below the round-off level of the decomposition are treated as exact zeros.
    """
    dev = device if device is not None else resolve_device()
    n, d = features.shape
    if targets is None:
        assert labels is not None
        targets_t2 = np.bincount(labels, minlength=n_classes).astype(np.float64)
    else:
        targets_t2 = np.einsum("ij,ij->j", targets, targets)
    if n > d:
        if targets is None:
            mom = moments(features, labels, n_classes, device=dev, centre=False)
            assert mom.class_sums is not None
            gram, ftt = mom.gram, mom.class_sums.T
        else:
            gram, ftt = _gram_and_projection(features, targets, dev)
        sigma, x2 = _projections_from_gram(gram, ftt, n, d, dev)
        return sigma, x2, targets_t2
    else:
        t = targets if targets is not None else one_hot(np.asarray(labels), n_classes)
        sigma, p = _eig_project_on(row_gram(features, dev), torch.from_numpy(np.ascontiguousarray(t)), dev)
        keep = sigma > _round_off(sigma, n, d)
        x2 = p[keep] ** 2
    return sigma[keep], x2, targets_t2


def _projections_from_gram(gram: torch.Tensor, ftt: torch.Tensor, n: int, d: int,
                           dev: torch.device) -> tuple[np.ndarray, np.ndarray]:
    """Nonzero eigenvalues of ``F'F`` and the squared target coordinates along them, from ``F'F`` and ``F'T``."""
    sigma, p = _eig_project_on(gram, ftt, dev)
    keep = sigma > _round_off(sigma, n, d)
    return sigma[keep], p[keep] ** 2 / sigma[keep, None]


def logme_from_gram(gram: torch.Tensor, ftt: torch.Tensor, counts: np.ndarray, n: int, d: int,
                    dev: torch.device) -> float:
    """Classification LogME from ``F'F`` ``(D, D)``, the class sums ``F'T`` ``(D, C)`` and class sizes (``N > D``)."""
    sigma, x2 = _projections_from_gram(gram, ftt, n, d, dev)
    evidence, _, _ = max_evidence(sigma, x2, np.asarray(counts, dtype=np.float64), n, d)
    return float(np.mean(evidence))


def _gram_and_projection(f: np.ndarray, t: np.ndarray, dev: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """``F'F`` and ``F'T`` in float64, chunk by chunk."""
    gram = torch.zeros((f.shape[1], f.shape[1]), dtype=torch.float64, device=dev)
    ftt = torch.zeros((f.shape[1], t.shape[1]), dtype=torch.float64, device=dev)
    tt = torch.from_numpy(np.ascontiguousarray(t, dtype=np.float64)).to(dev)
    for start, stop, part in chunks(f, dev):
        gram.addmm_(part.T, part)
        ftt.addmm_(part.T, tt[start:stop])
    return gram, ftt


def _eig_project_on(gram: torch.Tensor, b: torch.Tensor, dev: torch.device) -> tuple[np.ndarray, np.ndarray]:
    """:func:`eig_project` on the CPU; ``torch.linalg.eigh`` and a product on CUDA."""
    if use_torch_linalg(dev):
        w, v = torch.linalg.eigh(gram)
        return w.cpu().numpy(), (v.T @ b.to(dev, torch.float64)).cpu().numpy()
    return eig_project(np.asfortranarray(gram.cpu().numpy()), b.cpu().numpy())


def _round_off(sigma: np.ndarray, n: int, d: int) -> float:
    top = float(np.max(np.abs(sigma))) if sigma.size else 0.0
    return max(top * max(n, d) * np.finfo(np.float64).eps * 10, np.finfo(np.float64).tiny)


def _profile(u: np.ndarray, s: np.ndarray, x2: np.ndarray, r0: np.ndarray, n: int) -> np.ndarray:
    """Log evidence (up to a constant) at ``tau = exp(u)`` with ``beta`` at its optimum ``N / E``."""
    tau = np.exp(u)
    ratio = tau / (s + tau)  # (k, K)
    energy = r0 + np.sum(x2 * ratio, axis=0)
    return 0.5 * np.sum(np.log(ratio), axis=0) - 0.5 * n * np.log(energy)


def _profile_slope(u: np.ndarray, s: np.ndarray, x2: np.ndarray, r0: np.ndarray, n: int) -> np.ndarray:
    """Derivative of :func:`_profile` in ``u = log tau``: ``(gamma - N E' / E) / 2``."""
    tau = np.exp(u)
    denom = s + tau
    gamma = np.sum(s / denom, axis=0)
    energy = r0 + np.sum(x2 * tau / denom, axis=0)
    slope = np.sum(x2 * s * tau / denom**2, axis=0)
    return 0.5 * (gamma - n * slope / energy)


def max_evidence(sigma: np.ndarray, x2: np.ndarray, t2: np.ndarray, n: int, d: int, *, grid_step: float = 1.0,
                 margin: float = 30.0, bisections: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximise the evidence of every target column over ``(alpha, beta)``, all columns at once.

    For a fixed ratio ``tau = alpha / beta`` the best ``beta`` is ``N / E(tau)`` with
    ``E = |t - F m|^2 + tau |m|^2``, which leaves a one-dimensional profile in ``log tau``. It is
    scanned on a grid covering the spectrum (``margin`` e-folds beyond both ends), then the best
    cell is refined by bisection on the profile's derivative, whose zeros are exactly the fixed
    points of MacKay's updates ``alpha = gamma / |m|^2``, ``beta = (N - gamma) / |t - F m|^2``.
    Unlike a capped fixed-point loop this also reaches the maximum when it lies far out (a
    target the features do not explain, where ``alpha`` grows for thousands of steps).

    Args:
        sigma: the ``k`` nonzero eigenvalues of ``F'F``.
        x2: ``(k, K)`` squared coordinates of each target along the eigenvectors.
        t2: ``(K,)`` squared norms of the targets.
        n, d: number of samples and feature dimension (``d - k`` eigenvalues are zero).

    Returns:
        ``(evidence, alpha, beta)``: the maximum log evidence divided by ``n`` per target column
        and where it is attained.
    """
    k = sigma.shape[0]
    n_targets = x2.shape[1]
    r0 = np.maximum(t2 - x2.sum(axis=0), 0.0)  # energy outside the column space of F
    s = sigma[:, None]
    if k:
        lo, hi = float(np.log(sigma.min())) - margin, float(np.log(sigma.max())) + margin
    else:
        lo, hi = -margin, margin
    grid = np.arange(lo, hi + grid_step, grid_step)
    values = np.stack([_profile(np.full(n_targets, g), s, x2, r0, n) for g in grid])  # (G, K)
    best = np.argmax(values, axis=0)
    left = grid[np.maximum(best - 1, 0)]
    right = grid[np.minimum(best + 1, len(grid) - 1)]
    for _ in range(bisections):  # the slope is positive left of a maximum and negative right of it
        mid = (left + right) / 2
        up = _profile_slope(mid, s, x2, r0, n) > 0
        left = np.where(up, mid, left)
        right = np.where(up, right, mid)
    u = (left + right) / 2
    at_grid = grid[best]
    u = np.where(_profile(u, s, x2, r0, n) >= values[best, np.arange(n_targets)], u, at_grid)
    tau = np.exp(u)
    denom = s + tau
    m2 = np.sum(s * x2 / denom**2, axis=0)
    res2 = np.sum(x2 * (tau / denom) ** 2, axis=0) + r0
    beta = n / (res2 + tau * m2)
    alpha = tau * beta
    logdet = (d - k) * np.log(alpha) + np.log(alpha[None, :] + beta[None, :] * s).sum(axis=0)
    evidence = (
        d / 2 * np.log(alpha) + n / 2 * np.log(beta) - n / 2 * _LOG_2PI - beta / 2 * res2 - alpha / 2 * m2 - logdet / 2)
    return evidence / n, alpha, beta


@SCORES.register("logme", info=ScoreInfo(
    input="features", task="both", summary="maximum log evidence of a Bayesian linear head"))
def logme(features: Any, labels: Sequence[Hashable] | np.ndarray, regression: bool = False, *,
          device: str | torch.device | None = None) -> float:
    """LogME of ``features`` ``(N, D)`` for ``labels`` (higher predicts better transfer).

    Classification (default): the mean over one-vs-rest indicator targets of the classes present.
    ``regression=True``: ``labels`` are targets ``(N,)`` or ``(N, K)``, averaged over columns
    (multi-hot labels for multi-label tasks go here too). Features are used as given (no
    centring), as in the reference implementation.
    """
    f = check_rows(features)
    n, d = f.shape
    dev = resolve_device(device)
    if regression:
        sigma, x2, t2 = spectral_projections(f, check_targets(labels, n), device=dev)
    else:
        y, c = check_labels(labels, n)
        sigma, x2, t2 = spectral_projections(f, labels=y, n_classes=c, device=dev)
    evidence, _, _ = max_evidence(sigma, x2, t2, n, d)
    return float(np.mean(evidence))
