"""Input checks for two-sample measures, and the covariances they share."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from transferkit._compute import moments
from transferkit.errors import DataError
from transferkit.transferability._validate import check_features, check_rows


def check_pair(source: Any, target: Any, min_rows: int = 2, copy: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Both samples as finite ``(n, D)`` arrays with the same ``D`` and enough rows.

    ``copy=False``: float32 and float64 arrays are checked in place, without a float64 copy.
    """
    check = check_features if copy else check_rows
    xs = check(source, "source features")
    xt = check(target, "target features")
    if xs.shape[1] != xt.shape[1]:
        raise DataError(f"source features have {xs.shape[1]} columns but target features {xt.shape[1]}: "
                        "extract both with the same backbone")
    for name, x in (("source", xs), ("target", xt)):
        if x.shape[0] < min_rows:
            raise DataError(f"{name} sample has {x.shape[0]} rows; this measure needs at least {min_rows}")
    return xs, xt


def label_strings(labels: Any) -> np.ndarray:
    """Labels as strings, one per row (so ``3`` and ``"3"`` name the same class)."""
    return np.array([str(v) for v in np.asarray(labels, dtype=object).ravel()])


def mean_and_covariance(x: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Float64 mean and unbiased covariance of the rows of ``x``, chunk by chunk on ``device``."""
    mom = moments(x, device=device)
    return mom.mean, mom.gram / (x.shape[0] - 1)
