"""Maximum mean discrepancy with Gaussian kernels (Gretton et al., JMLR 2012).

Squared MMD between samples ``X`` (m rows) and ``Y`` (n rows), unbiased U-statistic::

    MMD2_u = mean_{i != j} k(x_i, x_j) + mean_{i != j} k(y_i, y_j) - 2 mean_{i, j} k(x_i, y_j)

(it can be slightly negative when the distributions agree). The linear-time estimator pairs
consecutive samples and costs O(n). Bandwidth: ``sigma`` = median pairwise distance of the pooled
sample (median heuristic), kernel ``exp(-|x - y|^2 / (2 sigma^2))``; the multi-kernel option
averages kernels with ``sigma^2`` scaled by ``2^-3 .. 2^1`` (the DAN/TLlib family).

Kernels and statistics are float64 on torch (CUDA when present). The permutation test never copies
the pooled sample: the quadratic statistic is recomputed from the one kernel matrix for a block of
permutations at once, and the linear one from index pairs, chunk by chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from transferkit._compute import resolve_device
from transferkit.errors import DataError
from transferkit.similarity._checks import check_pair
from transferkit.similarity._info import DISTANCES, DistanceInfo
from transferkit.transferability._validate import canonical_order

MULTI_KERNEL_SCALES: tuple[float, ...] = (0.125, 0.25, 0.5, 1.0, 2.0)
QUADRATIC_LIMIT = 6000  # pooled rows above which "auto" switches to the linear-time estimator

Estimator = Literal["auto", "unbiased", "linear"]


@dataclass(frozen=True)
class MMDResult:
    """Squared MMD, its permutation p-value (None without permutations) and how it was computed."""

    value: float
    p_value: float | None
    estimator: str
    bandwidth: float
    n_permutations: int


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


def _sq_dists(a: Any, b: Any) -> Any:
    """Squared Euclidean distances, clipped at 0 (numpy or torch, whichever comes in)."""
    if isinstance(a, torch.Tensor):
        d2 = a.square().sum(dim=1)[:, None] + b.square().sum(dim=1)[None, :] - 2.0 * a @ b.T
        return d2.clamp_(min=0.0)
    d2 = np.einsum("ij,ij->i", a, a)[:, None] + np.einsum("ij,ij->i", b, b)[None, :] - 2.0 * a @ b.T
    return np.maximum(d2, 0.0)


def _kernel(d2: torch.Tensor, bandwidth: float, scales: tuple[float, ...]) -> torch.Tensor:
    out = torch.zeros_like(d2)
    for s in scales:
        out += torch.exp(-d2 / (2.0 * bandwidth**2 * s))
    return out / len(scales)


def _unbiased_from_gram(k: torch.Tensor, member: torch.Tensor) -> torch.Tensor:
    """MMD2_u for each column of the 0/1 membership matrix ``member`` (1 = first sample)."""
    diag = torch.diagonal(k)
    a = member.to(k.dtype)
    b = 1.0 - a
    m, n = a.sum(dim=0), b.sum(dim=0)
    ka = k @ a
    kb = k @ b
    sxx = (a * ka).sum(dim=0) - diag @ a
    syy = (b * kb).sum(dim=0) - diag @ b
    sxy = (a * kb).sum(dim=0)
    return sxx / (m * (m - 1)) + syy / (n * (n - 1)) - 2.0 * sxy / (m * n)


def _linear_stat(z: torch.Tensor, first: torch.Tensor, second: torch.Tensor, bandwidth: float,
                 scales: tuple[float, ...], chunk: int = 8192) -> float:
    """Linear-time MMD2 of the rows ``z[first]`` and ``z[second]`` (index tensors), without copying ``z``."""
    half = min(len(first), len(second)) // 2
    total = 0.0
    for start in range(0, half, chunk):
        stop = min(start + chunk, half)
        x1, x2 = first[2 * start:2 * stop:2], first[2 * start + 1:2 * stop:2]
        y1, y2 = second[2 * start:2 * stop:2], second[2 * start + 1:2 * stop:2]

        def k(i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
            return _kernel((z[i] - z[j]).square().sum(dim=1), bandwidth, scales)

        total += float((k(x1, x2) + k(y1, y2) - k(x1, y2) - k(x2, y1)).sum())
    return total / half


def mmd_test(source: Any, target: Any, *, bandwidth: float | Literal["median"] = "median", multi_kernel: bool = False,
             estimator: Estimator = "auto", n_permutations: int = 200, seed: int = 0,
             device: str | torch.device | None = None) -> MMDResult:
    """Squared MMD with a permutation-test p-value (``n_permutations=0`` skips the test).

    ``estimator="auto"`` uses the unbiased quadratic-time statistic up to ``QUADRATIC_LIMIT``
    pooled rows and the linear-time one above. The p-value is ``(1 + #{perm >= observed}) /
    (1 + n_permutations)`` over random reassignments of the pooled rows to the two samples.
    """
    xs, xt = check_pair(source, target)
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
    dev = resolve_device(device)
    zt = torch.from_numpy(z).to(dev)
    if use == "unbiased":
        k = _kernel(_sq_dists(zt, zt), bw, scales)
        member = torch.zeros((len(z), 1), dtype=torch.bool, device=dev)
        member[:m, 0] = True
        value = float(_unbiased_from_gram(k, member)[0])
        if n_permutations:
            null = []
            for start in range(0, n_permutations, 50):
                p = min(50, n_permutations - start)
                perm = np.stack([rng.permutation(len(z)) < m for _ in range(p)], axis=1)
                null.append(_unbiased_from_gram(k, torch.from_numpy(perm).to(dev)).cpu().numpy())
            p_value = float((1 + np.sum(np.concatenate(null) >= value)) / (1 + n_permutations))
    else:
        rows = torch.arange(len(z), device=dev)
        value = _linear_stat(zt, rows[:m], rows[m:], bw, scales)
        if n_permutations:
            count = 0
            for _ in range(n_permutations):
                idx = torch.from_numpy(rng.permutation(len(z))).to(dev)
                count += _linear_stat(zt, idx[:m], idx[m:], bw, scales) >= value
            p_value = float((1 + count) / (1 + n_permutations))
    return MMDResult(value, p_value, use, bw, n_permutations)


@DISTANCES.register("mmd", info=DistanceInfo(
    value_range="about [-0.01, 2]", randomized=True,
    summary="unbiased squared MMD, Gaussian kernel with median-heuristic bandwidth"))
def mmd(source: Any, target: Any, *, bandwidth: float | Literal["median"] = "median", multi_kernel: bool = False,
        estimator: Estimator = "auto", seed: int = 0, device: str | torch.device | None = None) -> float:
    """Squared MMD between the two samples (see :func:`mmd_test` for the p-value)."""
    return mmd_test(source, target, bandwidth=bandwidth, multi_kernel=multi_kernel, estimator=estimator,
                    n_permutations=0, seed=seed, device=device).value
