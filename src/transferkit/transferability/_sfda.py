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

Linear in ``N``: the discriminants come from ``D x D`` and ``C x D`` moments accumulated in float64
chunk by chunk on torch (CUDA when present, see :mod:`transferkit._compute`), never from an
``N x D`` float64 copy; the mixed features are formed one chunk at a time. The ``D x D``
eigendecomposition does not grow with ``N``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from transferkit._compute import add_gram, chunks, full_gram, moments, resolve_device, symmetric_eig
from transferkit.errors import DataError
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._validate import check_labels, check_rows


@dataclass
class Discriminant:
    """A fitted shrunk Fisher discriminant: ``logits = x @ coef' + intercept``; ``s`` its shrinkage."""

    coef: torch.Tensor
    intercept: torch.Tensor
    s: float


def fit_discriminant(gram: torch.Tensor, sums: torch.Tensor, counts: torch.Tensor, shift: torch.Tensor,
                     shrinkage: float | None = None) -> Discriminant:
    """The shrunk Fisher discriminant from moments of the rows taken about any ``shift``.

    ``gram = sum_i (x_i - shift)(x_i - shift)'`` and ``sums`` the per-class sums of ``x_i - shift``;
    the within-class scatter is ``gram - sums' diag(1/n_k) sums`` (exact for every shift).
    """
    n, d = float(counts.sum()), gram.shape[0]
    sw = (gram - (sums / counts[:, None]).T @ sums) / n  # sum_k (n_k / n) * biased Cov(x | k)
    sw = (sw + sw.T) / 2
    lam, u = symmetric_eig(sw, sw.device)
    lam = np.clip(lam, 0.0, None)  # Sw is positive semi-definite; drop round-off below zero
    mu = float(torch.trace(sw)) / d
    if mu <= 0.0:
        raise DataError("sfda: the features do not vary within any class (every sample equals its class mean)")
    s = max(float(np.exp(-5.0 * lam[-1])), 1e-10) if shrinkage is None else float(shrinkage)
    if not 0.0 < s <= 1.0:
        raise DataError(f"sfda: shrinkage must be in (0, 1], got {shrinkage}")
    w = (1.0 - s) * lam + s * mu  # eigenvalues of the shrunk Sw, all >= s * mu > 0
    means = (sums / counts[:, None] + shift).cpu().numpy()
    coef = ((means @ u) / w) @ u.T  # m_k' Sw'^-1
    intercept = -0.5 * np.einsum("kd,kd->k", means, coef) + np.log(counts.cpu().numpy() / n)
    return Discriminant(torch.from_numpy(coef).to(gram.device), torch.from_numpy(intercept).to(gram.device), s)


def _mix_centred(part: torch.Tensor, mean: torch.Tensor, q: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
    """ConfMix of a chunk, centred: ``q x + (1 - q) mbar_y - mean``, in place on ``part``.

    ``others`` holds ``mbar_y - mean`` for the chunk's rows; ``part`` is the chunk's own copy.
    """
    part.sub_(mean).sub_(others).mul_(q[:, None]).add_(others)
    return part


def sfda_on(x: np.ndarray, y: np.ndarray, c: int, dev: torch.device, shrinkage: float | None = None) -> float:
    """SFDA in three chunked float64 passes over ``x`` (two of them accumulate a ``D x D`` Gram matrix).

    Pass 1 takes the moments of ``x``; pass 2 the first discriminant's confidences ``q`` (``N``
    numbers) and, chunk by chunk, the moments of the mixed rows; pass 3 the second discriminant's
    true-class probabilities of the mixed rows. Memory ``O(D^2 + C D + N)`` plus a few chunks.
    """
    n, d = x.shape
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64)).to(dev)
    mom = moments(x, y, c, device=dev)
    assert mom.class_sums is not None and mom.counts is not None
    first = fit_discriminant(mom.gram, mom.class_sums, mom.counts, mom.mean, shrinkage)
    centred_means = mom.class_sums / mom.counts[:, None]
    others = (centred_means.sum(dim=0) - centred_means) / (c - 1)  # mean of the other classes' means, centred
    q = torch.empty(n, dtype=torch.float64, device=dev)
    gram = torch.zeros((d, d), dtype=torch.float64, device=dev)
    sums = torch.zeros((c, d), dtype=torch.float64, device=dev)
    for start, stop, part in chunks(x, dev):
        labels = yt[start:stop]
        probs = torch.softmax(torch.addmm(first.intercept, part, first.coef.T), dim=1)
        q[start:stop] = torch.softmax(probs, dim=1).gather(1, labels[:, None])[:, 0]  # softened confidence
        mixed = _mix_centred(part, mom.mean, q[start:stop], others[labels])
        add_gram(gram, mixed)
        sums.index_add_(0, labels, mixed)
    second = fit_discriminant(full_gram(gram), sums, mom.counts, mom.mean, first.s)
    bias = second.intercept + second.coef @ mom.mean  # the logits of centred rows
    total = torch.zeros((), dtype=torch.float64, device=dev)
    for start, stop, part in chunks(x, dev):
        labels = yt[start:stop]
        mixed = _mix_centred(part, mom.mean, q[start:stop], others[labels])
        probs = torch.softmax(torch.addmm(bias, mixed, second.coef.T), dim=1)
        total += probs.gather(1, labels[:, None]).sum()
    return float(total) / n


@SCORES.register(
    "sfda",
    info=ScoreInfo(input="features", summary="mean true-class probability of a shrunk Fisher discriminant "
                                             "after confidence mixing (self-challenge), in (0, 1]"),
)
def sfda(features: Any, labels: Sequence[Hashable] | np.ndarray, *, shrinkage: float | None = None,
         device: str | torch.device | None = None) -> float:
    """SFDA of ``features`` ``(N, D)`` for class ``labels`` (higher predicts better transfer).

    ``shrinkage``: the regularisation strength ``s`` in ``(0, 1]``; default
    ``max(exp(-5 * largest eigenvalue of Sw), 1e-10)`` as in the paper. ``device``: see
    :func:`transferkit._compute.resolve_device`.
    """
    x = check_rows(features)
    y, c = check_labels(labels, x.shape[0])
    if shrinkage is not None and not 0.0 < float(shrinkage) <= 1.0:
        raise DataError(f"sfda: shrinkage must be in (0, 1], got {shrinkage}")
    return sfda_on(x, y, c, resolve_device(device), shrinkage)
