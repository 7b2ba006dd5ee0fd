"""SFDA: Self-challenging Fisher Discriminant Analysis (Shao et al., ECCV 2022).

"Not All Models Are Equal: Predicting Model Transferability in a Self-challenging Fisher Space".
Three steps on frozen features ``x`` with labels ``y``:

1. **Regularised Fisher discriminant.** Within-class scatter ``Sw = sum_k p_k Cov(x | y = k)``
   (biased covariances, class priors ``p_k``), shrunk towards a scaled identity,
   ``Sw' = (1 - s) Sw + s tr(Sw)/D I``, with the data-driven strength ``s = max(exp(-5 l), 1e-10)``,
   where ``l`` is the largest eigenvalue of ``Sw``. The projection solves ``Sb v = e Sw' v`` with
   ``V' Sw' V = I``; the reference classifies with *all* ``D`` directions,
   ``logit_k(x) = x' V V' m_k - m_k' V V' m_k / 2 + log p_k``. Because ``V V' = Sw'^-1`` for a full
   ``Sw'``-orthonormal basis, that is linear discriminant analysis with the shrunk ``Sw'``: the
   between-class scatter only orders the directions, which does not change the logits. It is
   computed here from one symmetric eigendecomposition of ``Sw`` (which gives ``l`` too).
2. **ConfMix (the self-challenge).** The softmax probabilities are softened by a second softmax
   and each example is pulled towards the mean of the *other* class means in proportion to how
   unsure the model is: ``x <- q x + (1 - q) mbar_y``, where ``q`` is the softened probability of its
   own class and ``mbar_y`` the unweighted mean of the other classes' means.
3. **Score.** The same discriminant (same ``s``) is fitted on the mixed features; SFDA is the mean
   probability of the true class, in ``(0, 1]``, higher is better.

Checked against the authors' code (TencentARC/SFDA, ``metrics.SFDA_Score``) on scikit-learn digits
(``load_digits().data / 16``): 0.8032411162790368 with their shrinkage; see the tests. The one
intended difference: ``l`` is the exact largest eigenvalue here, where the reference takes three
power-iteration steps (it only moves ``s``; pass ``shrinkage=`` to fix it). The reference also
overwrites the caller's feature array; this function does not. The score is not scale-invariant
(``s`` depends on the feature scale), like the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np
import scipy.linalg

from transferkit.errors import DataError
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._validate import add_class_sums, check_labels, check_rows, row_blocks


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _fit(rows: Callable[[slice], np.ndarray], y: np.ndarray, c: int, d: int,
         shrinkage: float | None) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """The shrunk Fisher discriminant of the rows ``rows(block)`` (float64): coefficients ``(C, D)``,
    intercepts ``(C,)``, ``s`` and the class means, from sums over blocks of rows (no N x D copy)."""
    n = len(y)
    blocks = row_blocks(n, d)
    counts = np.bincount(y, minlength=c).astype(np.float64)
    sums = np.zeros((c, d))
    for sl in blocks:
        add_class_sums(sums, y[sl], rows(sl))
    means = sums / counts[:, None]
    sw = np.zeros((d, d))
    for sl in blocks:
        centred = rows(sl) - means[y[sl]]
        sw += centred.T @ centred
    sw /= n  # sum_k (n_k / n) * biased Cov(x | k)
    lam, u = scipy.linalg.eigh(sw, check_finite=False)
    lam = np.clip(lam, 0.0, None)  # Sw is positive semi-definite; drop round-off below zero
    mu = float(np.trace(sw)) / d
    if mu <= 0.0:
        raise DataError("sfda: the features do not vary within any class (every sample equals its class mean)")
    s = max(float(np.exp(-5.0 * lam[-1])), 1e-10) if shrinkage is None else float(shrinkage)
    if not 0.0 < s <= 1.0:
        raise DataError(f"sfda: shrinkage must be in (0, 1], got {shrinkage}")
    w = (1.0 - s) * lam + s * mu  # eigenvalues of the shrunk Sw, all >= s * mu > 0
    coef = ((means @ u) / w) @ u.T  # m_k' Sw'^-1
    intercept = -0.5 * np.einsum("kd,kd->k", means, coef) + np.log(counts / n)
    return coef, intercept, s, means


def fisher_probs(x: np.ndarray, y: np.ndarray, c: int, shrinkage: float | None = None) -> tuple[np.ndarray, float]:
    """Class probabilities ``(N, C)`` of the shrunk Fisher discriminant fitted on ``(x, y)``, and its ``s``."""
    coef, intercept, s, _ = _fit(lambda sl: np.asarray(x[sl], dtype=np.float64), y, c, x.shape[1], shrinkage)
    return _softmax(np.asarray(x, dtype=np.float64) @ coef.T + intercept), s


@SCORES.register(
    "sfda",
    info=ScoreInfo(input="features", summary="mean true-class probability of a shrunk Fisher discriminant "
                                             "after confidence mixing (self-challenge), in (0, 1]"),
)
def sfda(features: Any, labels: Sequence[Hashable] | np.ndarray, *, shrinkage: float | None = None) -> float:
    """SFDA of ``features`` ``(N, D)`` for class ``labels`` (higher predicts better transfer).

    ``shrinkage``: the regularisation strength ``s`` in ``(0, 1]``; default
    ``max(exp(-5 * largest eigenvalue of Sw), 1e-10)`` as in the paper. Computed a block of rows at
    a time in float64 (float32 features are never copied whole).
    """
    x = check_rows(features)
    y, c = check_labels(labels, x.shape[0])
    n, d = x.shape

    def plain(sl: slice) -> np.ndarray:
        return np.asarray(x[sl], dtype=np.float64)

    coef, intercept, s, means = _fit(plain, y, c, d, shrinkage)
    q = np.empty(n)  # softened confidence in the true class
    for sl in row_blocks(n, d):
        probs = _softmax(plain(sl) @ coef.T + intercept)
        q[sl] = _softmax(probs)[np.arange(len(probs)), y[sl]]
    others = (means.sum(axis=0) - means) / (c - 1)  # mean of the other classes' means

    def mixed(sl: slice) -> np.ndarray:
        return q[sl, None] * plain(sl) + (1.0 - q[sl, None]) * others[y[sl]]

    coef, intercept, _, _ = _fit(mixed, y, c, d, s)
    total = 0.0
    for sl in row_blocks(n, d):
        probs = _softmax(mixed(sl) @ coef.T + intercept)
        total += float(probs[np.arange(len(probs)), y[sl]].sum())
    return total / n
