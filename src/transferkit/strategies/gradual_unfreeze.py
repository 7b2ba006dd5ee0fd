"""``gradual_unfreeze`` (ULMFiT): train the head first, then unfreeze one layer group per stage from the top.

The frozen set is derived from the epoch number alone, so resuming from a checkpoint restores it.
Under several processes, DDP only synchronises parameters that trained when it wrapped the model;
the training loop averages the gradients of layers unfrozen later itself, so every process keeps
the same weights (tested with two gloo processes).
"""

from __future__ import annotations

from typing import Any

from transferkit.strategies._base import Strategy
from transferkit.strategies._info import STRATEGIES, StrategyInfo
from transferkit.strategies.discriminative_lr import layerwise_groups
from transferkit.training import TransferModel, set_trainable


@STRATEGIES.register("gradual_unfreeze", info=StrategyInfo("head first, then unfreeze one layer group per stage "
                                                           "from the top (ULMFiT)", needs_layer_groups=True))
class GradualUnfreeze(Strategy):
    """Stage ``s`` (``epochs_per_stage`` epochs each) trains the head and the top ``s`` backbone groups.

    Args:
        epochs_per_stage: epochs before the next group down is unfrozen.
        decay: optional layer-wise learning-rate decay (1 = none; ULMFiT uses 1/2.6).
    """

    name = "gradual_unfreeze"

    def __init__(self, epochs_per_stage: int = 1, decay: float = 1.0) -> None:
        if epochs_per_stage < 1 or not 0 < decay <= 1:
            raise ValueError("epochs_per_stage must be >= 1 and decay in (0, 1]")
        self.epochs_per_stage, self.decay = int(epochs_per_stage), float(decay)

    def unfrozen_groups(self, epoch: int, n_groups: int) -> int:
        """How many backbone groups (from the top) train in ``epoch`` (0-based)."""
        return min(n_groups, epoch // self.epochs_per_stage)

    def setup(self, model: TransferModel) -> None:
        """Only the head trains at first."""
        self.on_epoch_start(0, model)

    def on_epoch_start(self, epoch: int, model: TransferModel) -> None:
        """Freeze the backbone except its top groups for this stage."""
        groups = model.backbone.layer_groups()
        k = self.unfrozen_groups(epoch, len(groups))
        set_trainable(model.backbone, False)
        set_trainable(list(groups[len(groups) - k:]) if k else [], True)
        set_trainable(model.head, True)

    def param_groups(self, model: TransferModel, lr: float, weight_decay: float) -> list[dict[str, Any]]:
        """Every parameter (frozen ones too, so they can join later), with optional layer-wise decay."""
        return layerwise_groups(model, lr, weight_decay, self.decay)
