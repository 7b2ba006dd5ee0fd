import numpy as np
import pytest
from scipy import stats

from transferkit.errors import DataError
from transferkit.evaluation import classification_metrics, mean_ci, paired_difference, regression_metrics, verdict


def test_paired_difference_matches_a_paired_t_interval():
    a = np.array([0.81, 0.84, 0.80, 0.86, 0.83])
    b = np.array([0.75, 0.80, 0.79, 0.78, 0.77])
    d = paired_difference(a, b)
    res = stats.ttest_rel(a, b)
    ci = res.confidence_interval(0.95)
    assert d.mean == pytest.approx((a - b).mean())
    assert (d.ci_low, d.ci_high) == pytest.approx((ci.low, ci.high))
    assert d.verdict == "positive"
    assert paired_difference(b, a).verdict == "negative"
    assert paired_difference([0.8, 0.7, 0.9], [0.75, 0.8, 0.82]).verdict == "inconclusive"
    # lower-is-better metrics flip the sign so positive always means "a is better"
    assert paired_difference([1.0, 1.1, 0.9], [2.0, 2.2, 1.9], higher_is_better=False).mean > 0


def test_verdict_and_mean_ci():
    assert verdict(0.01, 0.2) == "positive" and verdict(-0.3, -0.01) == "negative" and verdict(-0.1, 0.1) == "inconclusive"
    m, lo, hi = mean_ci([1.0, 2.0, 3.0])
    assert m == 2.0 and lo < 2.0 < hi
    one = paired_difference([0.9], [0.8])
    assert one.verdict == "inconclusive"  # a single seed proves nothing


def test_classification_metrics():
    y = np.array([0, 0, 1, 1, 2, 2])
    logits = np.eye(3)[[0, 0, 1, 2, 2, 2]] * 5
    m = classification_metrics(y, logits)
    assert m["accuracy"] == pytest.approx(5 / 6)
    assert m["balanced_accuracy"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert 0.5 < m["auroc"] <= 1.0
    with pytest.raises(DataError):
        classification_metrics(y, logits[:3])
    with pytest.raises(DataError):
        classification_metrics(y, np.full((6, 3), np.nan))


def test_regression_metrics():
    m = regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    assert m["mae"] == pytest.approx(1 / 3) and m["rmse"] == pytest.approx(np.sqrt(1 / 3)) and m["r2"] == pytest.approx(0.5)
