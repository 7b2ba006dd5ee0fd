"""LEEP: log expected empirical prediction (Nguyen et al., ICML 2020).

Computed in two chunked passes on torch (float64 per chunk): the ``(C_s, C_t)`` joint table, then
the expected empirical prediction of each row, so no float64 ``N x C_s`` copy is ever made.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import torch

from transferkit._compute import chunks, resolve_device
from transferkit.errors import DataError
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._validate import check_labels, check_rows, one_hot


def empirical_conditional(source_probs: np.ndarray, y: np.ndarray, c: int) -> np.ndarray:
    """``P(target class | source class)`` as a ``(C_s, C_t)`` table built from soft predictions.

    Source classes that receive no probability mass at all get a uniform row (they never matter
    for the score, because no sample puts weight on them).
    """
    joint = source_probs.T @ one_hot(y, c) / len(y)  # (C_s, C_t): P(z, y)
    return _conditional(joint, c)


def _conditional(joint: np.ndarray, c: int) -> np.ndarray:
    marg = joint.sum(axis=1, keepdims=True)
    out = np.full_like(joint, 1.0 / c)
    np.divide(joint, marg, out=out, where=marg > 0)
    return out


def _checked_chunks(probs: np.ndarray, dev: torch.device, name: str) -> Any:
    """Row chunks of the probabilities as float64, checked (non-negative, rows sum to 1) and normalised."""
    for start, stop, part in chunks(probs, dev):
        if bool((part < 0).any()):
            raise DataError(f"{name} contain negative values: pass softmax probabilities, not logits")
        sums = part.sum(dim=1)
        off = (sums - 1.0).abs()
        if bool((off > 1e-3 + 1e-8).any()):
            worst = float(sums[int(off.argmax())])
            raise DataError(f"each row of {name} must sum to 1 (a row sums to {worst:.4g}); apply a softmax to the "
                            "source model's logits first")
        yield start, stop, part / sums[:, None]


@SCORES.register("leep", info=ScoreInfo(input="probs", summary="log expected empirical prediction of the source head"))
def leep(source_probs: Any, labels: Sequence[Hashable] | np.ndarray, *,
         device: str | torch.device | None = None) -> float:
    """LEEP of source-model probabilities ``(N, C_s)`` for target ``labels`` (in ``(-inf, 0]``).

    ``mean_i log sum_z P(y_i | z) theta_z(x_i)`` with ``P(y | z)`` estimated from the same data.
    """
    probs = check_rows(source_probs, "source_probs")
    y, c = check_labels(labels, probs.shape[0])
    dev = resolve_device(device)
    yt = torch.from_numpy(y).to(dev)
    joint_t = torch.zeros((c, probs.shape[1]), dtype=torch.float64, device=dev)  # (C_t, C_s)
    for start, stop, part in _checked_chunks(probs, dev, "source_probs"):
        joint_t.index_add_(0, yt[start:stop], part)
    cond_t = torch.from_numpy(_conditional((joint_t / len(y)).T.cpu().numpy(), c).T.copy()).to(dev)  # (C_t, C_s)
    total = torch.zeros((), dtype=torch.float64, device=dev)
    for start, stop, part in _checked_chunks(probs, dev, "source_probs"):
        eep = (part * cond_t[yt[start:stop]]).sum(dim=1)
        if bool((eep <= 0).any()):
            raise DataError("LEEP is undefined: some sample gets zero expected probability for its label")
        total += eep.log().sum()
    return float(total / len(y))
