"""Input checks for two-sample measures."""

from __future__ import annotations

from typing import Any

import numpy as np

from transferkit.errors import DataError
from transferkit.transferability._validate import check_features


def check_pair(source: Any, target: Any, min_rows: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Both samples as finite float64 ``(n, D)`` arrays with the same ``D`` and enough rows."""
    xs = check_features(source, "source features")
    xt = check_features(target, "target features")
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


def covariance(x: np.ndarray) -> np.ndarray:
    """Unbiased covariance of the rows of ``x`` (``n - 1`` denominator)."""
    xc = x - x.mean(axis=0)
    return xc.T @ xc / (x.shape[0] - 1)
