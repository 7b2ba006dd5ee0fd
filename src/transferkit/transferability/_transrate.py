"""TransRate (Huang et al., ICML 2022): coding-rate gain of knowing the labels.

Rows are read in chunks, scaled to unit length and centred in float64 on torch; each coding rate
comes from the eigenvalues of the smaller Gram matrix (``D x D`` accumulated over chunks, or
``n x n`` for a part with fewer rows than columns), so no ``N x D`` float64 copy is made.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import torch

from transferkit._compute import chunk_rows, resolve_device, rows64, symmetric_eig
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._validate import check_labels, check_rows


def _unit_rows(x: np.ndarray, idx: np.ndarray, mean: torch.Tensor | None, dev: torch.device) -> Any:
    """Chunks of rows ``idx`` scaled to unit length (and centred on ``mean``), float64."""
    step = chunk_rows(len(idx), x.shape[1], dev)
    contiguous = len(idx) == x.shape[0]
    for start in range(0, len(idx), step):
        stop = min(start + step, len(idx))
        part = rows64(x, start, stop, dev) if contiguous else torch.from_numpy(
            np.array(x[idx[start:stop]], dtype=np.float64))
        norms = part.norm(dim=1, keepdim=True)
        part = part / torch.where(norms > 0, norms, torch.ones_like(norms))
        yield part if mean is None else part - mean


def _rate(x: np.ndarray, idx: np.ndarray, mean: torch.Tensor, scale: float, dev: torch.device) -> float:
    d = x.shape[1]
    if len(idx) < d:
        z = torch.cat(list(_unit_rows(x, idx, mean, dev)))
        gram = z @ z.T
    else:
        gram = torch.zeros((d, d), dtype=torch.float64, device=dev)
        for part in _unit_rows(x, idx, mean, dev):
            gram.addmm_(part.T, part)
    w, _ = symmetric_eig(gram, dev, eigenvectors=False)
    return float(0.5 * np.sum(np.log1p(scale * np.clip(w, 0.0, None))))


@SCORES.register("transrate", info=ScoreInfo(
    input="features", summary="coding rate of all features minus within-class rates"))
def transrate(features: Any, labels: Sequence[Hashable] | np.ndarray, *, eps2: float = 1e-4,
              device: str | torch.device | None = None) -> float:
    """``R(Z) - sum_c (n_c / N) R(Z_c)`` with ``R(Z) = 1/2 log det(I + D/(n eps2) Z'Z)``.

    Rows are scaled to unit length and centred (as in the authors' code), class parts stay
    globally centred and are weighted by class frequency, so the value is ``>= 0``.
    """
    f = check_rows(features)
    y, c = check_labels(labels, f.shape[0])
    n, d = f.shape
    dev = resolve_device(device)
    every = np.arange(n)
    mean = sum(part.sum(dim=0) for part in _unit_rows(f, every, None, dev)) / n
    total = _rate(f, every, mean, d / (n * eps2), dev)
    within = 0.0
    for k in range(c):
        idx = np.flatnonzero(y == k)
        within += len(idx) / n * _rate(f, idx, mean, d / (len(idx) * eps2), dev)
    return float(total - within)
