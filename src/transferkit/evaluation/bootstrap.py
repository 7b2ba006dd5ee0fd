"""Hierarchical paired bootstrap: an interval of "arm a minus arm b" that includes test-set noise.

A comparison over seeds has two sources of noise: training (which seed, which labelled subset,
which test split) and the test examples themselves (with small data often the larger one). One
bootstrap replicate resamples the seeds with replacement, then, within each drawn seed, resamples
its test examples with replacement; both arms are scored on the *same* resampled examples
(paired), the difference is averaged over the drawn seeds, and the 2.5th and 97.5th percentiles
of the replicates give the 95% interval, clipped to what the metric can reach.

With few seeds a plain percentile bootstrap of the seed stage is too narrow (three seeds give a
bootstrap variance of two thirds of the sample variance, and normal rather than Student-t
tails), so each drawn seed's deviation from the mean is stretched by ``sqrt(S / (S - 1)) *
t(S-1) / z``: the seed stage then has the width of the paired t-interval over seeds, and the
example stage adds the test-set noise. ``seed_stage="t"`` draws the seed stage from Student-t
directly instead (same calibration in the simulations of tests/test_verdict_calibration.py).

Resampling examples with replacement is the same as drawing multinomial counts over the
distinct (label, prediction a, prediction b) rows, which is how it is computed here: one weight
matrix per seed, and every supported metric is a function of weighted sums.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from transferkit.evaluation.stats import PairedDifference

METHOD = ("hierarchical paired bootstrap (seeds, then test examples within each seed, both arms on the same "
          "examples), percentile 95%")
METHOD_T = ("two-level paired bootstrap (test examples within each seed, both arms on the same examples; seed "
            "variation as Student-t), percentile 95%")
METHOD_ONE_SEED = "paired bootstrap over test examples (one seed: training randomness not included), percentile 95%"
CLASS_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "f1")
REGRESSION_METRICS = ("mae", "rmse", "r2")
SUPPORTED = CLASS_METRICS + REGRESSION_METRICS
"""Metrics computed from hard predictions (classification) or predicted values (regression)."""


@dataclass(frozen=True)
class SeedPredictions:
    """One seed's test labels and both arms' predictions on those same examples (``b`` None: one arm)."""

    y: np.ndarray
    a: np.ndarray
    b: np.ndarray | None = None


BootstrapInterval = PairedDifference
"""What :func:`hierarchical_bootstrap` returns: mean, percentile interval, per-seed values and the method."""


def _weighted_metric(name: str, w: np.ndarray, y: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    """``name`` for each row of example weights ``w`` (B, n) over labels ``y`` and predictions ``p``."""
    n = w.sum(1)
    if name in REGRESSION_METRICS:
        yy, pp = y.reshape(len(y), -1).astype(np.float64), p.reshape(len(p), -1).astype(np.float64)
        err = pp - yy
        if name == "mae":
            return (w @ np.abs(err)).mean(1) / n
        if name == "rmse":
            return np.sqrt((w @ err**2).mean(1) / n)
        ss_res = w @ err**2
        ss_tot = w @ yy**2 - (w @ yy) ** 2 / n[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(ss_tot > 1e-12, 1 - ss_res / np.where(ss_tot > 1e-12, ss_tot, 1.0), np.nan)
        return np.nanmean(np.where(np.isnan(r).all(1, keepdims=True), np.nan, r), axis=1) if r.size else r
    onehot = np.zeros((len(y), k * k))
    onehot[np.arange(len(y)), y.astype(int) * k + p.astype(int)] = 1.0
    conf = (w @ onehot).reshape(-1, k, k)  # (B, true, predicted)
    tp = np.diagonal(conf, axis1=1, axis2=2)
    support, predicted = conf.sum(2), conf.sum(1)
    if name == "accuracy":
        return tp.sum(1) / n
    present = support > 0
    if name == "balanced_accuracy":
        recall = np.divide(tp, support, out=np.zeros_like(tp), where=present)
        return recall.sum(1) / present.sum(1)
    denom = support + predicted
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    if name == "macro_f1":
        return (f1 * present).sum(1) / present.sum(1)
    if name == "f1":
        return f1[:, 1]
    raise ValueError(f"the bootstrap supports {SUPPORTED}, not {name!r}")


def metric_from_predictions(name: str, y: np.ndarray, pred: np.ndarray, num_classes: int | None = None) -> float:
    """``name`` of hard predictions (classification) or values (regression): the same figure the
    metric registry gives for outputs whose highest entry is ``pred``."""
    k = _classes(name, [y, pred], num_classes)
    return float(_weighted_metric(name, np.ones((1, len(y))), np.asarray(y), np.asarray(pred), k)[0])


def _classes(name: str, arrays: Sequence[np.ndarray], num_classes: int | None) -> int:
    if name in REGRESSION_METRICS:
        return 0
    top = max(int(np.max(a)) for a in arrays if len(a)) + 1
    return max(top, num_classes or 0, 2)


def _seed_scale(s: int, confidence: float) -> float:
    """How much a drawn seed's deviation from the mean is stretched (0 with one seed: nothing to resample)."""
    if s < 2:
        return 0.0
    z = stats.norm.ppf(0.5 + confidence / 2)
    return math.sqrt(s / (s - 1)) * float(stats.t.ppf(0.5 + confidence / 2, df=s - 1)) / z


