"""ETran: energy-based transferability estimation (Gholami et al., ICCV 2023).

"ETran: Energy-Based Transferability Estimation". Two terms for classification targets:

* ``energy`` (label-free, an out-of-distribution view): the per-sample ``logsumexp`` of the frozen
  features (the negative free energy when the features are read as logits), averaged over the
  lowest-energy tail of the target samples; the authors' script keeps the lowest 0.5 %
  (``Energy_Score(X, 0.5, 'bot')``), here at least one sample. Higher reads as "more in-distribution";
* ``lda`` (classification): the mean true-class probability of the authors' LDA classifier. Their
  code takes ``numpy.linalg.eigh`` of the non-symmetric product ``Sw'^-1 Sb``; ``eigh`` reads one
  triangle and returns an orthonormal basis ``V`` of all ``D`` dimensions, so its coefficients
  ``means V V'`` are the class means themselves and the classifier is the Euclidean
  nearest-class-mean softmax, ``logit_k(x) = x . m_k - |m_k|^2 / 2 + log p_k``, computed directly
  here (the tests recompute it the authors' way and check both agree).

The authors combine the terms over the candidate set (their ``tw.py``): each is min-max scaled over
the candidates, ``ETran = 0.85 lda' + 0.15 energy'``. :func:`etran_combine` does that and ``rank``
applies it whenever it scores two or more candidates; a model scored alone gets its ``lda`` term.
Reference code: mgholamikn/ETran (``metrics.py``: ``LDA_Score``, ``Energy_Score``; ``tw.py``).

The paper's third term, the SVD-based regression score ``S_reg`` (minus the mean squared error of
a least-squares fit of the targets through the features' pseudo-inverse), is left out on purpose:

* the paper applies it to regression targets (object detection's box regression); for
  classification targets the authors' pipeline (``tw.py -me etran``, which their notebook runs to
  reproduce the classification table) combines exactly the two terms above;
* in the released code (commit d4551ed) it exists only as ``LDA._solve_eigen2``, which nothing
  calls and which cannot run as released (it reads ``self.x_hat1``, never assigned), so there is
  no runnable reference to check a port against;
* unregularised least squares interpolates whenever a model has at least as many feature
  dimensions as labelled samples (a 1280-d EfficientNet on 200 labels), which sends the term to 0
  for every such candidate and ranks nothing.

Both terms are linear in ``N``: two chunked float64 passes on torch (CUDA when present, see
:mod:`transferkit._compute`) over the caller's array, without a float64 copy of it or an ``N x C``
matrix; the lowest-energy tail is a top-k of the ``N`` per-row energies.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from transferkit._compute import chunks, resolve_device
from transferkit.transferability._info import SCORES, ScoreInfo, min_max
from transferkit.transferability._validate import check_labels, check_rows

ENERGY_TAIL = 0.005  # share of the target samples, lowest energy first
ENERGY_WEIGHT = 0.15


def _tail_mean(values: torch.Tensor, tail: float) -> float:
    """Mean of the lowest ``tail`` share of ``values`` (at least one)."""
    k = max(1, int(tail * len(values)))
    return float(torch.topk(values, k, largest=False, sorted=True).values.mean())


def energy(features: Any, tail: float = ENERGY_TAIL, device: str | torch.device | None = None) -> float:
    """Mean ``logsumexp`` of the feature rows over the lowest ``tail`` share of samples (at least one)."""
    x = check_rows(features)
    dev = resolve_device(device)
    lse = torch.cat([torch.logsumexp(part, dim=1) for _, _, part in chunks(x, dev)])
    return _tail_mean(lse, tail)


def _nearest_mean(x: np.ndarray, y: np.ndarray, c: int, dev: torch.device, tail: float) -> tuple[float, float]:
    """ETran's two terms in two chunked float64 passes: ``(lda, energy)``.

    Pass one sums each class's rows and keeps every row's ``logsumexp`` (``N`` numbers); pass two
    takes the nearest-class-mean logits of each chunk. Memory: ``O(C D + N)`` plus one chunk.
    """
    n = x.shape[0]
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64)).to(dev)
    sums = torch.zeros((c, x.shape[1]), dtype=torch.float64, device=dev)
    lse = torch.empty(n, dtype=torch.float64, device=dev)
    for start, stop, part in chunks(x, dev):
        sums.index_add_(0, yt[start:stop], part)
        lse[start:stop] = torch.logsumexp(part, dim=1)
    counts = torch.bincount(yt, minlength=c).to(torch.float64)
    means = sums / counts[:, None]
    bias = -0.5 * (means * means).sum(dim=1) + torch.log(counts / n)
    total = torch.zeros((), dtype=torch.float64, device=dev)
    for start, stop, part in chunks(x, dev):
        probs = torch.softmax(torch.addmm(bias, part, means.T), dim=1)
        total += probs.gather(1, yt[start:stop, None]).sum()
    return float(total) / n, _tail_mean(lse, tail)


def nearest_mean_probability(features: Any, labels: Sequence[Hashable] | np.ndarray,
                             device: str | torch.device | None = None) -> float:
    """Mean true-class probability of the nearest-class-mean softmax with class priors (ETran's LDA term)."""
    x = check_rows(features)
    y, c = check_labels(labels, x.shape[0])
    return _nearest_mean(x, y, c, resolve_device(device), ENERGY_TAIL)[0]


def etran_terms(features: Any, labels: Sequence[Hashable] | np.ndarray,
                device: str | torch.device | None = None) -> dict[str, float]:
    """The per-model ETran terms ``{"energy", "lda"}`` (linear in ``N``, float64 on torch)."""
    x = check_rows(features)
    y, c = check_labels(labels, x.shape[0])
    lda, en = _nearest_mean(x, y, c, resolve_device(device), ENERGY_TAIL)
    return {"energy": en, "lda": lda}


def etran_combine(terms: Sequence[Mapping[str, float]]) -> list[float]:
    """ETran of every candidate: ``0.85 lda' + 0.15 energy'``, each term min-max scaled over the candidates."""
    lda = min_max([t["lda"] for t in terms])
    en = min_max([t["energy"] for t in terms])
    return [(1 - ENERGY_WEIGHT) * a + ENERGY_WEIGHT * b for a, b in zip(lda, en, strict=True)]


@SCORES.register("etran", info=ScoreInfo(
    input="features", terms=etran_terms, combine=etran_combine,
    summary="energy (how in-distribution the target looks) plus a nearest-class-mean fit, "
            "each min-max scaled over the candidates (in [0, 1])",
    caveat="relative to the candidate set; the energy term grows with the features' scale, so it favours "
           "models with large activations"))
def etran(features: Any, labels: Sequence[Hashable] | np.ndarray, device: str | torch.device | None = None) -> float:
    """ETran of one model scored alone: its nearest-class-mean term (see the module docstring)."""
    return nearest_mean_probability(features, labels, device)
