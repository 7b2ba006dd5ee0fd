"""Dynamic weight average (Liu, Johns & Davison, CVPR 2019)."""

from __future__ import annotations

import numpy as np

from transferkit.multitask.weightings._base import WEIGHTINGS, Weighting, WeightingInfo


def dwa_weights(loss_history: list[np.ndarray], temperature: float = 2.0) -> np.ndarray:
    """Weights from per-epoch mean task losses: ``lambda_k = K softmax(r_k / T)`` with
    ``r_k = L_k(t-1) / L_k(t-2)``; all ones before two epochs exist. They sum to ``K``."""
    if not loss_history:
        raise ValueError("dwa_weights needs at least the number of tasks; pass a non-empty history")
    k = len(loss_history[-1])
    if len(loss_history) < 2:
        return np.ones(k)
    prev, prev2 = np.asarray(loss_history[-1], float), np.asarray(loss_history[-2], float)
    ratio = prev / np.maximum(prev2, 1e-12)
    z = ratio / temperature
    e = np.exp(z - z.max())
    return k * e / e.sum()


@WEIGHTINGS.register("dwa", info=WeightingInfo(
    "loss", "weights follow how fast each task's loss falls (slow tasks get more)",
    "Liu, Johns & Davison, CVPR 2019 (MTAN)"))
class DWA(Weighting):
    """Per-epoch weights from the ratio of the last two epoch-average losses, temperature ``T = 2``."""

    name = "dwa"

    def __init__(self, temperature: float = 2.0) -> None:
        super().__init__()
        if not temperature > 0:
            raise ValueError("dwa temperature must be > 0")
        self.temperature = float(temperature)

    def on_epoch_start(self, epoch: int, loss_history: list[np.ndarray]) -> None:
        """Recompute the weights from the last two epochs' mean losses."""
        self._weights = dwa_weights(loss_history, self.temperature) if loss_history else np.ones(self.k)
