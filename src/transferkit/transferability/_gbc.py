"""GBC: Gaussian Bhattacharyya coefficient between classes (Pandy et al., CVPR 2022).

The principal directions come from the ``D x D`` covariance (float64 moments on torch, no ``N x D``
copy and no SVD with its ``N x D`` left factor); the projected class means come from the class
sums and the per-class variances from one more chunked pass over the rows. Wide features (``D > N``) take
the directions from the ``N x N`` Gram matrix instead. The class pairs are
evaluated in blocks on torch, so many classes cost ``C^2 x dim`` arithmetic, not a Python loop.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Literal

import numpy as np
import torch

from transferkit._compute import chunks, column_mean, moments, resolve_device, row_gram, symmetric_eig
from transferkit.errors import DataError
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._validate import check_labels, check_rows


def class_gaussians(f: np.ndarray, y: np.ndarray, c: int, n_components: int,
                    dev: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-class means and (biased) variances ``(C, dim)`` of the centred features on their top
    ``n_components`` principal directions (at most ``N``; all directions, unrotated, when
    ``D <= n_components``)."""
    n, d = f.shape
    if d > max(n, n_components):  # wide: directions from the N x N Gram matrix, z = U sigma
        w, u = symmetric_eig(row_gram(f, dev, column_mean(f, dev)), dev)
        top = np.argsort(-w, kind="stable")[:min(n_components, n)]
        z = torch.from_numpy(u[:, top] * np.sqrt(np.clip(w[top], 0.0, None))).to(dev)
        yt = torch.from_numpy(y).to(dev)
        counts = torch.bincount(yt, minlength=c).to(torch.float64)[:, None]
        means = torch.zeros((c, z.shape[1]), dtype=torch.float64, device=dev).index_add_(0, yt, z) / counts
        sq = torch.zeros_like(means).index_add_(0, yt, (z - means[yt]).square())
        return means, sq / counts
    mom = moments(f, y, c, device=dev)
    assert mom.class_sums is not None and mom.counts is not None
    if d <= n_components:
        basis = torch.eye(d, dtype=torch.float64, device=dev)
    else:
        w, v = symmetric_eig(mom.gram, dev)
        top = np.argsort(-w, kind="stable")[:min(n_components, n)]  # a thin SVD has min(N, D) directions
        basis = torch.from_numpy(np.ascontiguousarray(v[:, top])).to(dev)
    means = (mom.class_sums @ basis) / mom.counts[:, None]
    sq = torch.zeros_like(means)
    yt = torch.from_numpy(y).to(dev)
    for start, stop, part in chunks(f, dev):
        z = (part - mom.mean) @ basis
        sq.index_add_(0, yt[start:stop], (z - means[yt[start:stop]]).square())
    return means, sq / mom.counts[:, None]


def pair_overlap(means: torch.Tensor, var: torch.Tensor, block: int = 64) -> float:
    """``sum_{i != j} exp(-D_B(i, j))`` over ordered class pairs of diagonal Gaussians."""
    c = len(means)
    logv = var.log()
    total = torch.zeros((), dtype=torch.float64, device=means.device)
    for start in range(0, c, block):
        stop = min(start + block, c)
        avg = (var[start:stop, None, :] + var[None, :, :]) / 2
        db = 0.125 * ((means[start:stop, None, :] - means[None, :, :]).square() / avg).sum(dim=2) + 0.5 * (
            avg.log() - 0.5 * logv[start:stop, None, :] - 0.5 * logv[None, :, :]).sum(dim=2)
        bc = torch.exp(-db)
        rows = torch.arange(start, stop, device=means.device)
        bc[rows - start, rows] = 0.0
        total += bc.sum()
    return float(total)


@SCORES.register("gbc", info=ScoreInfo(
    input="features", summary="minus the summed Bhattacharyya overlap of class Gaussians"))
def gbc(features: Any, labels: Sequence[Hashable] | np.ndarray, *, n_components: int = 64,
        gaussian: Literal["spherical", "diagonal"] = "spherical", min_variance: float = 1e-4,
        device: str | torch.device | None = None) -> float:
    """``-sum_{i != j} BC(c_i, c_j)`` over ordered class pairs, in ``[-C(C-1), 0]``.

    Features are PCA-reduced to ``n_components`` dimensions; each class is a Gaussian with a
    spherical (one variance) or diagonal covariance, variances floored at ``min_variance``.
    The spherical log-determinant counts all dimensions (the reference code counts it once).
    """
    if gaussian not in ("spherical", "diagonal"):
        raise DataError(f"gaussian must be 'spherical' or 'diagonal', got {gaussian!r}")
    f = check_rows(features)
    y, c = check_labels(labels, f.shape[0])
    dev = resolve_device(device)
    means, var = class_gaussians(f, y, c, n_components, dev)
    if gaussian == "spherical":
        var = var.mean(dim=1, keepdim=True).expand_as(var)
    return -pair_overlap(means, var.clamp(min=min_variance))
