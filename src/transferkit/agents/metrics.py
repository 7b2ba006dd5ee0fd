"""Transfer metrics on learning curves (Taylor & Stone, JMLR 2009): plain functions.

A curve is ``(steps, returns)``: the mean evaluation return at each environment-step count,
the first point at step 0 (before any training on the target task).
"""

from __future__ import annotations

import numpy as np

from transferkit.errors import TransferkitError


def _curve(steps: np.ndarray | list[float], values: np.ndarray | list[float]) -> tuple[np.ndarray, np.ndarray]:
    s, v = np.asarray(steps, dtype=np.float64), np.asarray(values, dtype=np.float64)
    if s.ndim != 1 or s.shape != v.shape or len(s) == 0:
        raise TransferkitError(f"a learning curve needs equal-length 1-D steps and values, got {s.shape}, {v.shape}")
    if np.any(np.diff(s) <= 0):
        raise TransferkitError("learning-curve steps must be strictly increasing")
    if not np.all(np.isfinite(v)):
        raise TransferkitError("learning-curve values contain NaN or infinity")
    return s, v


def area_under_curve(steps: np.ndarray | list[float], values: np.ndarray | list[float]) -> float:
    """Trapezoidal area under the curve divided by its length in steps: the mean return over training."""
    s, v = _curve(steps, values)
    if len(s) == 1:
        return float(v[0])
    return float(np.trapezoid(v, s) / (s[-1] - s[0]))


def time_to_threshold(steps: np.ndarray | list[float], values: np.ndarray | list[float],
                      threshold: float) -> float | None:
    """The first step whose evaluation return is >= ``threshold``; ``None`` if never reached."""
    s, v = _curve(steps, values)
    hit = np.flatnonzero(v >= threshold)
    return float(s[hit[0]]) if len(hit) else None


def asymptotic_return(values: np.ndarray | list[float], last: int = 3) -> float:
    """Mean of the last ``last`` evaluation returns (final performance)."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or len(v) == 0:
        raise TransferkitError("asymptotic return needs a non-empty 1-D curve")
    return float(v[-min(last, len(v)):].mean())


def jumpstart(transfer_values: np.ndarray | list[float], scratch_values: np.ndarray | list[float]) -> float:
    """Initial performance with transfer minus without (first points of the two curves)."""
    return float(np.asarray(transfer_values, dtype=np.float64)[0] - np.asarray(scratch_values, dtype=np.float64)[0])


def transfer_ratio(auc_transfer: float, auc_scratch: float) -> float:
    """``(AUC_transfer - AUC_scratch) / |AUC_scratch|`` (undefined, NaN, when the scratch area is 0)."""
    if auc_scratch == 0:
        return float("nan")
    return float((auc_transfer - auc_scratch) / abs(auc_scratch))
