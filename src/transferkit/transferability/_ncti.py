"""NCTI: how far a model is from neural collapse on the target (Wang et al., ICCV 2023).

"How Far Pre-trained Models Are from Neural Collapse on the Target Dataset Informs their
Transferability". A fine-tuned network ends near *neural collapse*: features of a class shrink to
their class mean, the means spread out, and the classifier becomes nearest-class-centre. NCTI asks
how close the frozen features already are, with three terms computed after a PCA to 64 dimensions:

* ``seli`` (between-class spread): the nuclear norm (sum of singular values) of the centred
  features projected by a shrunk linear discriminant (LDA) onto its ``C - 1`` directions; the
  shrinkage is ``max(exp(-sum of the 32 largest PCA variances), 1e-10)`` (LDA without shrinkage,
  scikit-learn's ``svd`` solver, when that floor is hit), as in the authors' code;
* ``ncc`` (nearest-centre classifiability): the mean true-class probability of that LDA;
* ``vc`` (within-class variability): the log of the summed nuclear norms of each class's
  predicted-probability matrix; *lower* is closer to collapse.

The authors' score is defined over the candidate set: every term is min-max scaled over the
candidates, ``NCTI = ncc' + seli' - vc'`` (their ``evaluate_metric_group1_cpu.py``; BUserName/NCTI).
:func:`ncti_combine` does that and ``rank`` applies it whenever it scores two or more candidates.
A model scored alone (``ncti(features, labels)``) has no set to scale against: its value is then
``ncc``, the term in ``[0, 1]``. Checked against a direct recomputation of the three terms (eigen
solver by hand) in ``tests/test_transferability_ncti_etran.py``.

Linear in ``N`` (the authors' code and scikit-learn take an SVD of the ``N x D`` features and of
the ``N x C`` probabilities): the PCA is the eigendecomposition of the ``D x D`` covariance
(accumulated in float64 chunks on torch, CUDA when present; the ``N x N`` Gram matrix when
``N <= D``), the LDA is fitted from the 64-dimensional scatter matrices derived from it (scikit-
learn's eigen and svd solvers, reproduced), each nuclear norm is the sum of square roots of the
eigenvalues of a small Gram matrix (``C x C``, ``(C-1) x (C-1)`` or ``n_k x n_k``), and the
probabilities are formed class by class, one chunk at a time. Work ``O(N D^2 + N C min(n_k, C))``,
memory ``O(D^2 + C^2)`` plus one chunk; the ``D^3`` eigendecomposition does not grow with ``N``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.linalg
import torch

from transferkit._compute import chunk_rows, column_mean, moments, resolve_device, row_gram, rows64, symmetric_eig
from transferkit.errors import DataError
from transferkit.transferability._info import SCORES, ScoreInfo, min_max
from transferkit.transferability._validate import check_labels, check_rows

PCA_DIM = 64
TOP_VARIANCES = 32
LDA_TOL = 1e-4  # scikit-learn's rank threshold of the svd solver


def _nuclear_from_gram(gram: np.ndarray) -> float:
    """Sum of singular values of a matrix ``A`` from ``A'A`` (or ``A A'``): the square roots of its eigenvalues."""
    return float(np.sqrt(np.clip(scipy.linalg.eigvalsh(gram, check_finite=False), 0.0, None)).sum())


def _shrunk(m: np.ndarray, s: float) -> np.ndarray:
    return (1.0 - s) * m + s * np.trace(m) / len(m) * np.eye(len(m))


def _lda_eigen(total: np.ndarray, within: np.ndarray, means: np.ndarray, priors: np.ndarray, n: int,
               shrink: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's ``solver="eigen"`` LDA from scatter matrices: ``(coef, intercept, scalings)``."""
    sw = _shrunk(within / n, shrink)
    evals, evecs = scipy.linalg.eigh(_shrunk(total / n, shrink) - sw, sw)
    evecs = evecs[:, np.argsort(evals)[::-1]]
    coef = means @ evecs @ evecs.T
    return coef, -0.5 * np.einsum("kd,kd->k", means, coef) + np.log(priors), evecs