def _compress(g: SeedPredictions) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """Distinct (y, a, b) rows and how often each occurs (resampling rows = multinomial over these)."""
    cols = [np.asarray(g.y), np.asarray(g.a)] + ([np.asarray(g.b)] if g.b is not None else [])
    table = np.column_stack([c.reshape(len(c), -1).astype(np.float64) for c in cols])
    rows, counts = np.unique(table, axis=0, return_counts=True)
    ny = np.asarray(g.y).reshape(len(g.y), -1).shape[1]
    na = np.asarray(g.a).reshape(len(g.a), -1).shape[1]
    y, a = rows[:, :ny].squeeze(1) if ny == 1 else rows[:, :ny], rows[:, ny:ny + na]
    a = a.squeeze(1) if na == 1 else a
    b = None
    if g.b is not None:
        b = rows[:, ny + na:]
        b = b.squeeze(1) if b.shape[1] == 1 else b
    return y, a, b, counts


def _stat(name: str, w: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray | None, k: int,
          sign: float) -> np.ndarray:
    va = _weighted_metric(name, w, y, a, k)
    return sign * (va - _weighted_metric(name, w, y, b, k)) if b is not None else va


def hierarchical_bootstrap(seeds: Sequence[SeedPredictions], metric: str, *, higher_is_better: bool = True,
                           value_range: tuple[float, float] = (-math.inf, math.inf), num_classes: int | None = None,
                           n_boot: int = 2000, confidence: float = 0.95, rng: int | np.random.Generator = 0,
                           seed_stage: str = "resample") -> BootstrapInterval:
    """Percentile interval of the mean over seeds of ``metric(a) - metric(b)`` (of ``metric(a)`` without ``b``).

    With ``higher_is_better=False`` the difference is ``b - a``, so a positive value always means
    "``a`` is better". The interval is clipped to ``value_range`` for one arm, and to
    ``±(high - low)`` for a difference. ``num_classes``: at least this many classes (labels are
    ``0..K-1``). Seeds may have different test examples (each seed's own split). ``seed_stage``:
    ``resample`` (default) or ``t`` (see the module notes).
    """
    if not seeds:
        raise ValueError("need at least one seed")
    if metric not in SUPPORTED:
        raise ValueError(f"the bootstrap supports {SUPPORTED}, not {metric!r}")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    paired = seeds[0].b is not None
    if any((g.b is not None) != paired or len(g.y) == 0 or len(g.a) != len(g.y) or
           (g.b is not None and len(g.b) != len(g.y)) for g in seeds):
        raise ValueError("every seed needs labels and predictions of the same non-zero length, all paired or none")
    k = _classes(metric, [np.asarray(x) for g in seeds for x in (g.y, g.a, g.b) if x is not None], num_classes)
    sign = 1.0 if higher_is_better or not paired else -1.0
    packed = [_compress(g) for g in seeds]
    observed = np.array([_stat(metric, c[None, :].astype(np.float64), y, a, b, k, sign)[0]
                         for y, a, b, c in packed])
    s = len(seeds)
    mean = float(np.nanmean(observed))
    if seed_stage == "resample":  # seeds with replacement, then each drawn seed's examples (scaled, see above)
        drawn = gen.integers(s, size=(n_boot, s))
        seed_part = np.nanmean((observed[drawn] - mean) * _seed_scale(s, confidence), axis=1)
    elif seed_stage == "t":  # the seed mean's sampling error drawn from Student-t with S - 1 degrees of freedom
        drawn = np.tile(np.arange(s), (n_boot, 1))
        sd = float(np.std(observed, ddof=1)) if s > 1 else 0.0
        seed_part = gen.standard_t(max(s - 1, 1), size=n_boot) * sd / math.sqrt(s) if s > 1 else np.zeros(n_boot)
    else:
        raise ValueError(f"seed_stage must be 't' or 'resample', got {seed_stage!r}")
    example_part = np.empty((n_boot, s))
    for j in range(s):
        for i, (y, a, b, counts) in enumerate(packed):
            rows = np.flatnonzero(drawn[:, j] == i)
            if not len(rows):
                continue
            w = gen.multinomial(int(counts.sum()), counts / counts.sum(), size=len(rows)).astype(np.float64)
            example_part[rows, j] = _stat(metric, w, y, a, b, k, sign) - observed[i]
    reps = mean + seed_part + np.nanmean(example_part, axis=1)
    alpha = (1 - confidence) / 2
    lo, hi = (float(v) for v in np.nanquantile(reps, [alpha, 1 - alpha]))
    low, high = value_range
    if paired:
        span = high - low
        low, high = -span, span
    lo, hi = min(max(lo, low), high), min(max(hi, low), high)
    lo, hi = min(lo, mean), max(hi, mean)
    method = METHOD_ONE_SEED if s == 1 else (METHOD if seed_stage == "resample" else METHOD_T)
    return PairedDifference(mean, lo, hi, tuple(float(v) for v in observed), confidence, method)
