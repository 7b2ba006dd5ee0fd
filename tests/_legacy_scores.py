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


# ----------------------------------------------------------------------------- MMD (numpy, as before)
from typing import Any, Literal  # noqa: E402

from transferkit.errors import DataError  # noqa: E402
from transferkit.similarity._mmd import MULTI_KERNEL_SCALES, QUADRATIC_LIMIT, Estimator, MMDResult  # noqa: E402
from transferkit.transferability._validate import canonical_order  # noqa: E402


def median_bandwidth(z: np.ndarray, max_rows: int = 1000, seed: int = 0) -> float:
    """Median pairwise Euclidean distance of (a seeded subset of) the pooled rows ``z``."""
    if len(z) > max_rows:
        z = z[np.random.default_rng(seed).choice(len(z), max_rows, replace=False)]
    d2 = _sq_dists(z, z)
    iu = np.triu_indices(len(z), k=1)
    med = float(np.sqrt(np.median(d2[iu])))
    if med <= 0:
        positive = d2[iu][d2[iu] > 0]
        med = float(np.sqrt(positive.min())) if positive.size else 1.0
    return med


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d2 = np.einsum("ij,ij->i", a, a)[:, None] + np.einsum("ij,ij->i", b, b)[None, :] - 2.0 * a @ b.T
    return np.maximum(d2, 0.0)


def _kernel(d2: np.ndarray, bandwidth: float, scales: tuple[float, ...]) -> np.ndarray:
    out = np.zeros_like(d2)
    for s in scales:
        out += np.exp(-d2 / (2.0 * bandwidth**2 * s))
    return out / len(scales)


def _unbiased_from_gram(k: np.ndarray, member: np.ndarray) -> np.ndarray:
    """MMD2_u for each column of the 0/1 membership matrix ``member`` (1 = first sample)."""
    diag = np.diag(k)
    a = member.astype(np.float64)
    b = 1.0 - a
    m, n = a.sum(axis=0), b.sum(axis=0)
    ka = k @ a
    kb = k @ b
    sxx = np.einsum("ip,ip->p", a, ka) - diag @ a
    syy = np.einsum("ip,ip->p", b, kb) - diag @ b
    sxy = np.einsum("ip,ip->p", a, kb)
    return sxx / (m * (m - 1)) + syy / (n * (n - 1)) - 2.0 * sxy / (m * n)


