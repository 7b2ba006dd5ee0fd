"""Uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from transferkit.multitask.weightings._base import WEIGHTINGS, Weighting, WeightingInfo


@WEIGHTINGS.register("uncertainty", aliases=("uw",), info=WeightingInfo(
    "loss", "learned task uncertainty: noisier tasks get smaller weights", "Kendall, Gal & Cipolla, CVPR 2018"))
class Uncertainty(Weighting):
    """``L = sum_k 0.5 * (exp(-s_k) L_k + s_k)`` with learned ``s_k = log sigma_k^2`` (init 0).

    For fixed losses the optimum is ``s_k = log L_k``, i.e. weight ``exp(-s_k) = 1 / L_k``: a
    task with a larger (noisier) loss is weighted down. :meth:`weights` reports ``exp(-s_k)``.
    """

    name = "uncertainty"

    def __init__(self) -> None:
        super().__init__()
        self.log_vars = nn.Parameter(torch.zeros(0))

    def setup(self, model: nn.Module, task_names: tuple[str, ...]) -> None:
        """One log-variance per task, initialised at 0 (weight 1)."""
        super().setup(model, task_names)  # type: ignore[arg-type]
        device = next(model.parameters()).device
        self.log_vars = nn.Parameter(torch.zeros(self.k, device=device))

    def parameters(self) -> list[nn.Parameter]:
        """The log-variances, trained by the main optimiser."""
        return [self.log_vars]

    def combine(self, losses: torch.Tensor) -> torch.Tensor:
        """The uncertainty-weighted objective."""
        s = self.log_vars.to(losses.dtype)
        self._weights = np.exp(-self.log_vars.detach().cpu().numpy().astype(np.float64))
        return 0.5 * (torch.exp(-s) * losses + s).sum()
