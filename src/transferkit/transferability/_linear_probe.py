"""Cross-validated accuracy of a logistic-regression head on frozen features."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from transferkit.errors import DataError
from transferkit.transferability._guard import subsample_rows
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._validate import canonical_order, check_features, check_labels


def stratified_folds(y: np.ndarray, order: np.ndarray, n_folds: int) -> np.ndarray:
    """Fold id per sample: within each class, samples in ``order`` are dealt round-robin."""
    fold = np.empty(len(y), dtype=np.int64)
    ranked = y[order]
    for k in np.unique(y):
        pos = np.flatnonzero(ranked == k)
        # start each class where its first sample sits, so renaming classes changes nothing
        fold[order[pos]] = (np.arange(len(pos)) + int(pos[0])) % n_folds
    return fold


def cross_validated_correct(x: np.ndarray, y: np.ndarray, n_folds: int, c_reg: float) -> int:
    """Held-out rows that standardised L2 logistic regression gets right over content-defined stratified folds."""
    fold = stratified_folds(y, canonical_order(x, y), n_folds)
    correct = 0
    for k in range(n_folds):
        train, test = fold != k, fold == k
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c_reg, max_iter=2000)).fit(x[train], y[train])
        correct += int(np.sum(model.predict(x[test]) == y[test]))
    return correct


@SCORES.register("linear_probe_accuracy", aliases=("linear_probe",), info=ScoreInfo(
    input="features", summary="cross-validated logistic-regression accuracy"))
def linear_probe_accuracy(features: Any, labels: Sequence[Hashable] | np.ndarray, *, cv: int = 5,
                          c_reg: float = 1.0) -> float:
    """Accuracy of standardised L2 logistic regression over ``cv`` stratified folds.

    Folds are defined by sample content, not position, so the value is invariant to sample order.
    Above ``Limits.max_rows`` rows the folds are drawn from a seeded class-stratified subsample,
    with a note (see :mod:`transferkit.transferability._guard`).
    """
    f = check_features(features)
    y, c = check_labels(labels, f.shape[0])
    f, y = subsample_rows("linear_probe_accuracy", f, y, 2.0 * cv * 100 * f.shape[1] * max(c, 2))
    smallest = int(np.bincount(y).min())
    if smallest < 2:
        raise DataError("linear_probe_accuracy needs at least 2 samples of every class for cross-validation")
    n_folds = min(cv, smallest)
    if n_folds < 2:
        raise DataError(f"cv must be at least 2, got {cv}")
    return cross_validated_correct(f, y, n_folds, c_reg) / len(y)
