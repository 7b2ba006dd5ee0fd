"""The shared eigen-solver of TCA and JDA: a projection that shrinks an MMD matrix.

The MMD matrix ``M`` is kept in factored form ``M = E E^T`` (one column of ``E`` per mean gap),
so ``X^T M X = (X^T E)(X^T E)^T`` never builds an ``n x n`` matrix.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh
from sklearn.metrics.pairwise import euclidean_distances


def marginal_mmd_factor(ns: int, nt: int) -> np.ndarray:
    """``e`` with ``e = [1/ns ... , -1/nt ...]``: ``||Z^T e||^2`` is the squared mean gap."""
    return np.r_[np.full(ns, 1.0 / ns), np.full(nt, -1.0 / nt)][:, None]


def conditional_mmd_factor(ys: np.ndarray, yt_pseudo: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """One column per class present in both domains: class-mean gap (target from pseudo-labels)."""
    ns, nt = len(ys), len(yt_pseudo)
    cols = []
    for c in classes:
        s_idx = np.flatnonzero(ys == c)
        t_idx = ns + np.flatnonzero(yt_pseudo == c)
        if len(s_idx) == 0 or len(t_idx) == 0:
            continue
        e = np.zeros(ns + nt)
        e[s_idx] = 1.0 / len(s_idx)
        e[t_idx] = -1.0 / len(t_idx)
        cols.append(e)
    return np.stack(cols, axis=1) if cols else np.zeros((ns + nt, 0))


def normalize_factor(E: np.ndarray) -> np.ndarray:
    """Scale ``E`` so that ``||E E^T||_F = 1`` (as the JDA authors normalise ``M``)."""
    norm = np.linalg.norm(E.T @ E)
    return E / np.sqrt(norm) if norm > 0 else E


def sqdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between rows (through matrix products, clipped at 0)."""
    return np.maximum(euclidean_distances(a, b, squared=True), 0.0)


def rbf_kernel(A: np.ndarray, B: np.ndarray, gamma: float) -> np.ndarray:
    """``exp(-gamma ||a - b||^2)``."""
    return np.exp(-gamma * sqdist(A, B))


def mmd_projection(X: np.ndarray, E: np.ndarray, dim: int, mu: float, kernel: str = "linear",
                   gamma: float = 1.0) -> np.ndarray:
    """Projection maximising retained variance while shrinking ``tr(. E E^T .)``.

    Linear kernel (primal, d x d): ``max tr(A' X'HX A)`` s.t. ``A'(X'MX + mu I)A = I`` with
    ``H`` the centring matrix. RBF kernel (dual, n x n): the same with ``K`` in place of ``X``;
    the result are coefficients over the training rows. Returns the top ``dim`` generalised
    eigenvectors, largest first.
    """
    if kernel not in ("linear", "rbf"):
        raise ValueError(f"kernel must be 'linear' or 'rbf', got {kernel!r}")
    G = X if kernel == "linear" else rbf_kernel(X, X, gamma)
    n, p = G.shape
    mean = G.mean(0)
    a = G.T @ G - n * np.outer(mean, mean)
    GE = G.T @ E
    b = GE @ GE.T + mu * np.eye(p)
    a, b = (a + a.T) / 2, (b + b.T) / 2
    dim = min(dim, p)
    _, vecs = eigh(a, b, subset_by_index=[p - dim, p - 1])
    return vecs[:, ::-1]