def _lda_svd(within: np.ndarray, means: np.ndarray, priors: np.ndarray, n: int,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's ``solver="svd"`` LDA from the within-class scatter (its SVDs via eigenvalues)."""
    c = len(priors)
    std = np.sqrt(np.clip(np.diag(within), 0.0, None) / n)
    std[std == 0] = 1.0
    lam, vecs = scipy.linalg.eigh(within / np.outer(std, std) / n, check_finite=False)
    order = np.argsort(lam)[::-1]
    sing, vt = np.sqrt(np.clip(lam[order], 0.0, None)), vecs[:, order].T
    rank = int(np.sum(sing > LDA_TOL))
    scalings = (vt[:rank] / std).T / sing[:rank]
    xbar = priors @ means
    between = (np.sqrt(n * priors / max(c - 1, 1)) * (means - xbar).T).T @ scalings
    _, sb, vtb = np.linalg.svd(between, full_matrices=False)
    if not sb.size or not sb[0] > 0:
        raise DataError("ncti: the class means do not differ along any direction the features vary in")
    scalings = scalings @ vtb.T[:, :int(np.sum(sb > LDA_TOL * sb[0]))]
    coef = (means - xbar) @ scalings
    intercept = -0.5 * np.sum(coef**2, axis=1) + np.log(priors)
    coef = coef @ scalings.T
    return coef, intercept - xbar @ coef.T, scalings


def _pca(x: np.ndarray, y: np.ndarray, c: int, dev: torch.device) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray]:
    """The PCA to ``PCA_DIM`` dimensions from a Gram matrix: ``(rows, variances, means_z, within_z)``.

    Tall features (``N > D``) take the ``D x D`` covariance and never form the projections: ``rows``
    maps a chunk of ``x`` to its ``z`` coordinates. Wide ones take the ``N x N`` Gram matrix and
    form ``z`` (``N x k``, ``k <= N``).
    """
    n, d = x.shape
    k = min(PCA_DIM, n, d)
    if n > d:
        mom = moments(x, y, c, device=dev)
        assert mom.class_sums is not None and mom.counts is not None
        lam, vec = symmetric_eig(mom.gram, dev)
        v = vec[:, ::-1][:, :k].copy()
        counts = mom.counts.cpu().numpy()
        sums_z = mom.class_sums.cpu().numpy() @ v
        total = v.T @ mom.gram.cpu().numpy() @ v
        proj, mean = torch.from_numpy(v).to(dev), mom.mean

        def rows(part: torch.Tensor) -> torch.Tensor:
            return (part - mean) @ proj
    else:
        lam, vec = symmetric_eig(row_gram(x, dev, mean=column_mean(x, dev)), dev)
        z = vec[:, ::-1][:, :k] * np.sqrt(np.clip(lam[::-1][:k], 0.0, None))
        counts = np.bincount(y, minlength=c).astype(np.float64)
        sums_z = np.zeros((c, k))
        np.add.at(sums_z, y, z)
        total = z.T @ z
        zt = torch.from_numpy(np.ascontiguousarray(z)).to(dev)

        def rows(part: torch.Tensor) -> torch.Tensor:  # here ``part`` holds row indices
            return zt[part]
    variances = np.clip(lam[::-1][:k], 0.0, None) / (n - 1)
    means_z = sums_z / counts[:, None]
    within = total - (sums_z / counts[:, None]).T @ sums_z
    return rows, variances, means_z, (within + within.T) / 2


def _probability_terms(x: np.ndarray, y: np.ndarray, c: int, rows: Any, coef: np.ndarray, intercept: np.ndarray,
                       dev: torch.device, tall: bool) -> tuple[float, float]:
    """``(ncc, sum of per-class nuclear norms)`` of the LDA probabilities, class by class in chunks.

    A class with ``n_k >= C`` rows accumulates ``P_k' P_k`` (``C x C``); a smaller one keeps its
    ``n_k x C`` probabilities and takes ``P_k P_k'``. Memory ``O(C^2)`` plus one chunk.
    """
    coef_t = torch.from_numpy(np.ascontiguousarray(coef.T)).to(dev)
    bias = torch.from_numpy(intercept).to(dev)
    order = np.argsort(y, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(y, minlength=c))])
    step = chunk_rows(len(y), max(x.shape[1], c), dev)
    true_total, nuclear = 0.0, 0.0
    for k in range(c):
        idx = order[bounds[k]:bounds[k + 1]]
        small = len(idx) < c
        acc = torch.zeros((c, c), dtype=torch.float64, device=dev)
        kept = []
        for start in range(0, len(idx), step):
            part_idx = idx[start:start + step]
            z = rows(rows64(x[part_idx], 0, len(part_idx), dev) if tall else torch.from_numpy(part_idx).to(dev))
            probs = torch.softmax(torch.addmm(bias, z, coef_t), dim=1)
            true_total += float(probs[:, k].sum())
            if small:
                kept.append(probs)
            else:
                acc.addmm_(probs.T, probs)
        gram = torch.cat(kept) @ torch.cat(kept).T if small else acc
        nuclear += _nuclear_from_gram(gram.cpu().numpy())
    return true_total / len(y), nuclear


