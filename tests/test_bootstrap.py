"""The hierarchical paired bootstrap: same figures as the metric registry, the same interval as a slow
obvious implementation, clipped to what a metric can reach, and narrower with more test examples."""

from __future__ import annotations

import numpy as np
import pytest

from transferkit.evaluation.bootstrap import (
    METHOD,
    METHOD_ONE_SEED,
    SeedPredictions,
    _seed_scale,
    hierarchical_bootstrap,
    metric_from_predictions,
)
from transferkit.evaluation.metrics import METRICS


def _onehot(pred: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[pred]


@pytest.mark.parametrize("name", ["accuracy", "balanced_accuracy", "macro_f1", "f1"])
def test_class_metrics_match_the_registry(name: str) -> None:
    rng = np.random.default_rng(0)
    k = 2 if name == "f1" else 4
    for _ in range(20):
        n = int(rng.integers(3, 40))
        y, p = rng.integers(0, k, n), rng.integers(0, k, n)
        assert metric_from_predictions(name, y, p, k) == pytest.approx(METRICS.get(name)(y, _onehot(p, k)), abs=1e-12)


@pytest.mark.parametrize("name", ["mae", "rmse", "r2"])
def test_regression_metrics_match_the_registry(name: str) -> None:
    rng = np.random.default_rng(1)
    y, p = rng.normal(size=30), rng.normal(size=30)
    assert metric_from_predictions(name, y, p) == pytest.approx(METRICS.get(name)(y, p), abs=1e-12)


def _slow(seeds: list[SeedPredictions], name: str, k: int, n_boot: int, rng: np.random.Generator,
          hib: bool = True) -> tuple[float, float]:
    """The obvious implementation: loops, index resampling, metrics written out class by class."""
    def m(y: np.ndarray, p: np.ndarray) -> float:
        if name == "accuracy":
            return float(np.mean(y == p))
        if name == "rmse":
            return float(np.sqrt(np.mean((y - p) ** 2)))
        present = [c for c in range(k) if np.any(y == c)]
        if name == "balanced_accuracy":
            return float(np.mean([np.mean(p[y == c] == c) for c in present]))
        f1s = []
        for c in present:  # macro-F1 over the classes in y
            tp, fp, fn = np.sum((p == c) & (y == c)), np.sum((p == c) & (y != c)), np.sum((p != c) & (y == c))
            f1s.append(2 * tp / (2 * tp + fp + fn))
        return float(np.mean(f1s))

    sign = 1.0 if hib else -1.0
    d = np.array([sign * (m(g.y, g.a) - m(g.y, g.b)) for g in seeds])
    mean, s = d.mean(), len(seeds)
    scale = _seed_scale(s, 0.95)
    reps = []
    for _ in range(n_boot):
        parts = []
        for c in rng.integers(s, size=s):
            g = seeds[c]
            idx = rng.integers(len(g.y), size=len(g.y))
            star = sign * (m(g.y[idx], g.a[idx]) - m(g.y[idx], g.b[idx]))
            parts.append((d[c] - mean) * scale + (star - d[c]))
        reps.append(mean + np.mean(parts))
    lo, hi = np.quantile(reps, [0.025, 0.975])
    return float(lo), float(hi)


@pytest.mark.parametrize("name", ["accuracy", "macro_f1", "balanced_accuracy", "rmse"])
def test_fast_bootstrap_agrees_with_the_slow_obvious_one(name: str) -> None:
    rng = np.random.default_rng(2)
    k = 3
    seeds = []
    for n in (12, 15, 18):
        y = rng.integers(0, k, n) if name != "rmse" else rng.normal(size=n)
        if name == "rmse":
            a, b = y + rng.normal(0, 0.5, n), y + rng.normal(0, 0.8, n)
        else:
            a = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))
            b = np.where(rng.random(n) < 0.5, y, rng.integers(0, k, n))
        seeds.append(SeedPredictions(y, a, b))
    hib = name != "rmse"
    fast = hierarchical_bootstrap(seeds, name, higher_is_better=hib, num_classes=k if hib else None, n_boot=6000,
                                  rng=3)
    lo, hi = _slow(seeds, name, k, 3000, np.random.default_rng(4), hib)
    tol = 0.03 if hib else 0.05
    assert fast.ci_low == pytest.approx(lo, abs=tol) and fast.ci_high == pytest.approx(hi, abs=tol)
    assert fast.method == METHOD


def test_interval_is_clipped_to_the_metric_range_and_holds_the_mean() -> None:
    # 20 test images, transfer right on all, scratch on none: the raw interval would pass +100 points
    y = np.arange(20) % 10
    seeds = [SeedPredictions(y, y.copy(), (y + 1) % 10) for _ in range(3)]
    seeds[0] = SeedPredictions(y, np.where(np.arange(20) < 8, y, (y + 1) % 10), (y + 1) % 10)
    bi = hierarchical_bootstrap(seeds, "accuracy", value_range=(0.0, 1.0), num_classes=10, rng=0)
    assert -1.0 <= bi.ci_low <= bi.mean <= bi.ci_high <= 1.0
    one = hierarchical_bootstrap(seeds[1:2], "accuracy", value_range=(0.0, 1.0), num_classes=10, rng=0)
    assert one.ci_high == 1.0 and one.method == METHOD_ONE_SEED


def test_more_test_examples_give_a_narrower_interval_and_test_noise_counts() -> None:
    rng = np.random.default_rng(5)

    def seeds(n: int) -> list[SeedPredictions]:
        out = []
        for _ in range(3):
            y = rng.integers(0, 2, n)
            out.append(SeedPredictions(y, np.where(rng.random(n) < 0.8, y, 1 - y),
                                       np.where(rng.random(n) < 0.75, y, 1 - y)))
        return out

    small, large = (hierarchical_bootstrap(seeds(n), "accuracy", rng=0) for n in (30, 3000))
    assert small.ci_high - small.ci_low > 2 * (large.ci_high - large.ci_low)
    # identical per-seed differences: a seeds-only interval would have zero width; test noise remains
    y = rng.integers(0, 2, 40)
    a, b = np.where(rng.random(40) < 0.8, y, 1 - y), np.where(rng.random(40) < 0.7, y, 1 - y)
    same = hierarchical_bootstrap([SeedPredictions(y, a, b)] * 3, "accuracy", rng=0)
    assert same.ci_high - same.ci_low > 0.1


def test_lower_is_better_is_oriented_and_bad_input_is_refused() -> None:
    y = np.linspace(0, 1, 30)
    good, bad = y + 0.01, y + 0.5
    bi = hierarchical_bootstrap([SeedPredictions(y, good, bad)] * 2, "rmse", higher_is_better=False, rng=0)
    assert bi.mean > 0 and bi.ci_low > 0
    with pytest.raises(ValueError, match="supports"):
        hierarchical_bootstrap([SeedPredictions(y, good, bad)], "auroc")
    with pytest.raises(ValueError, match="same non-zero length"):
        hierarchical_bootstrap([SeedPredictions(y, good[:3], bad)], "rmse")
