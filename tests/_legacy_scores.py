"""The numpy float64 implementations the torch scores replaced (as on main before the rewrite).

Kept only as references: the tests check the torch versions equal them within 1e-5 relative.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from sklearn.covariance import LedoitWolf


def _one_hot(y: np.ndarray, c: int) -> np.ndarray:
    out = np.zeros((len(y), c))
    out[np.arange(len(y)), y] = 1.0
    return out


def _trace_pinv_product(cov_f: np.ndarray, cov_g: np.ndarray) -> float:
    w, v = scipy.linalg.eigh(cov_f, check_finite=False)
    keep = w > max(float(w.max()), 0.0) * len(w) * np.finfo(np.float64).eps * 10
    proj = v[:, keep]
    return float(np.sum((proj.T @ cov_g * proj.T).sum(axis=1) / w[keep]))


def _class_mean_matrix(centred: np.ndarray, y: np.ndarray, c: int) -> np.ndarray:
    onehot = _one_hot(y, c)
    return (onehot.T @ centred / onehot.sum(axis=0)[:, None])[y]


def h_score(f: np.ndarray, y: np.ndarray) -> float:
    f = np.asarray(f, dtype=np.float64)
    c = int(y.max()) + 1
    fc = f - f.mean(axis=0)
    g = _class_mean_matrix(fc, y, c)
    n = f.shape[0]
    return _trace_pinv_product(fc.T @ fc / (n - 1), g.T @ g / (n - 1))


def regularized_h_score(f: np.ndarray, y: np.ndarray) -> float:
    f = np.asarray(f, dtype=np.float64)
    c = int(y.max()) + 1
    fc = f - f.mean(axis=0)
    lw = LedoitWolf(assume_centered=False).fit(fc)
    g = _class_mean_matrix(fc, y, c)
    return (1.0 - float(lw.shrinkage_)) * _trace_pinv_product(lw.covariance_, g.T @ g / (f.shape[0] - 1))


def gbc(f: np.ndarray, y: np.ndarray, n_components: int = 64, gaussian: str = "spherical",
        min_variance: float = 1e-4) -> float:
    f = np.asarray(f, dtype=np.float64)
    c = int(y.max()) + 1
    fc = f - f.mean(axis=0)
    if f.shape[1] <= n_components:
        z = fc
    else:
        _, _, vt = np.linalg.svd(fc, full_matrices=False)
        z = fc @ vt[:n_components].T
    dim = z.shape[1]
    means = np.stack([z[y == k].mean(axis=0) for k in range(c)])
    var = np.stack([z[y == k].var(axis=0) for k in range(c)])
    if gaussian == "spherical":
        var = np.repeat(var.mean(axis=1, keepdims=True), dim, axis=1)
    var = np.maximum(var, min_variance)
    total = 0.0
    for i in range(c):
        for j in range(i + 1, c):
            avg = (var[i] + var[j]) / 2
            db = 0.125 * np.sum((means[i] - means[j]) ** 2 / avg) + 0.5 * np.sum(
                np.log(avg) - 0.5 * np.log(var[i]) - 0.5 * np.log(var[j]))
            total += 2.0 * np.exp(-db)
    return float(-total)


def leep(probs: np.ndarray, y: np.ndarray) -> float:
    probs = np.asarray(probs, dtype=np.float64)
    probs = probs / probs.sum(axis=1, keepdims=True)
    c = int(y.max()) + 1
    joint = probs.T @ _one_hot(y, c) / len(y)
    marg = joint.sum(axis=1, keepdims=True)
    cond = np.full_like(joint, 1.0 / c)
    np.divide(joint, marg, out=cond, where=marg > 0)
    return float(np.mean(np.log(np.einsum("iz,iz->i", probs, cond[:, y].T))))


def transrate(f: np.ndarray, y: np.ndarray, eps2: float = 1e-4) -> float:
    def coding_rate(z: np.ndarray, scale: float) -> float:
        gram = z @ z.T if z.shape[0] < z.shape[1] else z.T @ z
        return float(0.5 * np.sum(np.log1p(scale * np.clip(np.linalg.eigvalsh(gram), 0.0, None))))

    f = np.asarray(f, dtype=np.float64)
    c = int(y.max()) + 1
    norms = np.linalg.norm(f, axis=1, keepdims=True)
    z = f / np.where(norms > 0, norms, 1.0)
    z = z - z.mean(axis=0)
    n, d = z.shape
    total = coding_rate(z, d / (n * eps2))
    within = sum(len(z[y == k]) / n * coding_rate(z[y == k], d / (len(z[y == k]) * eps2)) for k in range(c))
    return float(total - within)


def covariance(x: np.ndarray) -> np.ndarray:
    xc = x - x.mean(axis=0)
    return xc.T @ xc / (x.shape[0] - 1)


def coral(xs: np.ndarray, xt: np.ndarray) -> float:
    diff = covariance(xs) - covariance(xt)
    return float(np.sum(diff * diff) / (4.0 * xs.shape[1] ** 2))


def frechet(xs: np.ndarray, xt: np.ndarray) -> float:
    mean_term = float(np.sum((xs.mean(axis=0) - xt.mean(axis=0)) ** 2))
    cs, ct = covariance(xs), covariance(xt)
    w, v = scipy.linalg.eigh(cs, check_finite=False)
    root = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root @ ct @ root), 0.0, None)).sum()
    return float(max(mean_term + np.trace(cs) + np.trace(ct) - 2.0 * cross, 0.0))
