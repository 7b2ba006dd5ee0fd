"""``lp_ft``: linear probe first, then fine-tune everything from that head (Kumar et al., ICLR 2022).

A random head makes the first gradients distort the pre-trained features; starting the fine-tune
from a fitted probe avoids that. Use a small learning rate for the second stage.
"""

from __future__ import annotations

from typing import Any

from transferkit.data.dataset import Dataset
from transferkit.strategies._base import Strategy, is_transformer
from transferkit.strategies._info import STRATEGIES, StrategyInfo
from transferkit.strategies.linear_probe import LinearProbe
from transferkit.training import TrainConfig, TrainResult, TransferModel


@STRATEGIES.register("lp_ft", info=StrategyInfo("linear probe, then fine-tune everything from the probe's head "
                                                "(LP-FT)", advice="try a smaller learning rate for the fine-tuning "
                                                                  "stage, or the linear probe alone"))
class LPFT(Strategy):
    """Stage 1: :class:`LinearProbe` (``head``); stage 2: full fine-tuning at the configured learning rate."""

    name = "lp_ft"

    def __init__(self, head: str = "logistic") -> None:
        self.head = head

    def fit(self, model: TransferModel, train_data: Dataset, val_data: Dataset | None, config: TrainConfig,
            callbacks: Any = (), accelerator: Any = None) -> TrainResult:
        """Probe, then fine-tune; the history holds the fine-tuning epochs, the seconds include both."""
        probe = LinearProbe(head=self.head).fit(model, train_data, val_data, config)
        result = super().fit(model, train_data, val_data, config, callbacks, accelerator)
        if probe.best_score > result.best_score and val_data is not None:
            result.config["note"] = "fine-tuning never beat the probe on validation; the best epoch is kept"
        result.config["probe_val_score"] = probe.best_score
        result.seconds += probe.seconds
        for h in result.history:
            h["seconds"] += probe.seconds
        return result

    def default_lr(self, model: TransferModel) -> float:
        """Smaller than plain fine-tuning: the head is already good."""
        return 2e-5 if is_transformer(model) else 3e-4
