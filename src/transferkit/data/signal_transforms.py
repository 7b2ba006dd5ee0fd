"""Label-free per-group transforms for multichannel signals ``(N, C, T)``: EEG, EMG, inertial.

Every function takes the signal array and one group id per trial (a subject, a recording, a
session) and transforms each group with statistics of that group alone, never labels:

* ``channel_standardize``: per group and channel, subtract the mean and divide by the standard
  deviation (over that group's trials and time points).
* ``euclidean_align``: Euclidean alignment (He & Wu, IEEE TBME 2020). Per group the mean spatial
  covariance ``R = (1/n) sum_i X_i X_i^T / T`` is computed and every trial becomes ``R^{-1/2} X_i``,
  so the mean covariance of each group is the identity. (The paper omits the ``1/T``; it only
  rescales all trials by the same constant.)

Because only a group's own inputs are used, the same call applies identically to source subjects
and to a new target subject (its unlabelled windows are enough).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from transferkit.data.dataset import Dataset
from transferkit.errors import DataArgumentError, DataError

SIGNAL_NORMS: tuple[str, ...] = ("none", "channel", "ea", "channel+ea")


def _check(x: np.ndarray, groups: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(x)
    if arr.ndim != 3:
        raise DataError(f"signal transforms need an array (N, C, T), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise DataError(f"signals must be numeric, got {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise DataError("signals contain NaN or infinite values: impute or drop those trials first")
    g = np.zeros(len(arr), dtype=np.int64) if groups is None else np.asarray(groups)
    if g.ndim != 1 or len(g) != len(arr):
        raise DataError(f"need one group id per trial: {len(arr)} trials but groups of shape {g.shape}")
    return arr.astype(np.float64), g


def _per_group(x: np.ndarray, groups: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    out = np.empty_like(x)
    for gid in np.unique(groups):
        m = groups == gid
        out[m] = fn(x[m])
    return out


def channel_standardize(x: np.ndarray, groups: np.ndarray | None = None, eps: float = 1e-8) -> np.ndarray:
    """Standardise every channel within each group (mean 0, std 1 over the group's trials and time).

    Args:
        x: signals ``(N, C, T)``.
        groups: one id per trial (``None``: all trials form one group).
        eps: channels with a smaller standard deviation are only centred.

    Returns:
        float32 array of the same shape.
    """
    arr, g = _check(x, groups)

    def fn(block: np.ndarray) -> np.ndarray:
        mean = block.mean(axis=(0, 2), keepdims=True)
        std = block.std(axis=(0, 2), keepdims=True)
        return (block - mean) / np.where(std > eps, std, 1.0)

    return _per_group(arr, g, fn).astype(np.float32)


def inverse_sqrt_psd(mat: np.ndarray, shrinkage: float = 0.0, eps: float = 1e-10) -> np.ndarray:
    """``mat^{-1/2}`` of a symmetric positive (semi-)definite matrix via its eigendecomposition.

    ``shrinkage`` in [0, 1) mixes ``mat`` with ``trace(mat)/C * I`` first (for rank-deficient
    covariances, e.g. fewer samples than channels); eigenvalues below ``eps * max`` are clipped.
    """
    if not 0.0 <= shrinkage < 1.0:
        raise DataError(f"shrinkage must be in [0, 1), got {shrinkage}")
    c = mat.shape[0]
    m = (1 - shrinkage) * mat + shrinkage * np.trace(mat) / c * np.eye(c)
    m = (m + m.T) / 2
    w, v = np.linalg.eigh(m)
    if w.max() <= 0:
        raise DataError("the covariance is zero: a group whose signals are all constant cannot be aligned")
    w = np.maximum(w, eps * w.max())
    return (v / np.sqrt(w)) @ v.T


def mean_covariance(x: np.ndarray) -> np.ndarray:
    """Mean spatial covariance ``(1/n) sum_i X_i X_i^T / T`` of trials ``(n, C, T)``."""
    arr = np.asarray(x, dtype=np.float64)
    return np.einsum("nct,ndt->cd", arr, arr) / (arr.shape[0] * arr.shape[2])


def euclidean_align(x: np.ndarray, groups: np.ndarray | None = None, shrinkage: float = 0.0,
                    center: bool = False) -> np.ndarray:
    """Euclidean alignment: whiten each group's trials by the inverse square root of its mean covariance.

    Args:
        x: signals ``(N, C, T)``.
        groups: one id per trial (a subject / recording); ``None``: one group.
        shrinkage: regularise the mean covariance toward a scaled identity (0 = plain EA).
        center: first remove each trial's per-channel time mean (as EEG pipelines do after
            band-pass filtering; off by default so offsets like gravity stay visible).

    Returns:
        float32 array of the same shape; per group, ``mean_covariance`` of the result is ``I``
        (exactly so when ``shrinkage`` is 0 and the covariance has full rank).
    """
    arr, g = _check(x, groups)
    if center:
        arr = arr - arr.mean(axis=2, keepdims=True)

    def fn(block: np.ndarray) -> np.ndarray:
        r_inv = inverse_sqrt_psd(mean_covariance(block), shrinkage)
        return np.einsum("cd,ndt->nct", r_inv, block)

    return _per_group(arr, g, fn).astype(np.float32)


def normalize_signals(x: np.ndarray, groups: np.ndarray | None, method: str = "none") -> np.ndarray:
    """Apply one of :data:`SIGNAL_NORMS` (``none``, ``channel``, ``ea``, ``channel+ea``) per group."""
    if method not in SIGNAL_NORMS:
        raise DataArgumentError(f"unknown signal normalisation {method!r}: use one of {', '.join(SIGNAL_NORMS)}")
    out = np.asarray(x, dtype=np.float32)
    if method in ("channel", "channel+ea"):
        out = channel_standardize(out, groups)
    if method in ("ea", "channel+ea"):
        out = euclidean_align(out, groups)
    if method == "none":
        _check(out, groups)
    return out


def normalize_dataset(ds: Dataset, method: str = "none", groups: np.ndarray | None = None) -> Dataset:
    """A copy of a signal :class:`Dataset` transformed per group (default: ``ds.groups``)."""
    if ds.kind != "signal":
        raise DataError(f"{ds.name}: signal normalisation needs kind 'signal', got {ds.kind!r}")
    g = ds.groups if groups is None else np.asarray(groups)
    if g is None and method != "none":
        raise DataError(f"{ds.name}: has no group ids (subjects/recordings); pass groups=... "
                        "to normalise per group")
    from dataclasses import replace

    x = normalize_signals(ds.x, g, method)
    return replace(ds, x=x, meta={**ds.meta, "signal_norm": method})
