"""``l2sp``: fine-tune with a penalty pulling the backbone toward its pre-trained weights.

Omega(w) = alpha/2 * ||w_backbone - w0_backbone||^2 (Li, Grandvalet, Davoine, ICML 2018); the new head
keeps ordinary weight decay, the backbone none (the penalty replaces it). TLlib's default trade-off
is 0.01.
"""

from __future__ import annotations

from typing import Any

import torch

from transferkit.strategies._base import Strategy
from transferkit.strategies._info import STRATEGIES, StrategyInfo
from transferkit.training import TransferModel, set_trainable


@STRATEGIES.register("l2sp", info=StrategyInfo("fine-tune with an L2 penalty toward the pre-trained weights (L2-SP)"))
class L2SP(Strategy):
    """Full fine-tuning plus ``alpha/2 * ||w - w0||^2`` over the backbone parameters."""

    name = "l2sp"

    def __init__(self, alpha: float = 0.01) -> None:
        if alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {alpha}")
        self.alpha = float(alpha)
        self._ref: list[tuple[torch.nn.Parameter, torch.Tensor]] = []

    def setup(self, model: TransferModel) -> None:
        """Everything trains; remember the starting backbone weights."""
        set_trainable(model, True)
        self._ref = [(p, p.detach().clone()) for p in model.backbone.parameters()]

    def param_groups(self, model: TransferModel, lr: float, weight_decay: float) -> list[dict[str, Any]]:
        """Backbone without weight decay (the penalty takes its place), head with it."""
        return [{"params": list(model.backbone.parameters()), "lr": lr, "weight_decay": 0.0, "name": "backbone"},
                {"params": list(model.head.parameters()), "lr": lr, "weight_decay": weight_decay, "name": "head"}]

    def penalty(self) -> torch.Tensor:
        """``sum ||w - w0||^2`` over the backbone (0 right after ``setup``)."""
        if not self._ref:
            raise RuntimeError("call setup(model) before penalty()")
        total = torch.zeros((), device=self._ref[0][0].device)
        for i, (p, p0) in enumerate(self._ref):
            if p0.device != p.device:  # the model moved (GPU) after setup
                p0 = p0.to(p.device)
                self._ref[i] = (p, p0)
            total = total + ((p.float() - p0.float()) ** 2).sum()
        return total

    def regularizer(self, model: TransferModel) -> torch.Tensor | None:
        """``alpha/2 * penalty``."""
        return 0.5 * self.alpha * self.penalty() if self.alpha > 0 else None
