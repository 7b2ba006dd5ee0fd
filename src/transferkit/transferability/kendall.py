"""Weighted Kendall tau: how well a transferability ranking agrees with measured accuracies."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import weightedtau

from transferkit.errors import DataError


def weighted_kendall_tau(scores: Sequence[float] | np.ndarray, accuracies: Sequence[float] | np.ndarray) -> float:
    """Weighted Kendall tau between scores and fine-tuned accuracies of the same models.

    Uses scipy's ``weightedtau`` defaults (hyperbolic weights ``1/(r + 1)``, averaged over the
    rankings induced by both arguments), the convention of the transferability literature: swaps
    among the top models weigh more. 1 means the same order, -1 the reversed order.
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    a = np.asarray(accuracies, dtype=np.float64).ravel()
    if s.shape != a.shape:
        raise DataError(f"{s.size} scores but {a.size} accuracies: give one of each per model")
    if s.size < 2:
        raise DataError("weighted Kendall tau needs at least 2 models")
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(a))):
        raise DataError("scores and accuracies must be finite numbers")
    return float(weightedtau(s, a).statistic)
