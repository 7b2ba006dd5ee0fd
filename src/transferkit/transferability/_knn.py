"""Leave-one-out k-nearest-neighbour accuracy on frozen features, by exact chunked top-k on torch.

Distances are searched in float32 matrix products, chunk by chunk (memory bounded by
``CHUNK_BYTES`` whatever ``N``), keeping ``k + 8`` candidates per query; the candidates are then
re-ranked with float64 distances and the result is proved exact with a rigorous bound on the
float32 error: a query whose ``k``-th float64 distance is not clearly below every non-candidate's
is recomputed in float64 over all rows. Ties in distance go to the row that comes first in a
content-defined order, so the value does not depend on the order the rows are given in.

Exact leave-one-out needs ``N^2`` distances. Above ``Limits.max_pairs`` of them (see
:mod:`transferkit.transferability._guard`) the accuracy is estimated on a seeded class-stratified
subset of query rows, each still searched among all ``N`` rows: linear in ``N``, with a note
giving the subset size and a 95% interval.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import torch

from transferkit._compute import read_only_tensor, resolve_device, rows64
from transferkit.errors import DataError
from transferkit.transferability._guard import limits, note
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._validate import check_labels, check_rows, stratified_sample

EXTRA_CANDIDATES = 8
CHUNK_BYTES = 64 * 2**20  # float32 distance block of one query block against one reference chunk
_U32 = 2.0**-24


def content_rank(x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """Position of each row in an order defined by its content only (two 64-bit row hashes).

    Identical rows are ordered by a hash of their class's rows (labels given), so neither the row
    order nor the class names change the order.
    """
    n = x.shape[0]
    view = np.uint32 if x.dtype.itemsize % 4 == 0 else np.uint8
    words = np.ascontiguousarray(x[:1]).view(view).shape[1]
    rng = np.random.default_rng(20240611)
    mult = rng.integers(1, 2**63, size=(2, words), dtype=np.uint64) | np.uint64(1)
    keys = np.empty((2, n), dtype=np.uint64)
    step = max(1, 2**21 // max(words, 1))
    with np.errstate(over="ignore"):
        for start in range(0, n, step):
            b = np.ascontiguousarray(x[start:start + step]).view(view).astype(np.uint64)
            keys[0, start:start + step] = (b * mult[0]).sum(axis=1)
            keys[1, start:start + step] = ((b + np.uint64(1)) * mult[1]).sum(axis=1)
    tie = np.zeros(n, dtype=np.uint64)
    if y is not None:  # a class's key: the (wrapping) sum of its rows' hashes
        total = np.zeros(int(y.max()) + 1, dtype=np.uint64)
        with np.errstate(over="ignore"):
            np.add.at(total, y, keys[1] * np.uint64(0x9E3779B97F4A7C15))
        tie = total[y]
    order = np.lexsort((tie, keys[1], keys[0]))
    out = np.empty(n, dtype=np.int64)
    out[order] = np.arange(n)
    return out


def _search32(x: np.ndarray, q: torch.Tensor, qidx: torch.Tensor, kk: int,
              device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """float32 distances and indices of the ``kk`` nearest other rows of each query row ``q``, nearest first."""
    n, d = x.shape
    qn = q.square().sum(dim=1, keepdim=True)
    best_d = torch.full((len(q), kk), float("inf"), device=device)
    best_i = torch.zeros((len(q), kk), dtype=torch.int64, device=device)
    step = max(kk, CHUNK_BYTES // (4 * max(len(q), d)))  # bounds the (m, step) block and the chunk
    for start in range(0, n, step):
        r = read_only_tensor(x[start:start + step]).to(device, torch.float32)
        d2 = torch.addmm(r.square().sum(dim=1)[None, :], q, r.T, alpha=-2.0).add_(qn)
        own = ((qidx >= start) & (qidx < start + len(r))).nonzero().squeeze(1)
        d2[own, qidx[own] - start] = float("inf")
        cd, ci = torch.topk(d2, min(kk, len(r)), dim=1, largest=False)
        cat_d, cat_i = torch.cat([best_d, cd], dim=1), torch.cat([best_i, ci + start], dim=1)
        best_d, pos = torch.topk(cat_d, kk, dim=1, largest=False)
        best_i = torch.gather(cat_i, 1, pos)
    return best_d, best_i


def _exact64(x: np.ndarray, qrows: torch.Tensor, cand: torch.Tensor, rank: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """float64 distances of the candidates, sorted by (distance, content rank), and the candidates in that order."""
    dev = qrows.device
    uniq, inverse = np.unique(cand.reshape(-1).cpu().numpy(), return_inverse=True)
    rows = read_only_tensor(x[uniq]).to(dev, torch.float64)
    lookup = torch.from_numpy(inverse.reshape(-1)).to(dev).reshape(cand.shape)
    d64 = (qrows[:, None, :] - rows[lookup]).square().sum(dim=2)
    order = torch.argsort(rank[cand], dim=1, stable=True)
    d_sorted, cand_sorted = torch.gather(d64, 1, order), torch.gather(cand, 1, order)
    order = torch.argsort(d_sorted, dim=1, stable=True)
    return torch.gather(d_sorted, 1, order), torch.gather(cand_sorted, 1, order)


def _full64(x: np.ndarray, qrow: torch.Tensor, qi: int, by_rank: torch.Tensor, k: int) -> torch.Tensor:
    """The ``k`` nearest other rows of one query by float64 distances to every row (the fallback)."""
    dev = qrow.device
    parts = []
    step = max(1, 2**22 // x.shape[1])
    for start in range(0, x.shape[0], step):
        r = rows64(x, start, start + step, dev)
        parts.append((r - qrow).square().sum(dim=1))
    dist = torch.cat(parts)
    dist[qi] = float("inf")
    return by_rank[torch.argsort(dist[by_rank], stable=True)[:k]]


def _row_norms(x: np.ndarray, device: torch.device) -> torch.Tensor:
    out = []
    step = max(1, 2**22 // x.shape[1])
    for start in range(0, x.shape[0], step):
        out.append(rows64(x, start, start + step, device).square().sum(dim=1))
    return torch.cat(out)


def neighbours(x: np.ndarray, queries: np.ndarray, k: int, rank: np.ndarray,
               device: torch.device) -> np.ndarray:
    """Indices ``(m, k)`` of the ``k`` nearest other rows of each query row (Euclidean), nearest first.

    Exact: a float32 search; where the float32 error bound cannot certify the order of the first
    ``k + 1`` candidates, a float64 re-ranking of the candidates; where that cannot be certified
    either, float64 distances to every row. Ties go to the lower ``rank``.
    """
    n, d = x.shape
    kk = min(k + EXTRA_CANDIDATES, n - 1)
    rank_t = torch.from_numpy(rank).to(device)
    norms = _row_norms(x, device)
    tol = (2 * d + 16) * _U32 * 1.01  # |float32 distance - exact| <= tol * (|q|^2 + |r|^2)
    far = tol * (norms + norms.max())  # bound for a query against any row
    out = np.empty((len(queries), k), dtype=np.int64)
    by_rank: torch.Tensor | None = None
    block = max(1, min(1024, CHUNK_BYTES // (8 * kk * d)))
    for qs in range(0, len(queries), block):
        qi = queries[qs:qs + block]
        qidx = torch.from_numpy(qi).to(device)
        q64 = read_only_tensor(x[qi]).to(device, torch.float64)
        best_d, cand = _search32(x, q64.to(torch.float32), qidx, kk, device)
        best_d = best_d.to(torch.float64)
        err = tol * (norms[qidx][:, None] + norms[cand])
        m = min(k + 1, kk)
        lo, hi = best_d[:, :m] + err[:, :m], best_d[:, :m] - err[:, :m]
        clear = (lo[:, :-1] < hi[:, 1:]).all(dim=1) if m > 1 else torch.ones(len(qi), dtype=torch.bool, device=device)
        nb = cand[:, :k].clone()
        redo = (~clear).nonzero().squeeze(1)
        if len(redo):
            d_sorted, c_sorted = _exact64(x, q64[redo], cand[redo], rank_t)
            nb[redo] = c_sorted[:, :k]
            # every non-candidate has float32 distance >= best_d[:, -1], so exact >= best_d[:, -1] - far
            sure = (kk == n - 1) | (d_sorted[:, k - 1] < best_d[redo, -1] - far[qidx[redo]])
            for j in redo[~sure].tolist():
                if by_rank is None:
                    by_rank = torch.argsort(rank_t, stable=True)
                nb[j] = _full64(x, q64[j], int(qi[j]), by_rank, k)
        out[qs:qs + block] = nb.cpu().numpy()
    return out


def vote(nb_labels: np.ndarray) -> np.ndarray:
    """Majority label of each row of ``(m, k)`` neighbour labels; ties go to the nearer neighbour's class."""
    counts = (nb_labels[:, :, None] == nb_labels[:, None, :]).sum(axis=2)
    first = np.argmax(counts == counts.max(axis=1, keepdims=True), axis=1)
    return nb_labels[np.arange(len(nb_labels)), first]


