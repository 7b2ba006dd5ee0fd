"""Evaluation: task metrics, paired seeds with confidence intervals, the negative-transfer verdict."""

from transferkit.evaluation.metrics import (
    HIGHER_IS_BETTER,
    METRICS,
    MetricInfo,
    classification_metrics,
    confusion,
    metric_names,
    regression_metrics,
    validation_score,
)
from transferkit.evaluation.stats import VERDICT_ADVICE, PairedDifference, mean_ci, paired_difference, verdict

__all__ = [
    "HIGHER_IS_BETTER",
    "METRICS",
    "VERDICT_ADVICE",
    "MetricInfo",
    "PairedDifference",
    "classification_metrics",
    "confusion",
    "mean_ci",
    "metric_names",
    "paired_difference",
    "regression_metrics",
    "validation_score",
    "verdict",
]
