"""CORAL distance (Sun & Saenko, 2016): squared difference of second-order statistics."""

from __future__ import annotations

from typing import Any

import numpy as np

from transferkit.similarity._checks import check_pair, covariance
from transferkit.similarity._info import DISTANCES, DistanceInfo


@DISTANCES.register("coral", aliases=("coral_distance",), info=DistanceInfo(
    summary="|Cov_S - Cov_T|_F^2 / (4 D^2): covariance mismatch (ignores means)"))
def coral_distance(source: Any, target: Any) -> float:
    """``||C_S - C_T||_F^2 / (4 D^2)`` with unbiased covariances (the paper's loss, no mean term)."""
    xs, xt = check_pair(source, target)
    d = xs.shape[1]
    diff = covariance(xs) - covariance(xt)
    return float(np.sum(diff * diff) / (4.0 * d * d))
