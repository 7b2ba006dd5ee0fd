"""Task metrics: accuracy, balanced accuracy, macro-F1, AUROC; MAE, RMSE, R²."""

from __future__ import annotations

import numpy as np
from scipy.special import softmax

from transferkit.errors import DataError


def classification_metrics(y_true: np.ndarray, logits: np.ndarray, num_classes: int | None = None) -> dict[str, float]:
    """Metrics from labels and logits (or probabilities) ``(N, K)``.

    AUROC is one-vs-rest macro over the classes present in ``y_true`` (binary: positive class 1);
    it is NaN when fewer than two classes are present.
    """
    from sklearn.metrics import balanced_accuracy_score, f1_score, roc_auc_score

    y = np.asarray(y_true).astype(int)
    out = np.asarray(logits, dtype=np.float64)
    if out.ndim != 2 or len(out) != len(y):
        raise DataError(f"need logits (N, K) for N={len(y)} labels, got {out.shape}")
    if not np.all(np.isfinite(out)):
        raise DataError("model outputs contain NaN or infinity")
    k = num_classes or out.shape[1]
    is_prob = np.all(out >= 0) and np.allclose(out.sum(1), 1.0, atol=1e-5)
    proba = out if is_prob else softmax(out, axis=1)
    pred = proba.argmax(1)
    present = np.unique(y)
    res = {
        "accuracy": float(np.mean(pred == y)),
        "balanced_accuracy": float(balanced_accuracy_score(y, pred)) if len(present) > 1 else float(np.mean(pred == y)),
        "macro_f1": float(f1_score(y, pred, average="macro", labels=present, zero_division=0)),
    }
    auroc = float("nan")
    if len(present) > 1:
        if k == 2:
            auroc = float(roc_auc_score(y, proba[:, 1]))
        else:
            aucs = [roc_auc_score((y == c).astype(int), proba[:, c]) for c in present]
            auroc = float(np.mean(aucs))
    res["auroc"] = auroc
    return res


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE and R² (averaged over targets)."""
    y = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
    p = np.asarray(y_pred, dtype=np.float64).reshape(len(y_pred), -1)
    if y.shape != p.shape:
        raise DataError(f"targets {y.shape} and predictions {p.shape} differ in shape")
    err = p - y
    ss_tot = ((y - y.mean(0)) ** 2).sum(0)
    r2 = 1 - (err**2).sum(0) / np.where(ss_tot > 0, ss_tot, np.nan)
    return {"mae": float(np.abs(err).mean()), "rmse": float(np.sqrt((err**2).mean())), "r2": float(np.nanmean(r2))}


def confusion(y_true: np.ndarray, logits: np.ndarray, num_classes: int) -> list[list[int]]:
    """Confusion matrix (rows: true class, columns: predicted class)."""
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(np.asarray(y_true), np.asarray(logits).argmax(1), labels=list(range(num_classes))).tolist()


HIGHER_IS_BETTER = {"accuracy": True, "balanced_accuracy": True, "macro_f1": True, "auroc": True,
                    "mae": False, "rmse": False, "r2": True}
