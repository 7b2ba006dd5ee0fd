"""Input checks shared by every score: clear errors instead of silent nonsense."""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from transferkit.errors import DataError

_F32 = np.finfo(np.float32)


def _float_2d(values: Any, label: str, shape: str) -> np.ndarray:
    """``values`` as a float64 2-D array (1-D becomes one column), or a :class:`DataError` naming ``label``."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{label} must be a numeric array of shape {shape}: {exc}") from exc
    arr = arr[:, None] if arr.ndim == 1 else arr
    if arr.ndim != 2:
        raise DataError(f"{label} must have shape {shape}, got shape {arr.shape}")
    return arr


def check_features(features: Any, name: str = "features") -> np.ndarray:
    """Return ``features`` as a finite float64 ``(N, D)`` array, or raise :class:`DataError`.

    Values must lie within float32's range (what every backbone produces): magnitudes up to about
    3.4e38, and not all below its smallest normal number (1.2e-38) unless all zero. Beyond it, the
    squares and products the scores and distances compute overflow or vanish in float64 and the
    results would be NaN or a silent 0, so such features are refused with a clear error for every
    score and distance alike.
    """
    if np.iscomplexobj(features):
        raise DataError(f"{name} are complex numbers; scores and distances take real features")
    arr = _float_2d(features, name, "(N, D) (one row per sample)")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataError(f"{name} is empty (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{name} contain {int(np.sum(~np.isfinite(arr)))} NaN or infinite values; check the feature "
                        "extractor (e.g. a diverged model or unnormalised inputs) before scoring")
    _check_range(float(np.max(np.abs(arr))), name)
    return arr


def check_rows(features: Any, name: str = "features") -> np.ndarray:
    """Like :func:`check_features` but without a float64 copy: float32 and float64 arrays come back as
    they are (a memory map stays a memory map), other numbers as float64; checked chunk by chunk.
    """
    if np.iscomplexobj(features):
        raise DataError(f"{name} are complex numbers; scores and distances take real features")
    if isinstance(features, np.ndarray) and features.dtype in (np.float32, np.float64):
        arr = features[:, None] if features.ndim == 1 else features
        if arr.ndim != 2:
            raise DataError(f"{name} must have shape (N, D) (one row per sample), got shape {arr.shape}")
    else:
        arr = _float_2d(features, name, "(N, D) (one row per sample)")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataError(f"{name} is empty (shape {arr.shape})")
    step = max(1, 2**22 // arr.shape[1])
    bad, top = 0, 0.0
    for start in range(0, arr.shape[0], step):
        part = arr[start:start + step]
        finite = np.isfinite(part)
        if not finite.all():
            bad += int(np.sum(~finite))
            continue
        top = max(top, float(np.max(np.abs(part))))
    if bad:
        raise DataError(f"{name} contain {bad} NaN or infinite values; check the feature "
                        "extractor (e.g. a diverged model or unnormalised inputs) before scoring")
    _check_range(top, name)
    return arr


def _check_range(top: float, name: str) -> None:
    if top > float(_F32.max) or 0.0 < top < float(_F32.smallest_normal):
        raise DataError(
            f"{name} have magnitudes up to {top:.3g}, outside float32's range ({float(_F32.smallest_normal):.3g} to "
            f"{float(_F32.max):.3g}) in which scores and distances are computed reliably; standardise them "
            "(e.g. sklearn.preprocessing.StandardScaler) first"
        )


def encode(labels: Sequence[Hashable] | np.ndarray, n: int | None = None, name: str = "labels") -> np.ndarray:
    """Map any hashable labels to contiguous indices ``0..C-1`` (only classes present count)."""
    arr = np.asarray(labels)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"{name} must be one label per sample (shape (N,)), got shape {arr.shape}")
    if n is not None and len(arr) != n:
        raise DataError(f"{n} samples but {len(arr)} {name}: features and labels must have the same length "
                        "and the same order")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise DataError(f"{name} contain NaN or infinite values; drop those samples first")
    if arr.dtype.kind == "O":
        if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in arr):
            raise DataError(f"{name} contain missing values (None/NaN); drop those samples first")
        try:
            _, inv = np.unique(arr, return_inverse=True)
        except TypeError:  # mixed types that do not compare: order by (type, str)
            keys = {v: i for i, v in enumerate(sorted(set(arr.tolist()), key=lambda v: (str(type(v)), str(v))))}
            inv = np.array([keys[v] for v in arr.tolist()])
    else:
        _, inv = np.unique(arr, return_inverse=True)
    return inv.astype(np.int64).ravel()


def check_labels(labels: Sequence[Hashable] | np.ndarray, n: int, name: str = "labels",
                 min_classes: int = 2) -> tuple[np.ndarray, int]:
    """Contiguous class indices and the number of classes present; at least ``min_classes``."""
    y = encode(labels, n, name)
    c = int(y.max()) + 1 if y.size else 0
    if c < min_classes:
        raise DataError(f"{name} contain only {c} distinct class(es); a transferability score needs at least "
                        f"{min_classes} classes: add examples of the other classes")
    return y, c


def check_targets(targets: Any, n: int, name: str = "targets") -> np.ndarray:
    """Regression targets as a finite float64 ``(N, K)`` array."""
    arr = _float_2d(targets, f"regression {name}", "(N,) or (N, K)")
    if arr.shape[0] != n:
        raise DataError(f"{n} samples but {arr.shape[0]} {name}: they must have the same length")
    if not np.all(np.isfinite(arr)):
        raise DataError(f"regression {name} contain NaN or infinite values; drop or impute them first")
    return arr


def check_probs(probs: Any, name: str = "source_probs") -> np.ndarray:
    """Source-model probabilities ``(N, C_s)``: finite, non-negative, rows summing to 1."""
    arr = check_features(probs, name)
    if np.any(arr < 0):
        raise DataError(f"{name} contain negative values: pass softmax probabilities, not logits")
    sums = arr.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-3):
        worst = float(sums[np.argmax(np.abs(sums - 1))])
        raise DataError(f"each row of {name} must sum to 1 (a row sums to {worst:.4g}); apply a softmax to the "
                        "source model's logits first")
    return arr / sums[:, None]


def canonical_order(x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """A permutation that sorts rows by a hash of their content (and label membership).

    Scores with random parts (cross-validation folds, mixture initialisation) visit samples in this
    order, so they do not depend on the order the caller passed the samples in. Labels enter only
    through which other rows share the label, so renaming classes does not change the order.
    """
    x = np.ascontiguousarray(x)
    keys = [hashlib.blake2b(row.tobytes(), digest_size=8).digest() for row in x]
    if y is not None:  # tie-break duplicates by the smallest row key of their class
        first: dict[int, bytes] = {}
        for k, c in zip(keys, y.tolist(), strict=True):
            first[c] = min(first.get(c, k), k)
        keys = [k + first[c] for k, c in zip(keys, y.tolist(), strict=True)]
    return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)


def row_blocks(n: int, d: int, budget: int = 2**22) -> list[slice]:
    """Slices of about ``budget`` values each (``budget // d`` rows of ``d`` features) covering ``n`` rows:
    scores that sum over rows work a block at a time in float64, never on an N x D float64 copy."""
    step = max(1, budget // max(1, d))
    return [slice(s, min(n, s + step)) for s in range(0, n, step)]


def class_means(x: np.ndarray, y: np.ndarray, c: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-class means ``(C, D)`` (float64, summed a block at a time) and class counts ``(C,)``."""
    counts = np.bincount(y, minlength=c).astype(np.float64)
    sums = np.zeros((c, x.shape[1]))
    for sl in row_blocks(len(x), x.shape[1]):
        add_class_sums(sums, y[sl], np.asarray(x[sl], dtype=np.float64))
    return sums / counts[:, None], counts


def add_class_sums(sums: np.ndarray, y: np.ndarray, block: np.ndarray) -> None:
    """Add the rows of ``block`` to ``sums[y]`` (``sums``: one row per class), in place."""
    if sums.shape[0] <= 64:
        sums += one_hot(y, sums.shape[0]).T @ block
    else:  # many classes: no rows x C indicator matrix
        np.add.at(sums, y, block)


def one_hot(y: np.ndarray, c: int) -> np.ndarray:
    """``(N, C)`` float64 indicator matrix of class indices ``y``."""
    out = np.zeros((len(y), c))
    out[np.arange(len(y)), y] = 1.0
    return out


def stratified_sample(y: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of a random subset of ``size`` rows keeping the class proportions of ``y``.

    Each class gets ``size * n_c / N`` rows rounded by largest remainder (at least one row for
    every class when ``size`` allows), chosen at random with ``seed``.
    """
    y = np.asarray(y)
    n = len(y)
    if not 1 <= size <= n:
        raise DataError(f"a subset needs between 1 and {n} rows, got {size}")
    classes, inv, counts = np.unique(y, return_inverse=True, return_counts=True)
    exact = size * counts / n
    quota = np.floor(exact).astype(np.int64)
    if size >= len(classes):
        quota = np.maximum(quota, 1)
    order = np.argsort(-(exact - np.floor(exact)), kind="stable")
    i = 0
    while quota.sum() < size:
        c = order[i % len(order)]
        if quota[c] < counts[c]:
            quota[c] += 1
        i += 1
    while quota.sum() > size:
        c = int(np.argmax(quota - exact))
        quota[c] -= 1
    rng = np.random.default_rng(seed)
    keep = [rng.choice(np.flatnonzero(inv == k), quota[k], replace=False) for k in range(len(classes))]
    return np.sort(np.concatenate(keep))
