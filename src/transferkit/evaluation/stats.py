"""Paired comparisons over seeds: mean difference, 95% confidence interval, verdict.

The runner's verdict comes from :func:`comparison_verdict`: besides the interval it refuses to
call a winner on too few test examples per class, with one seed, or against a baseline that never
trained (``insufficient test data`` / ``baseline failed to train``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

VERDICT_ADVICE = {
    "positive": "Transfer helped: keep the transferred model.",
    "inconclusive": ("The difference is within noise: add seeds or labelled data, or try another backbone or "
                     "strategy (e.g. `--strategy auto`); rank candidates first with `transferkit rank`."),
    "negative": ("Negative transfer: the source hurt. Use the scratch model, or try a closer source (check "
                 "`transferkit similarity`), freeze fewer layers, a smaller learning rate, or L2-SP/LP-FT."),
    "insufficient test data": ("No verdict: some class has too few test examples for the interval to mean much. "
                               "Give an official test set (--target-test), or more labelled data so the test "
                               "split is larger; lowering --min-test-per-class only hides the problem."),
    "baseline failed to train": ("No verdict: the scratch baseline never left chance on validation, so beating it "
                                 "proves nothing. Give it more epochs (--epochs) or a larger budget, and compare "
                                 "with the classical baseline reported beside it."),
}
INSUFFICIENT = "insufficient test data"
BASELINE_FAILED = "baseline failed to train"
NO_VERDICT = (INSUFFICIENT, BASELINE_FAILED)
"""Verdicts that make no call (neither positive nor negative)."""


@dataclass(frozen=True)
class PairedDifference:
    """Per-seed differences ``a - b`` with their mean and a confidence interval (Student-t over seeds unless
    ``method`` names another, such as :func:`~transferkit.evaluation.bootstrap.hierarchical_bootstrap`)."""

    mean: float
    ci_low: float
    ci_high: float
    per_seed: tuple[float, ...]
    confidence: float = 0.95
    method: str = "paired Student-t interval over seeds"

    @property
    def verdict(self) -> str:
        """``positive`` (interval above 0), ``negative`` (below 0) or ``inconclusive``."""
        return verdict(self.ci_low, self.ci_high)


def paired_difference(a: np.ndarray | list[float], b: np.ndarray | list[float], confidence: float = 0.95,
                      higher_is_better: bool = True) -> PairedDifference:
    """Mean of ``a - b`` over paired seeds and its Student-t confidence interval.

    With lower-is-better metrics pass ``higher_is_better=False``: the difference is then ``b - a``
    so a positive value always means "``a`` is better". One seed gives an unbounded interval.
    """
    a_, b_ = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a_.shape != b_.shape or a_.ndim != 1 or len(a_) == 0:
        raise ValueError(f"paired scores need two equal-length 1-D arrays, got {a_.shape} and {b_.shape}")
    d = (a_ - b_) if higher_is_better else (b_ - a_)
    m = float(d.mean())
    if len(d) < 2:
        return PairedDifference(m, -np.inf, np.inf, tuple(d.tolist()), confidence)
    se = float(d.std(ddof=1) / np.sqrt(len(d)))
    if se == 0.0:
        return PairedDifference(m, m, m, tuple(d.tolist()), confidence)
    half = float(stats.t.ppf(0.5 + confidence / 2, df=len(d) - 1) * se)
    return PairedDifference(m, m - half, m + half, tuple(d.tolist()), confidence)


def verdict(ci_low: float, ci_high: float) -> str:
    """The negative-transfer verdict from a confidence interval of (transfer - scratch)."""
    if ci_low > 0:
        return "positive"
    if ci_high < 0:
        return "negative"
    return "inconclusive"


def comparison_verdict(ci_low: float, ci_high: float, *, n_seeds: int, min_class_count: int | None = None,
                       min_test_per_class: int = 10, baseline_trained: bool = True) -> str:
    """The verdict of a paired comparison, from the interval of the improvement and the evidence behind it.

    ``insufficient test data`` when some class has fewer than ``min_test_per_class`` test examples
    (``min_class_count``, the smallest over classes and seeds; None for regression); ``baseline failed
    to train`` when the baseline never left chance; ``inconclusive`` with fewer than two seeds
    (training randomness is then unmeasured); else :func:`verdict` of the interval.
    """
    if min_class_count is not None and min_class_count < min_test_per_class:
        return INSUFFICIENT
    if not baseline_trained:
        return BASELINE_FAILED
    if n_seeds < 2:
        return "inconclusive"
    return verdict(ci_low, ci_high)


def mean_ci(values: np.ndarray | list[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of independent values."""
    v = np.asarray(values, dtype=np.float64)
    m = float(v.mean())
    if len(v) < 2 or v.std() == 0:
        return m, m, m
    half = float(stats.t.ppf(0.5 + confidence / 2, df=len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return m, m - half, m + half
