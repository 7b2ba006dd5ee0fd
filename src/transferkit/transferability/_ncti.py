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
``ncc``, the term in ``[0, 1]``. The PCA and the discriminant hold several float64 copies of the
features, so above ``max_cells`` values (rows x features, :class:`~transferkit.transferability._guard.Limits`)
NCTI runs on a seeded class-stratified subsample of ``max_cells // D`` rows, with a note. Checked against a direct recomputation of the three terms (eigen
solver by hand) in ``tests/test_transferability_ncti.py``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from transferkit.errors import DataError
from transferkit.transferability._guard import limits, subsample_rows
from transferkit.transferability._info import SCORES, ScoreInfo, min_max
from transferkit.transferability._validate import check_labels, check_rows

PCA_DIM = 64
TOP_VARIANCES = 32


def ncti_terms(features: Any, labels: Sequence[Hashable] | np.ndarray) -> dict[str, float]:
    """The three per-model NCTI terms ``{"seli", "ncc", "vc"}`` of ``features`` ``(N, D)``."""
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    x = check_rows(features)
    y, c = check_labels(labels, x.shape[0])
    x, y = subsample_rows("ncti", x, y, flops_per_row=8.0 * x.shape[1] ** 2,
                          max_rows=max(limits().max_cells // x.shape[1], 2 * c), limit="max_cells",
                          why="its PCA and discriminant hold several float64 copies of the features")
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    if n <= c:
        raise DataError(f"ncti needs more samples ({n}) than classes ({c})")
    k = min(PCA_DIM, n, x.shape[1])
    pca = PCA(n_components=k, svd_solver="full")
    z = pca.fit_transform(x)
    if not np.any(pca.explained_variance_ > 0):
        raise DataError("ncti: the features do not vary (every sample is the same)")
    shrink = max(float(np.exp(-pca.explained_variance_[:TOP_VARIANCES].sum())), 1e-10)
    lda = (LinearDiscriminantAnalysis(solver="svd") if shrink == 1e-10
           else LinearDiscriminantAnalysis(solver="eigen", shrinkage=shrink))
    low = lda.fit_transform(z, y)
    low = low - low.mean(axis=0, keepdims=True)
    probs = lda.predict_proba(z)
    seli = float(np.linalg.svd(low, compute_uv=False).sum())
    ncc = float(np.mean(probs[np.arange(n), y]))
    vc = float(np.log(sum(np.linalg.svd(probs[y == k_], compute_uv=False).sum() for k_ in range(c))))
    return {"seli": seli, "ncc": ncc, "vc": vc}


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
def ncti(features: Any, labels: Sequence[Hashable] | np.ndarray) -> float:
    """NCTI of one model scored alone: its nearest-centre term ``ncc`` (see the module docstring)."""
    return ncti_terms(features, labels)["ncc"]
