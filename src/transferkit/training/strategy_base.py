"""The small interface a transfer strategy gives the training loop, and the plain default.

A strategy says which parameters train at which learning rate (:meth:`param_groups`), may change
that per epoch (:meth:`on_epoch_start`, e.g. gradual unfreezing), and may add a regulariser to the
loss (:meth:`regularizer`, e.g. L2-SP). Everything else is the loop's job.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from transferkit.backbones.model import TransferModel


def set_trainable(modules: list[nn.Module] | nn.Module, flag: bool) -> None:
    """Set ``requires_grad`` of every parameter of ``modules``."""
    mods = modules if isinstance(modules, list) else [modules]
    for m in mods:
        for p in m.parameters():
            p.requires_grad_(flag)


class TrainStrategy:
    """Default: every parameter trains at the base learning rate, no regulariser."""

    name = "full"

    def setup(self, model: TransferModel) -> None:
        """Prepare the model before the optimiser is built (freeze, copy reference weights...)."""
        set_trainable(model, True)

    def param_groups(self, model: TransferModel, lr: float, weight_decay: float) -> list[dict[str, Any]]:
        """Optimiser parameter groups; each parameter appears in at most one group.

        Frozen parameters are included too (they get no gradient, so the optimiser leaves them
        unchanged) so that strategies can unfreeze them later without rebuilding the optimiser.
        """
        return [{"params": [p for p in model.parameters()], "lr": lr, "weight_decay": weight_decay, "name": "all"}]

    def on_epoch_start(self, epoch: int, model: TransferModel) -> None:
        """Called before each epoch (0-based)."""

    def regularizer(self, model: TransferModel) -> torch.Tensor | None:
        """Extra loss term, or None."""
        return None

    def describe(self) -> dict[str, Any]:
        """Settings for results.json."""
        return {"name": self.name}
