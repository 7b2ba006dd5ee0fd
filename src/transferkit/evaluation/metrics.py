"""Task metrics, one registry: accuracy, balanced accuracy, macro-F1, AUROC, F1; MAE, RMSE, R².

Every metric is a plain function ``metric(y_true, outputs) -> float`` registered in
:data:`METRICS` with a :class:`MetricInfo` (task kind, higher-is-better, value range).
Classification metrics take labels ``(N,)`` and logits or probabilities ``(N, K)``; regression
metrics take targets and predictions of the same shape (``(N,)`` or ``(N, T)``, averaged over
targets). :func:`classification_metrics` and :func:`regression_metrics` compute every metric of
a task kind at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import softmax

from transferkit._registry import Registry
from transferkit.errors import DataError

MetricTask = Literal["classification", "regression"]


@dataclass(frozen=True)
class MetricInfo:
    """What a metric measures and how to read it.

    Attributes:
        task: ``classification`` (labels and logits/probabilities) or ``regression``.
        higher_is_better: whether a larger value is better.
        value_range: ``(low, high)`` bounds of the value (``math.inf`` for an open side).
        summary: one line for listings.
        binary_only: only defined for two classes (F1 of class 1); not part of the per-task
            summaries that work for any number of classes.
    """

    task: MetricTask
    higher_is_better: bool
    value_range: tuple[float, float]
    summary: str
    binary_only: bool = False

    def __post_init__(self) -> None:
        if self.task not in ("classification", "regression"):
            raise ValueError(f"MetricInfo.task must be classification or regression, got {self.task!r}")
        lo, hi = self.value_range
        if not lo < hi:
            raise ValueError(f"MetricInfo.value_range must be (low, high) with low < high, got {self.value_range}")


Metric = Callable[[np.ndarray, np.ndarray], float]
METRICS: Registry[Metric] = Registry("metric")


# --------------------------------------------------------------------------- classification
def _class_outputs(y_true: np.ndarray, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer labels and class probabilities (softmax of logits; probabilities pass through)."""
    y = np.asarray(y_true).astype(int).ravel()
    out = np.asarray(outputs, dtype=np.float64)
    if out.ndim != 2 or len(out) != len(y):
        raise DataError(f"need logits (N, K) for N={len(y)} labels, got {out.shape}")
    if not np.all(np.isfinite(out)):
        raise DataError("model outputs contain NaN or infinity")
    is_prob = np.all(out >= 0) and np.allclose(out.sum(1), 1.0, atol=1e-5)
    return y, (out if is_prob else softmax(out, axis=1))


@METRICS.register("accuracy", info=MetricInfo("classification", True, (0.0, 1.0), "share of correct predictions"))
def accuracy(y_true: np.ndarray, outputs: np.ndarray) -> float:
    """Share of rows whose highest output is the true class."""
    y, proba = _class_outputs(y_true, outputs)
    return float(np.mean(proba.argmax(1) == y))


@METRICS.register("balanced_accuracy", info=MetricInfo(
    "classification", True, (0.0, 1.0), "mean recall over the classes present"))
def balanced_accuracy(y_true: np.ndarray, outputs: np.ndarray) -> float:
    """Mean per-class recall over the classes in ``y_true`` (accuracy when only one is present)."""
    from sklearn.metrics import balanced_accuracy_score

    y, proba = _class_outputs(y_true, outputs)
    pred = proba.argmax(1)
    if len(np.unique(y)) < 2:
        return float(np.mean(pred == y))
    return float(balanced_accuracy_score(y, pred))


@METRICS.register("macro_f1", info=MetricInfo("classification", True, (0.0, 1.0), "F1 averaged over the classes present"))
def macro_f1(y_true: np.ndarray, outputs: np.ndarray) -> float:
    """F1 averaged over the classes present in ``y_true``."""
    from sklearn.metrics import f1_score

    y, proba = _class_outputs(y_true, outputs)
    return float(f1_score(y, proba.argmax(1), average="macro", labels=np.unique(y), zero_division=0))


@METRICS.register("auroc", info=MetricInfo(
    "classification", True, (0.0, 1.0), "area under the ROC curve (one-vs-rest macro; NaN with one class)"))
def auroc(y_true: np.ndarray, outputs: np.ndarray) -> float:
    """One-vs-rest macro AUROC over the classes present (binary: class 1); NaN with fewer than two classes."""
    from sklearn.metrics import roc_auc_score

    y, proba = _class_outputs(y_true, outputs)
    present = np.unique(y)
    if len(present) < 2:
        return float("nan")
    if proba.shape[1] == 2:
        return float(roc_auc_score(y, proba[:, 1]))
    return float(np.mean([roc_auc_score((y == c).astype(int), proba[:, c]) for c in present]))


