"""``discriminative_lr``: layer-wise learning-rate decay, ``lr_g = lr * decay ** (depth from the top)``.

ULMFiT uses a ratio of 2.6 between layers (decay ~0.38); BEiT/ELECTRA-style fine-tuning uses
0.65-0.9. ``decay=1`` is plain fine-tuning.
"""

from __future__ import annotations

from typing import Any

from transferkit.strategies._base import Strategy
from transferkit.strategies._info import STRATEGIES, StrategyInfo
from transferkit.training import TransferModel


def layerwise_groups(model: TransferModel, lr: float, weight_decay: float, decay: float) -> list[dict[str, Any]]:
    """One optimiser group per layer group (backbone groups input to output, then the head).

    The head gets ``lr``; each group below gets ``decay`` times the one above. Parameters outside
    every layer group (should not happen) join the lowest group's rate.
    """
    groups = model.layer_groups()
    n = len(groups)
    seen: set[int] = set()
    out: list[dict[str, Any]] = []
    for i, g in enumerate(groups):
        params = [p for p in g.parameters() if id(p) not in seen]
        seen.update(id(p) for p in params)
        out.append({"params": params, "lr": lr * decay ** (n - 1 - i), "weight_decay": weight_decay,
                    "name": "head" if i == n - 1 else f"group{i}"})
    rest = [p for p in model.parameters() if id(p) not in seen]
    if rest:
        out.append({"params": rest, "lr": lr * decay ** (n - 1), "weight_decay": weight_decay, "name": "rest"})
    return out


@STRATEGIES.register("discriminative_lr", info=StrategyInfo("fine-tune with layer-wise learning-rate decay "
                                                            "(lower layers learn slower)", needs_layer_groups=True),
                     aliases=("layer_decay", "llrd"))
class DiscriminativeLR(Strategy):
    """Fine-tune everything; each layer group's learning rate is ``decay`` times the one above it."""

    name = "discriminative_lr"

    def __init__(self, decay: float = 0.75) -> None:
        if not 0 < decay <= 1:
            raise ValueError(f"decay must be in (0, 1], got {decay}")
        self.decay = float(decay)

    def param_groups(self, model: TransferModel, lr: float, weight_decay: float) -> list[dict[str, Any]]:
        """Groups with decaying learning rates toward the input."""
        return layerwise_groups(model, lr, weight_decay, self.decay)
