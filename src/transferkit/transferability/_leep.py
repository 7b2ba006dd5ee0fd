"""LEEP: log expected empirical prediction (Nguyen et al., ICML 2020)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from transferkit.errors import DataError
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._validate import check_labels, check_probs, one_hot


def empirical_conditional(source_probs: np.ndarray, y: np.ndarray, c: int) -> np.ndarray:
    """``P(target class | source class)`` as a ``(C_s, C_t)`` table built from soft predictions.

    Source classes that receive no probability mass at all get a uniform row (they never matter
    for the score, because no sample puts weight on them).
    """
    joint = source_probs.T @ one_hot(y, c) / len(y)  # (C_s, C_t): P(z, y)
    marg = joint.sum(axis=1, keepdims=True)
    out = np.full_like(joint, 1.0 / c)
    np.divide(joint, marg, out=out, where=marg > 0)
    return out


@SCORES.register("leep", info=ScoreInfo(input="probs", summary="log expected empirical prediction of the source head"))
def leep(source_probs: Any, labels: Sequence[Hashable] | np.ndarray) -> float:
    """LEEP of source-model probabilities ``(N, C_s)`` for target ``labels`` (in ``(-inf, 0]``).

    ``mean_i log sum_z P(y_i | z) theta_z(x_i)`` with ``P(y | z)`` estimated from the same data.
    """
    probs = check_probs(source_probs)
    y, c = check_labels(labels, probs.shape[0])
    cond = empirical_conditional(probs, y, c)
    eep = np.einsum("iz,iz->i", probs, cond[:, y].T)
    if np.any(eep <= 0):
        raise DataError("LEEP is undefined: some sample gets zero expected probability for its label")
    return float(np.mean(np.log(eep)))
