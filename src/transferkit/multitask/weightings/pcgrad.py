"""PCGrad: projecting conflicting gradients (Yu et al., NeurIPS 2020)."""

from __future__ import annotations

import numpy as np
import torch

from transferkit.multitask.weightings._base import (
    WEIGHTINGS,
    GradientSurgery,
    WeightingInfo,
    generator_state,
    set_generator_state,
)


def pcgrad_project(grads: torch.Tensor, generator: np.random.Generator | None = None) -> torch.Tensor:
    """Project each task gradient off the others it conflicts with.

    For task ``i`` and the other tasks ``j`` in random order: if ``g_i . g_j < 0`` then
    ``g_i <- g_i - (g_i . g_j) / ||g_j||^2 g_j`` (``g_j`` the original gradient). Returns the
    projected ``(K, P)`` gradients; their sum is the update. Non-conflicting gradients are unchanged.
    """
    if grads.ndim != 2:
        raise ValueError(f"pcgrad needs a (K, P) matrix of task gradients, got shape {tuple(grads.shape)}")
    rng = generator or np.random.default_rng()
    g = grads.clone()
    k = grads.shape[0]
    sq = (grads * grads).sum(1)
    for i in range(k):
        for j in rng.permutation(k):
            if j == i or sq[j] <= 0:
                continue
            dot = torch.dot(g[i], grads[j])
            if dot < 0:
                g[i] = g[i] - dot / sq[j] * grads[j]
    return g


@WEIGHTINGS.register("pcgrad", info=WeightingInfo(
    "gradient", "removes the part of each task's trunk gradient that conflicts with another task's",
    "Yu et al., NeurIPS 2020", per_task_backward=True))
class PCGrad(GradientSurgery):
    """Trunk update = sum of the PCGrad-projected task gradients; heads get their own task's gradient."""

    name = "pcgrad"

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.rng = np.random.default_rng(seed)

    def shared_gradient(self, grads: torch.Tensor) -> torch.Tensor:
        """The per-task trunk gradients, projected, summed."""
        return pcgrad_project(grads, self.rng).sum(0)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """The generator of the projection order."""
        return {"rng": generator_state(self.rng)}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Continue the projection order where the checkpoint left it."""
        set_generator_state(self.rng, tensors["rng"])
