"""Frechet distance between Gaussians fitted to two feature samples (as in FID)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

from transferkit.similarity._checks import check_pair, covariance
from transferkit.similarity._info import DISTANCES, DistanceInfo


def psd_sqrt(a: np.ndarray) -> np.ndarray:
    """Symmetric square root of a positive semi-definite matrix (negative round-off clipped)."""
    w, v = scipy.linalg.eigh(a, check_finite=False)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


@DISTANCES.register("frechet", aliases=("frechet_distance", "fid"), info=DistanceInfo(
    summary="|mu_S - mu_T|^2 + tr(S + T - 2 (S T)^1/2) of fitted Gaussians"))
def frechet_distance(source: Any, target: Any) -> float:
    """Squared Frechet (2-Wasserstein) distance between Gaussian fits of the two samples.

    Biased upwards for small samples (needs ``n >> D``); compare values only at equal sample
    sizes and with the same feature extractor.
    """
    xs, xt = check_pair(source, target)
    mean_term = float(np.sum((xs.mean(axis=0) - xt.mean(axis=0)) ** 2))
    cs, ct = covariance(xs), covariance(xt)
    root = psd_sqrt(cs)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root @ ct @ root), 0.0, None)).sum()
    return float(max(mean_term + np.trace(cs) + np.trace(ct) - 2.0 * cross, 0.0))