@METRICS.register("f1", info=MetricInfo(
    "classification", True, (0.0, 1.0), "F1 of class 1 (binary tasks)", binary_only=True))
def f1(y_true: np.ndarray, outputs: np.ndarray) -> float:
    """F1 of the positive class 1 of a binary task."""
    from sklearn.metrics import f1_score

    y, proba = _class_outputs(y_true, outputs)
    if proba.shape[1] != 2 or not set(np.unique(y)) <= {0, 1}:
        raise DataError(f"f1 is for binary tasks (labels 0/1, two outputs), got {proba.shape[1]} outputs")
    return float(f1_score(y, proba.argmax(1), pos_label=1, zero_division=0))


# --------------------------------------------------------------------------- regression
def _reg_outputs(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
    p = np.asarray(y_pred, dtype=np.float64).reshape(len(y_pred), -1)
    if y.shape != p.shape:
        raise DataError(f"targets {y.shape} and predictions {p.shape} differ in shape")
    return y, p


@METRICS.register("mae", info=MetricInfo("regression", False, (0.0, math.inf), "mean absolute error"))
def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error over rows and targets."""
    y, p = _reg_outputs(y_true, y_pred)
    return float(np.abs(p - y).mean())


@METRICS.register("rmse", info=MetricInfo("regression", False, (0.0, math.inf), "root mean squared error"))
def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error over rows and targets."""
    y, p = _reg_outputs(y_true, y_pred)
    return float(np.sqrt(((p - y) ** 2).mean()))


@METRICS.register("r2", info=MetricInfo(
    "regression", True, (-math.inf, 1.0), "coefficient of determination (mean over targets)"))
def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """R² averaged over targets (a constant target gives NaN)."""
    y, p = _reg_outputs(y_true, y_pred)
    ss_tot = ((y - y.mean(0)) ** 2).sum(0)
    if not np.any(ss_tot > 0):
        return float("nan")
    return float(np.nanmean(1 - ((p - y) ** 2).sum(0) / np.where(ss_tot > 0, ss_tot, np.nan)))


# --------------------------------------------------------------------------- all at once
def metric_names(task: MetricTask, *, binary: bool = False) -> tuple[str, ...]:
    """The metrics of a task kind, in registration order; ``binary`` adds the binary-only ones."""
    return tuple(n for n in METRICS.names(sort=False)
                 if METRICS.info(n).task == task and (binary or not METRICS.info(n).binary_only))


def validation_score(name: str, y_true: np.ndarray, outputs: np.ndarray) -> float:
    """Metric ``name`` as a higher-is-better score for picking epochs and settings on validation data
    (lower-is-better metrics are negated; ``neg_rmse`` is ``-rmse``)."""
    key = "rmse" if name == "neg_rmse" else name
    value = METRICS.get(key)(y_true, outputs)
    return value if METRICS.info(key).higher_is_better else -value


def classification_metrics(y_true: np.ndarray, logits: np.ndarray, num_classes: int | None = None, *,
                           binary: bool = False) -> dict[str, float]:
    """Every classification metric for any number of classes, from labels and logits (or probabilities) ``(N, K)``.

    AUROC is one-vs-rest macro over the classes present in ``y_true`` (binary: positive class 1);
    it is NaN when fewer than two classes are present. ``binary`` adds the binary-only metrics (F1 of
    class 1). ``num_classes`` is accepted for compatibility; the width of ``logits`` gives the classes.
    """
    _class_outputs(y_true, logits)  # validate once, with the message of the first metric
    return {n: METRICS.get(n)(y_true, logits) for n in metric_names("classification", binary=binary)}


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Every regression metric (MAE, RMSE and R², averaged over targets)."""
    return {n: METRICS.get(n)(y_true, y_pred) for n in metric_names("regression")}


def confusion(y_true: np.ndarray, logits: np.ndarray, num_classes: int) -> list[list[int]]:
    """Confusion matrix (rows: true class, columns: predicted class)."""
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(np.asarray(y_true), np.asarray(logits).argmax(1), labels=list(range(num_classes))).tolist()


class _HigherIsBetter(Mapping[str, bool]):
    """Read-only ``metric name -> higher is better`` view of :data:`METRICS` (always current)."""

    def __getitem__(self, name: str) -> bool:
        return bool(METRICS.info(name).higher_is_better)

    def __iter__(self) -> Iterator[str]:
        return iter(METRICS.names())

    def __len__(self) -> int:
        return len(METRICS)

    def __repr__(self) -> str:
        return repr(dict(self))


HIGHER_IS_BETTER: Mapping[str, bool] = _HigherIsBetter()
