"""Plain readings for the similarity report: one line per distance, the source model's accuracy, and
the column-scale check that standardises raw features of very different scales before distances."""

from __future__ import annotations

from typing import Any

import numpy as np

# largest column spread over the median column spread above which features are standardised ("auto").
# Raw heart-disease tables (cholesterol next to 0/1 flags) measure 96-118; raw images, signals and
# network features 1-23 (EfficientNet-Lite0 on digits 22.6).
SCALE_RATIO_LIMIT = 50.0
STANDARDIZE_MODES = ("auto", "always", "never")


def column_scale_ratio(xs: np.ndarray, xt: np.ndarray) -> tuple[float, int]:
    """``(largest / median standard deviation of the non-constant columns, index of the largest)``, pooled."""
    sd = np.vstack([xs, xt]).std(axis=0)
    varying = sd > 0
    if not varying.any():
        return 1.0, 0
    top = int(np.argmax(sd))
    return float(sd[top] / np.median(sd[varying])), top


def standardize_pair(xs: np.ndarray, xt: np.ndarray, mode: str = "auto") -> tuple[np.ndarray, np.ndarray, dict]:
    """``xs, xt`` z-scored with their *pooled* mean and spread when ``mode`` asks for it, and a record.

    ``auto`` standardises when the column scales differ by more than :data:`SCALE_RATIO_LIMIT`
    (largest over median standard deviation): otherwise one column (a cholesterol value next to 0/1
    flags, a feature in other units) decides every distance. Pooled statistics keep the shift between
    the two sides visible (z-scoring each side on its own would erase a mean shift). Constant columns
    are only centred. The record says what was done and why.
    """
    if mode not in STANDARDIZE_MODES:
        from transferkit.errors import DataArgumentError

        raise DataArgumentError(f"standardize must be one of {', '.join(STANDARDIZE_MODES)}, got {mode!r}")
    ratio, top = column_scale_ratio(xs, xt)
    apply = mode == "always" or (mode == "auto" and ratio > SCALE_RATIO_LIMIT)
    record: dict[str, Any] = {"mode": mode, "column_scale_ratio": ratio, "largest_column": top, "standardized": apply}
    if not apply:
        return xs, xt, record
    pooled = np.vstack([xs, xt])
    mu, sd = pooled.mean(axis=0), pooled.std(axis=0)
    sd[sd == 0] = 1.0
    if mode == "auto":
        record["note"] = (f"feature columns differ in scale by a factor of {ratio:.3g} (column {top} has the largest "
                          "spread): standardised with the pooled source + target mean and standard deviation "
                          "before every distance (--standardize never keeps the raw scale)")
    return (xs - mu) / sd, (xt - mu) / sd, record


def measure_context(xs: np.ndarray, xt: np.ndarray) -> dict[str, float]:
    """The sizes the readings compare against: the larger covariance norm and the mean total variance."""
    cs = np.atleast_2d(np.cov(xs, rowvar=False)) if len(xs) > 1 else np.zeros((xs.shape[1],) * 2)
    ct = np.atleast_2d(np.cov(xt, rowvar=False)) if len(xt) > 1 else np.zeros((xt.shape[1],) * 2)
    return {"dim": float(xs.shape[1]), "cov_norm": float(max(np.linalg.norm(cs), np.linalg.norm(ct))),
            "total_variance": float((np.trace(cs) + np.trace(ct)) / 2)}


def _mmd(value: float, p: float | None, ctx: dict[str, float]) -> str:
    text = f"kernel distance between the two feature distributions, 0 = same, at most 2: {value:.3g}"
    if p is None:
        return text
    verdict = ("the two samples differ beyond chance" if p < 0.05
               else "no difference detectable at the 5% level")
    return f"{text}; p = {p:.3g}: {verdict}"


def _proxy_a(value: float, p: float | None, ctx: dict[str, float]) -> str:
    acc = 0.5 + value / 4.0
    kind = ("they look alike to it" if value < 0.5 else "partly separable" if value < 1.5
            else "clearly separable")
    return (f"how well a linear classifier tells source from target, 0 = indistinguishable, 2 = fully separable: "
            f"{value:.2f} = right {acc:.0%} of the time (chance 50%), {kind}")


def _coral(value: float, p: float | None, ctx: dict[str, float]) -> str:
    diff = float(np.sqrt(max(value, 0.0) * 4.0 * ctx["dim"] ** 2))
    rel = diff / ctx["cov_norm"] if ctx["cov_norm"] > 0 else float("nan")
    return (f"covariance mismatch (means ignored), 0 = same covariances, unbounded and in squared feature units: "
            f"the covariance difference is {rel:.0%} of the larger covariance's size")


def _frechet(value: float, p: float | None, ctx: dict[str, float]) -> str:
    tv = ctx["total_variance"]
    rel = value / tv if tv > 0 else float("nan")
    return (f"distance between Gaussians fitted to each side (mean shift + covariance mismatch), 0 = same, in squared "
            f"feature units: {rel:.2f} times the features' total variance (1 = as large as the spread itself)")


READERS = {"mmd": _mmd, "proxy_a": _proxy_a, "coral": _coral, "frechet": _frechet}


def read_measure(name: str, value: float, p_value: float | None, context: dict[str, float], *,
                 summary: str = "", value_range: str = "") -> str:
    """One plain line: what the measure is, its scale, and what ``value`` means here."""
    reader = READERS.get(name)
    if reader is None or not np.isfinite(value):
        return f"{summary}; range {value_range}: {value:.3g}" if summary else f"{value:.3g}"
    return reader(value, p_value, context)


def source_accuracy(probs: np.ndarray, source_classes: tuple[str, ...], target_names: np.ndarray) -> dict[str, Any]:
    """Accuracy of a source classifier on target samples whose class it knows (by name), with a reading."""
    classes = np.array(source_classes, dtype=object)
    names = np.asarray(target_names, dtype=object).astype(str)
    known = np.isin(names, classes.astype(str))
    n_classes = len(np.unique(names))
    shared = len(np.unique(names[known]))
    if not known.any():
        return {"accuracy": None, "n": 0, "shared_classes": 0, "target_classes": n_classes,
                "reading": "its classes share no name with the target's: no accuracy to report"}
    pred = classes[np.asarray(probs).argmax(axis=1)].astype(str)
    acc = float(np.mean(pred[known] == names[known]))
    reading = (f"its own classifier head labels {acc:.1%} of {int(known.sum())} target samples correctly "
               f"(the {shared} of {n_classes} target classes it knows; chance {1 / len(classes):.0%})")
    return {"accuracy": acc, "n": int(known.sum()), "shared_classes": shared, "target_classes": n_classes,
            "reading": reading}
