"""CORAL distance (Sun & Saenko, 2016): squared difference of second-order statistics."""

from __future__ import annotations

from typing import Any

import torch

from transferkit._compute import resolve_device
from transferkit.similarity._checks import check_pair, mean_and_covariance
from transferkit.similarity._info import DISTANCES, DistanceInfo


@DISTANCES.register("coral", aliases=("coral_distance",), info=DistanceInfo(
    summary="|Cov_S - Cov_T|_F^2 / (4 D^2): covariance mismatch (ignores means)"))
def coral_distance(source: Any, target: Any, *, device: str | torch.device | None = None) -> float:
    """``||C_S - C_T||_F^2 / (4 D^2)`` with unbiased covariances (the paper's loss, no mean term)."""
    xs, xt = check_pair(source, target, copy=False)
    dev = resolve_device(device)
    d = xs.shape[1]
    diff = mean_and_covariance(xs, dev)[1] - mean_and_covariance(xt, dev)[1]
    return float(diff.square().sum() / (4.0 * d * d))
