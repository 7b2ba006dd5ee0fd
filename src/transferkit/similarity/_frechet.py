"""Frechet distance between Gaussians fitted to two feature samples (as in FID).

Means and covariances are float64 moments on torch (no ``N x D`` copies). The cross term
``tr((C_S C_T)^1/2)`` is the nuclear norm of ``A B'`` for centred, scaled samples ``A``, ``B``
(``C_S = A'A``, ``C_T = B'B``): from the ``D x D`` matrices when ``D`` is at most the smaller sample,
otherwise from the singular values of the ``n_S x n_T`` matrix ``A B'``, so very wide features do
not need two ``D x D`` eigendecompositions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from transferkit._compute import column_mean, resolve_device, rows64, symmetric_eig
from transferkit.similarity._checks import check_pair, mean_and_covariance
from transferkit.similarity._info import DISTANCES, DistanceInfo


def _centred(x: np.ndarray, dev: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    mean = column_mean(x, dev)
    return mean, (rows64(x, 0, len(x), dev) - mean) / np.sqrt(len(x) - 1)


@DISTANCES.register("frechet", aliases=("frechet_distance", "fid"), info=DistanceInfo(
    summary="|mu_S - mu_T|^2 + tr(S + T - 2 (S T)^1/2) of fitted Gaussians"))
def frechet_distance(source: Any, target: Any, *, device: str | torch.device | None = None) -> float:
    """Squared Frechet (2-Wasserstein) distance between Gaussian fits of the two samples.

    Biased upwards for small samples (needs ``n >> D``); compare values only at equal sample
    sizes and with the same feature extractor.
    """
    xs, xt = check_pair(source, target, copy=False)
    dev = resolve_device(device)
    d = xs.shape[1]
    if d <= min(len(xs), len(xt)):
        ms, cs = mean_and_covariance(xs, dev)
        mt, ct = mean_and_covariance(xt, dev)
        w, v = symmetric_eig(cs, dev)
        root = torch.from_numpy((v * np.sqrt(np.clip(w, 0.0, None))) @ v.T).to(dev)
        inner, _ = symmetric_eig(root @ ct @ root, dev, eigenvectors=False)
        cross = float(np.sqrt(np.clip(inner, 0.0, None)).sum())
        traces = float(torch.trace(cs) + torch.trace(ct))
    else:  # wide: the n_S x n_T cross product of the centred samples
        ms, a = _centred(xs, dev)
        mt, b = _centred(xt, dev)
        cross = float(torch.linalg.svdvals(a @ b.T).sum())
        traces = float(a.square().sum() + b.square().sum())
    mean_term = float((ms - mt).square().sum())
    return float(max(mean_term + traces - 2.0 * cross, 0.0))
