"""PED: potential energy descent before a base score (Li et al., ICCV 2023).

"Exploring Model Transferability through the Lens of Potential Energy". Fine-tuning pushes
overlapping classes apart; PED imitates a few steps of that motion on the frozen features and then
scores the moved features with an existing score (LogME here by default, SFDA on request). One
step, in standardised coordinates ``z = (x - mu) / max(sd, 1e-3)``:

* each class ``k`` is a ball at its mean ``m_k`` with radius ``R_k = sqrt(sum_d var_kd)``;
* two classes overlap by ``o_kj = max(nsigma (R_k + R_j) - |m_k - m_j|, 0)``; the overlap is a
  repulsive force, and in one time step ``t`` a class moves ``min(t^2 c o_kj / 2, o_kj)`` away from
  the other along ``(m_k - m_j) / |m_k - m_j|`` (classes with equal means do not push, the direction
  being undefined);
* every sample of class ``k`` moves by the sum of its class's pushes.

Steps repeat (at most 6) while a step's total movement stays above ``exit_ratio`` times the first
step's; the moved features are mapped back to the original scale and scored. The authors' defaults
(their ``evaluate_metric_cpu.py``): ``nsigma = 0.6``, ``t = 0.1``, ``c = 1``, ``exit_ratio = 0.5``.

The authors standardise with the mean and spread of the *same model's features on ImageNet
validation images* (their Appendix B). Those are rarely at hand for an arbitrary candidate (raw
pixels, a text encoder), so by default the target features standardise themselves; pass
``reference=`` (features of the model on its source data) to follow the paper exactly. The
authors' script scores with SFDA by default (``--type SFDA``); the paper's first pairing, and the
default here, is LogME. Checked against lixiaotong97/PED (``metrics.PED_Score``) in
``tests/test_transferability_ped.py``.

Every sample of a class moves by the same vector, so a class keeps its spread and only the ``C``
class means move: the descent runs on ``C x D`` class statistics (one chunked float64 pass over
the features, plus two over ``reference`` when given), and the moved features are
``x + shift[y]``. The default LogME base is computed from ``x``'s raw Gram matrix and class sums,
taken in the same pass, with the shift folded in, so ``ped`` is linear in ``N`` with no float64 ``N x D``
copy; ``base="sfda"`` and :func:`potential_energy_descent` form the moved features.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from scipy.spatial.distance import cdist

from transferkit._compute import add_gram, chunks, column_mean, full_gram, resolve_device
from transferkit.errors import DataError
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._logme import logme, logme_from_gram
from transferkit.transferability._sfda import sfda
from transferkit.transferability._validate import check_labels, check_rows

NSIGMA = 0.6
TIME_STEP = 0.1
CONSTANT = 1.0
EXIT_RATIO = 0.5
MAX_STEPS = 6
MIN_STD = 1e-3


def _push(means: np.ndarray, radius: np.ndarray, nsigma: float, time_step: float, constant: float) -> np.ndarray:
    """The displacement ``(C, D)`` of every class in one step of potential energy descent."""
    dist = cdist(means, means)
    overlap = np.maximum(abs(nsigma) * (radius[:, None] + radius[None, :]) - dist, 0.0)
    np.fill_diagonal(overlap, 0.0)
    move = np.minimum(0.5 * time_step ** 2 * constant * overlap, overlap)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(dist > 0, move / dist, 0.0)  # push along the unit vector m_k - m_j
    return means * w.sum(axis=1, keepdims=True) - w @ means


def _standardisation(ref: np.ndarray, dev: torch.device) -> tuple[np.ndarray, np.ndarray]:
    """Column means and spreads ``max(std, MIN_STD)`` of ``ref`` in two chunked float64 passes."""
    mu = column_mean(ref, dev)
    sq = torch.zeros_like(mu)
    for _, _, part in chunks(ref, dev):
        sq += (part - mu).square().sum(dim=0)
    return mu.cpu().numpy(), np.maximum(np.sqrt(sq.cpu().numpy() / ref.shape[0]), MIN_STD)


@dataclass
class ClassStats:
    """Class sizes, sums and within-class sums of squares ``(C, D)`` of ``x``; its raw Gram matrix if asked."""

    counts: torch.Tensor
    sums: torch.Tensor
    within: torch.Tensor
    gram: torch.Tensor | None


def class_stats(x: np.ndarray, y: np.ndarray, c: int, dev: torch.device, gram: bool = False) -> ClassStats:
    """One chunked float64 pass: squares are taken about the first chunk's column means (less cancellation)."""
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64)).to(dev)
    sums = torch.zeros((c, x.shape[1]), dtype=torch.float64, device=dev)
    squares = torch.zeros_like(sums)
    g = torch.zeros((x.shape[1], x.shape[1]), dtype=torch.float64, device=dev) if gram else None
    origin = None
    for start, stop, part in chunks(x, dev):
        labels = yt[start:stop]
        sums.index_add_(0, labels, part)
        if g is not None:
            add_gram(g, part)
        origin = part.mean(dim=0) if origin is None else origin
        squares.index_add_(0, labels, (part - origin).square())
    counts = torch.bincount(yt, minlength=c).to(torch.float64)
    assert origin is not None
    within = squares - counts[:, None] * (sums / counts[:, None] - origin).square()
    return ClassStats(counts, sums, within.clamp_(min=0.0), full_gram(g) if g is not None else None)


