"""The shared eigen-solver of TCA and JDA: a projection that shrinks an MMD matrix."""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh
from scipy.spatial.distance import cdist


def marginal_mmd_matrix(ns: int, nt: int) -> np.ndarray:
    """``e e^T`` with ``e = [1/ns ... , -1/nt ...]``: ``tr(Z' M Z)`` is the squared mean gap."""
    e = np.r_[np.full(ns, 1.0 / ns), np.full(nt, -1.0 / nt)]
    return np.outer(e, e)


def conditional_mmd_matrix(ys: np.ndarray, yt_pseudo: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Sum over classes of the class-mean gap matrices (target classes from pseudo-labels)."""
    ns, nt = len(ys), len(yt_pseudo)
    M = np.zeros((ns + nt, ns + nt))
    for c in classes:
        s_idx = np.flatnonzero(ys == c)
        t_idx = ns + np.flatnonzero(yt_pseudo == c)
        if len(s_idx) == 0 or len(t_idx) == 0:
            continue
        e = np.zeros(ns + nt)
        e[s_idx] = 1.0 / len(s_idx)
        e[t_idx] = -1.0 / len(t_idx)
        M += np.outer(e, e)
    return M


def rbf_kernel(A: np.ndarray, B: np.ndarray, gamma: float) -> np.ndarray:
    """``exp(-gamma ||a - b||^2)``."""
    return np.exp(-gamma * cdist(A, B, "sqeuclidean"))


def mmd_projection(
    X: np.ndarray, M: np.ndarray, dim: int, mu: float, kernel: str = "linear", gamma: float = 1.0
) -> np.ndarray:
    """Projection maximising retained variance while shrinking ``tr(. M .)``.

    Linear kernel (primal, d x d): ``max tr(A' X'HX A)`` s.t. ``A'(X'MX + mu I)A = I``.
    RBF kernel (dual, n x n): the same with ``K`` in place of ``X``; returns coefficients
    over the training rows. Returns the top ``dim`` generalised eigenvectors.
    """
    n = len(X)
    H = np.eye(n) - 1.0 / n
    G = X if kernel == "linear" else rbf_kernel(X, X, gamma)
    if kernel not in ("linear", "rbf"):
        raise ValueError(f"kernel must be 'linear' or 'rbf', got {kernel!r}")
    a = G.T @ H @ G
    b = G.T @ M @ G + mu * np.eye(G.shape[1])
    a, b = (a + a.T) / 2, (b + b.T) / 2
    dim = min(dim, G.shape[1])
    _, vecs = eigh(a, b, subset_by_index=[G.shape[1] - dim, G.shape[1] - 1])
    return vecs[:, ::-1]
