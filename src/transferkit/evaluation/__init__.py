"""Evaluation: task metrics, paired seeds with confidence intervals, the negative-transfer verdict."""

from transferkit.evaluation.metrics import HIGHER_IS_BETTER, classification_metrics, confusion, regression_metrics
from transferkit.evaluation.stats import VERDICT_ADVICE, PairedDifference, mean_ci, paired_difference, verdict

__all__ = [
    "HIGHER_IS_BETTER",
    "VERDICT_ADVICE",
    "PairedDifference",
    "classification_metrics",
    "confusion",
    "mean_ci",
    "paired_difference",
    "regression_metrics",
    "verdict",
]