def _unit_scale(f: np.ndarray) -> np.ndarray:
    """``f`` times a power of two that brings its largest magnitude near 1, when it is far from 1.

    Neighbours do not change with a common scale, and a power of two scales every float exactly, so the
    result is the same; squared distances of features near 1e30 (or 1e-30) would overflow (underflow)
    float32 in the chunked search.
    """
    step = max(1, 2**22 // max(f.shape[1], 1))
    top = max(float(np.max(np.abs(f[i:i + step]))) for i in range(0, f.shape[0], step))
    if top == 0.0 or 2.0**-20 <= top <= 2.0**20:
        return f
    return f * np.asarray(2.0 ** -np.ceil(np.log2(top)), dtype=f.dtype)


@SCORES.register("knn_accuracy", aliases=("knn",), info=ScoreInfo(
    input="features", summary="leave-one-out k-NN accuracy"))
def knn_accuracy(features: Any, labels: Sequence[Hashable] | np.ndarray, *, k: int = 5,
                 device: str | torch.device | None = None) -> float:
    """Fraction of samples whose ``k`` nearest other samples vote for their label.

    Ties between classes go to the tied class of the nearest neighbour. Beyond
    ``Limits.max_pairs`` distance pairs the fraction is estimated on a class-stratified subset of
    query samples (each searched among all samples), with a note.
    """
    f = check_rows(features)
    y, _ = check_labels(labels, f.shape[0])
    n = f.shape[0]
    if not 1 <= k < n:
        raise DataError(f"knn_accuracy: k must be between 1 and N - 1 = {n - 1} (N: the number of samples), got {k}")
    dev = resolve_device(device)
    rank = content_rank(f, y)
    f = _unit_scale(f)
    lim = limits()
    if n * (n - 1) <= lim.max_pairs:
        queries = np.arange(n)
    else:
        m = min(n, max(lim.min_queries, lim.max_pairs // n))
        order = np.argsort(rank)
        queries = np.sort(order[stratified_sample(y[order], m, lim.seed)])
    pred = vote(y[neighbours(f, queries, k, rank, dev)])
    acc = float(np.mean(pred == y[queries]))
    if len(queries) < n:
        half = 1.96 * np.sqrt(max(acc * (1 - acc), 0.25 / len(queries)) / len(queries))
        note(f"knn_accuracy: estimated on a class-stratified subset of {len(queries)} of {n} query samples "
             f"(seed {lim.seed}; each searched among all {n}), 95% interval +-{half:.3f}; exact leave-one-out "
             f"needs {n * (n - 1):.2g} distance pairs, above max_pairs={lim.max_pairs:.2g}")
    return acc