def class_shifts(stats: ClassStats, reference: np.ndarray | None = None, *, nsigma: float = NSIGMA,
                 time_step: float = TIME_STEP, constant: float = CONSTANT, exit_ratio: float = EXIT_RATIO,
                 max_steps: int = MAX_STEPS) -> np.ndarray:
    """How far PED moves each class, ``(C, D)`` in the original scale: moved rows are ``x + shift[y]``."""
    n_k, w = stats.counts.cpu().numpy(), stats.within.cpu().numpy()
    m = stats.sums.cpu().numpy() / n_k[:, None]
    n = float(n_k.sum())
    if reference is None:
        mu = n_k @ m / n
        sd = np.maximum(np.sqrt((w.sum(axis=0) + n_k @ (m - mu) ** 2) / n), MIN_STD)
    else:
        mu, sd = _standardisation(reference, stats.sums.device)
    mz = (m - mu) / sd
    radius = np.sqrt((w / n_k[:, None] / sd**2).sum(axis=1))  # a class's spread never changes
    moved, first = mz.copy(), 0.0
    for step in range(max_steps):
        push = _push(moved, radius, nsigma, time_step, constant)
        change = float(np.abs(push).sum())
        if step == 0:
            first = change
        if first == 0.0 or change / first <= exit_ratio:
            break
        moved += push
    return (moved - mz) * sd


def _inputs(features: Any, labels: Sequence[Hashable] | np.ndarray,
            reference: Any) -> tuple[np.ndarray, np.ndarray, int, np.ndarray | None]:
    x = check_rows(features)
    y, c = check_labels(labels, x.shape[0])
    ref = None if reference is None else check_rows(reference, "reference")
    if ref is not None and ref.shape[1] != x.shape[1]:
        raise DataError(f"ped: reference features have {ref.shape[1]} columns but the target features "
                        f"{x.shape[1]}; pass the same model's features on its source data")
    return x, y, c, ref


def potential_energy_descent(features: Any, labels: Sequence[Hashable] | np.ndarray, *, reference: Any = None,
                             nsigma: float = NSIGMA, time_step: float = TIME_STEP, constant: float = CONSTANT,
                             exit_ratio: float = EXIT_RATIO, max_steps: int = MAX_STEPS) -> np.ndarray:
    """``features`` ``(N, D)`` after PED's class-repulsion steps (see the module docstring), float64."""
    x, y, c, ref = _inputs(features, labels, reference)
    shift = class_shifts(class_stats(x, y, c, resolve_device()), ref, nsigma=nsigma, time_step=time_step,
                         constant=constant, exit_ratio=exit_ratio, max_steps=max_steps)
    return np.asarray(x, dtype=np.float64) + shift[y]


@SCORES.register("ped", info=ScoreInfo(
    input="features",
    summary="LogME after a few steps that push overlapping classes apart (simulated fine-tuning dynamics)",
    caveat="standardises with the target's own statistics (the paper uses the model's ImageNet "
           "features); values are LogME-like, comparable only on the same target"))
def ped(features: Any, labels: Sequence[Hashable] | np.ndarray, *, base: Literal["logme", "sfda"] = "logme",
        reference: Any = None, device: str | torch.device | None = None) -> float:
    """PED of ``features`` ``(N, D)``: the ``base`` score (``logme`` or ``sfda``) of the moved features."""
    if base not in ("logme", "sfda"):
        raise DataError(f"ped: base must be 'logme' or 'sfda', got {base!r}")
    x, y, c, ref = _inputs(features, labels, reference)
    dev = resolve_device(device)
    n, d = x.shape
    stats = class_stats(x, y, c, dev, gram=base == "logme" and n > d)
    shift = class_shifts(stats, ref)
    if stats.gram is None:
        moved = np.asarray(x, dtype=np.float64) + shift[y]
        return logme(moved, y, device=dev) if base == "logme" else sfda(moved, y, device=dev)
    # (X + E)'(X + E) with E = onehot(y) shift: X'X + S' shift + shift' S + shift' diag(n_k) shift
    delta = torch.from_numpy(shift).to(dev)
    cross = stats.sums.T @ delta
    gram = stats.gram + cross + cross.T + delta.T @ (stats.counts[:, None] * delta)
    sums = stats.sums + stats.counts[:, None] * delta
    return logme_from_gram(gram, sums.T, stats.counts.cpu().numpy(), n, d, dev)