def ncti_terms(features: Any, labels: Sequence[Hashable] | np.ndarray,
               device: str | torch.device | None = None) -> dict[str, float]:
    """The three per-model NCTI terms ``{"seli", "ncc", "vc"}`` of ``features`` ``(N, D)``."""
    x = check_rows(features)
    y, c = check_labels(labels, x.shape[0])
    n = x.shape[0]
    if n <= c:
        raise DataError(f"ncti needs more samples ({n}) than classes ({c})")
    dev = resolve_device(device)
    rows, variances, means, within = _pca(x, y, c, dev)
    if not np.any(variances > 0):
        raise DataError("ncti: the features do not vary (every sample is the same)")
    if not np.trace(within) > variances.sum() * (n - 1) * 1e-12:
        raise DataError("ncti: the features do not vary within any class (every class is one point)")
    shrink = max(float(np.exp(-variances[:TOP_VARIANCES].sum())), 1e-10)
    priors = np.bincount(y, minlength=c) / n
    k = len(variances)
    if shrink == 1e-10:  # the authors' floor: scikit-learn's LDA without shrinkage (svd solver)
        # PCA directions of round-off variance (N <= 64, rank-deficient features) are exact zeros here;
        # scikit-learn would divide their round-off by its own spread and keep it as a direction
        dead = variances <= variances[0] * 1e-12
        within, means = within.copy(), means.copy()
        within[dead], within[:, dead], means[:, dead] = 0.0, 0.0, 0.0
        coef, intercept, scalings = _lda_svd(within, means, priors, n)
    else:
        try:
            coef, intercept, scalings = _lda_eigen(np.diag(variances * (n - 1)), within, means, priors, n, shrink)
        except np.linalg.LinAlgError as exc:  # a within-class scatter that is not positive definite
            raise DataError(f"ncti: the within-class spread is degenerate ({exc}); "
                            "the features barely vary inside the classes") from exc
    w = scalings[:, :min(c - 1, k)]
    seli = _nuclear_from_gram(w.T @ np.diag(variances * (n - 1)) @ w)  # the projections' centred Gram matrix
    ncc, nuclear = _probability_terms(x, y, c, rows, coef, intercept, dev, tall=n > x.shape[1])
    return {"seli": seli, "ncc": ncc, "vc": float(np.log(nuclear))}


def ncti_combine(terms: Sequence[Mapping[str, float]]) -> list[float]:
    """NCTI of every candidate: ``ncc' + seli' - vc'`` with each term min-max scaled over the candidates."""
    seli = min_max([t["seli"] for t in terms])
    ncc = min_max([t["ncc"] for t in terms])
    vc = min_max([t["vc"] for t in terms])
    return [a + b - v for a, b, v in zip(ncc, seli, vc, strict=True)]


@SCORES.register("ncti", info=ScoreInfo(
    input="features", terms=ncti_terms, combine=ncti_combine,
    summary="closeness to neural collapse: class separation, nearest-centre fit and within-class spread, "
            "each min-max scaled over the candidates (in [-1, 2])",
    caveat="relative to the candidate set (adding a model moves the others' values); alone it is the "
           "nearest-centre term only"))
def ncti(features: Any, labels: Sequence[Hashable] | np.ndarray, device: str | torch.device | None = None) -> float:
    """NCTI of one model scored alone: its nearest-centre term ``ncc`` (see the module docstring)."""
    return ncti_terms(features, labels, device)["ncc"]
