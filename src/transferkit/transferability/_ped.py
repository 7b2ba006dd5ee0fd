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
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Literal

import numpy as np
from scipy.spatial.distance import cdist

from transferkit.errors import DataError
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._logme import logme
from transferkit.transferability._sfda import sfda
from transferkit.transferability._validate import check_features, check_labels, one_hot

NSIGMA = 0.6
TIME_STEP = 0.1
CONSTANT = 1.0
EXIT_RATIO = 0.5
MAX_STEPS = 6
MIN_STD = 1e-3


def _class_push(z: np.ndarray, y: np.ndarray, c: int, nsigma: float, time_step: float,
                constant: float) -> np.ndarray:
    """The displacement ``(C, D)`` of every class in one step of potential energy descent."""
    counts = np.bincount(y, minlength=c).astype(np.float64)
    hot = one_hot(y, c)
    means = hot.T @ z / counts[:, None]
    spread = hot.T @ (z - means[y]) ** 2 / counts[:, None]  # per-class variances (N-normalised)
    radius = np.sqrt(spread.sum(axis=1))
    dist = cdist(means, means)
    overlap = np.maximum(abs(nsigma) * (radius[:, None] + radius[None, :]) - dist, 0.0)
    np.fill_diagonal(overlap, 0.0)
    move = np.minimum(0.5 * time_step ** 2 * constant * overlap, overlap)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(dist > 0, move / dist, 0.0)  # push along the unit vector m_k - m_j
    return means * w.sum(axis=1, keepdims=True) - w @ means


def potential_energy_descent(features: Any, labels: Sequence[Hashable] | np.ndarray, *, reference: Any = None,
                             nsigma: float = NSIGMA, time_step: float = TIME_STEP, constant: float = CONSTANT,
                             exit_ratio: float = EXIT_RATIO, max_steps: int = MAX_STEPS) -> np.ndarray:
    """``features`` ``(N, D)`` after PED's class-repulsion steps (see the module docstring), original scale."""
    x = check_features(features)
    y, c = check_labels(labels, x.shape[0])
    ref = x if reference is None else check_features(reference, "reference")
    if ref.shape[1] != x.shape[1]:
        raise DataError(f"ped: reference features have {ref.shape[1]} columns but the target features "
                        f"{x.shape[1]}; pass the same model's features on its source data")
    mu, sd = ref.mean(axis=0), np.maximum(ref.std(axis=0), MIN_STD)
    z = (x - mu) / sd
    first = 0.0
    for step in range(max_steps):
        push = _class_push(z, y, c, nsigma, time_step, constant)
        change = float(np.abs(push).sum())
        if step == 0:
            first = change
        if first == 0.0 or change / first <= exit_ratio:
            break
        z += push[y]
    z *= sd
    z += mu
    return z


@SCORES.register("ped", info=ScoreInfo(
    input="features",
    summary="LogME after a few steps that push overlapping classes apart (simulated fine-tuning dynamics)",
    caveat="standardises with the target's own statistics (the paper uses the model's ImageNet "
           "features); values are LogME-like, comparable only on the same target"))
def ped(features: Any, labels: Sequence[Hashable] | np.ndarray, *, base: Literal["logme", "sfda"] = "logme",
        reference: Any = None) -> float:
    """PED of ``features`` ``(N, D)``: the ``base`` score (``logme`` or ``sfda``) of the moved features."""
    if base not in ("logme", "sfda"):
        raise DataError(f"ped: base must be 'logme' or 'sfda', got {base!r}")
    moved = potential_energy_descent(features, labels, reference=reference)
    return logme(moved, labels) if base == "logme" else sfda(moved, labels)