def _linear_stat(x: np.ndarray, y: np.ndarray, bandwidth: float, scales: tuple[float, ...]) -> float:
    half = min(len(x), len(y)) // 2
    x1, x2, y1, y2 = x[0 : 2 * half : 2], x[1 : 2 * half : 2], y[0 : 2 * half : 2], y[1 : 2 * half : 2]

    def k(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return _kernel(np.sum((a - b) ** 2, axis=1), bandwidth, scales)

    return float(np.mean(k(x1, x2) + k(y1, y2) - k(x1, y2) - k(x2, y1)))


def mmd_test(source: Any, target: Any, *, bandwidth: float | Literal["median"] = "median", multi_kernel: bool = False,
             estimator: Estimator = "auto", n_permutations: int = 200, seed: int = 0) -> MMDResult:
    """Squared MMD with a permutation-test p-value (``n_permutations=0`` skips the test).

    ``estimator="auto"`` uses the unbiased quadratic-time statistic up to ``QUADRATIC_LIMIT``
    pooled rows and the linear-time one above. The p-value is ``(1 + #{perm >= observed}) /
    (1 + n_permutations)`` over random reassignments of the pooled rows to the two samples.
    """
    xs, xt = np.asarray(source, dtype=np.float64), np.asarray(target, dtype=np.float64)
    if estimator not in ("auto", "unbiased", "linear"):
        raise DataError(f"estimator must be auto, unbiased or linear, got {estimator!r}")
    if n_permutations < 0:
        raise DataError("n_permutations must be >= 0")
    rng = np.random.default_rng(seed)
    # content-defined order, then a seeded shuffle: the result does not depend on the row order given
    xs = xs[canonical_order(xs)][rng.permutation(len(xs))]
    xt = xt[canonical_order(xt)][rng.permutation(len(xt))]
    z = np.vstack([xs, xt])
    bw = median_bandwidth(z, seed=seed) if bandwidth == "median" else float(bandwidth)
    if not bw > 0:
        raise DataError(f"bandwidth must be positive, got {bandwidth!r}")
    scales = MULTI_KERNEL_SCALES if multi_kernel else (1.0,)
    use = estimator
    if use == "auto":
        use = "unbiased" if len(z) <= QUADRATIC_LIMIT else "linear"
    m = len(xs)
    p_value = None
    if use == "unbiased":
        k = _kernel(_sq_dists(z, z), bw, scales)
        member = np.zeros((len(z), 1), dtype=bool)
        member[:m, 0] = True
        value = float(_unbiased_from_gram(k, member)[0])
        if n_permutations:
            null = []
            for start in range(0, n_permutations, 50):
                p = min(50, n_permutations - start)
                perm = np.stack([rng.permutation(len(z)) < m for _ in range(p)], axis=1)
                null.append(_unbiased_from_gram(k, perm))
            p_value = float((1 + np.sum(np.concatenate(null) >= value)) / (1 + n_permutations))
    else:
        value = _linear_stat(xs, xt, bw, scales)
        if n_permutations:
            count = 0
            for _ in range(n_permutations):
                idx = rng.permutation(len(z))
                count += _linear_stat(z[idx[:m]], z[idx[m:]], bw, scales) >= value
            p_value = float((1 + count) / (1 + n_permutations))
    return MMDResult(value, p_value, use, bw, n_permutations)




# ----------------------------------------------------------------------------- SFDA, NCTI, ETran (numpy, as before)
from scipy.special import logsumexp as _logsumexp  # noqa: E402
from scipy.special import softmax as _softmax_sp  # noqa: E402


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _fisher_probs(x: np.ndarray, y: np.ndarray, c: int, shrinkage: float | None = None) -> tuple[np.ndarray, float]:
    n, d = x.shape
    counts = np.bincount(y, minlength=c).astype(np.float64)
    means = _one_hot(y, c).T @ x / counts[:, None]
    centred = x - means[y]
    sw = centred.T @ centred / n
    lam, u = scipy.linalg.eigh(sw, check_finite=False)
    lam = np.clip(lam, 0.0, None)
    mu = float(np.trace(sw)) / d
    s = max(float(np.exp(-5.0 * lam[-1])), 1e-10) if shrinkage is None else float(shrinkage)
    w = (1.0 - s) * lam + s * mu
    coef = ((means @ u) / w) @ u.T
    intercept = -0.5 * np.einsum("kd,kd->k", means, coef) + np.log(counts / n)
    return _softmax(x @ coef.T + intercept), s


def sfda(f: np.ndarray, y: np.ndarray, shrinkage: float | None = None) -> float:
    x = np.asarray(f, dtype=np.float64)
    c = int(y.max()) + 1
    n = x.shape[0]
    probs, s = _fisher_probs(x, y, c, shrinkage)
    q = _softmax(probs)[np.arange(n), y][:, None]
    means = _one_hot(y, c).T @ x / np.bincount(y, minlength=c)[:, None]
    others = (means.sum(axis=0) - means) / (c - 1)
    mixed = q * x + (1.0 - q) * others[y]
    probs, _ = _fisher_probs(mixed, y, c, s)
    return float(np.mean(probs[np.arange(n), y]))


def ncti_terms(f: np.ndarray, y: np.ndarray) -> dict[str, float]:
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    x = np.asarray(f, dtype=np.float64)
    c = int(y.max()) + 1
    n = x.shape[0]
    pca = PCA(n_components=min(64, n, x.shape[1]), svd_solver="full")
    z = pca.fit_transform(x)
    shrink = max(float(np.exp(-pca.explained_variance_[:32].sum())), 1e-10)
    lda = (LinearDiscriminantAnalysis(solver="svd") if shrink == 1e-10
           else LinearDiscriminantAnalysis(solver="eigen", shrinkage=shrink))
    low = lda.fit_transform(z, y)
    low = low - low.mean(axis=0, keepdims=True)
    probs = lda.predict_proba(z)
    seli = float(np.linalg.svd(low, compute_uv=False).sum())
    ncc = float(np.mean(probs[np.arange(n), y]))
    vc = float(np.log(sum(np.linalg.svd(probs[y == k_], compute_uv=False).sum() for k_ in range(c))))
    return {"seli": seli, "ncc": ncc, "vc": vc}


def etran_terms(f: np.ndarray, y: np.ndarray, tail: float = 0.005) -> dict[str, float]:
    x = np.asarray(f, dtype=np.float64)
    e = np.sort(_logsumexp(x, axis=1))
    c = int(y.max()) + 1
    counts = np.bincount(y, minlength=c).astype(np.float64)
    means = _one_hot(y, c).T @ x / counts[:, None]
    logits = x @ means.T - 0.5 * np.einsum("kd,kd->k", means, means) + np.log(counts / len(y))
    lda = float(np.mean(_softmax_sp(logits, axis=1)[np.arange(len(y)), y]))
    return {"energy": float(e[:max(1, int(tail * len(e)))].mean()), "lda": lda}


# ----------------------------------------------------------------------------- PED (numpy, as before)
def _ped_push(z: np.ndarray, y: np.ndarray, c: int) -> np.ndarray:
    from scipy.spatial.distance import cdist

    counts = np.bincount(y, minlength=c).astype(np.float64)
    hot = _one_hot(y, c)
    means = hot.T @ z / counts[:, None]
    radius = np.sqrt((hot.T @ (z - means[y]) ** 2 / counts[:, None]).sum(axis=1))
    dist = cdist(means, means)
    overlap = np.maximum(0.6 * (radius[:, None] + radius[None, :]) - dist, 0.0)
    np.fill_diagonal(overlap, 0.0)
    move = np.minimum(0.5 * 0.1 ** 2 * overlap, overlap)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(dist > 0, move / dist, 0.0)
    return means * w.sum(axis=1, keepdims=True) - w @ means


def potential_energy_descent(f: np.ndarray, y: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    x = np.asarray(f, dtype=np.float64)
    c = int(y.max()) + 1
    ref = x if reference is None else np.asarray(reference, dtype=np.float64)
    mu, sd = ref.mean(axis=0), np.maximum(ref.std(axis=0), 1e-3)
    z = (x - mu) / sd
    first = 0.0
    for step in range(6):
        push = _ped_push(z, y, c)
        change = float(np.abs(push).sum())
        if step == 0:
            first = change
        if first == 0.0 or change / first <= 0.5:
            break
        z += push[y]
    return z * sd + mu
