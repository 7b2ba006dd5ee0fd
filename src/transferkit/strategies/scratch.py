"""``scratch``: the same architecture with random initial weights, trained on the same labels and budget.

This is the baseline every transfer result is compared with: the negative-transfer verdict is
"transfer minus scratch". Re-initialisation runs each module's own initialiser (Hugging Face
models use their ``_init_weights``), so BatchNorm running statistics are reset too. Input
standardisation buffers (tables, signals) are refitted on the target training data by ``fit``.
"""

from __future__ import annotations

from typing import Any

from transferkit.backbones.model import reinitialize
from transferkit.data.dataset import Dataset
from transferkit.strategies._base import Strategy, is_transformer
from transferkit.strategies._info import STRATEGIES, StrategyInfo
from transferkit.training import TrainConfig, TrainResult, TransferModel, set_trainable


@STRATEGIES.register("scratch", info=StrategyInfo("the same architecture from random weights, same labels and "
                                                  "budget (the baseline)", needs_pretrained=False))
class Scratch(Strategy):
    """Re-initialise the whole model, then train everything."""

    name = "scratch"

    def __init__(self) -> None:
        self._seed: int | None = None

    def setup(self, model: TransferModel) -> None:
        """Random weights everywhere, everything trains."""
        reinitialize(model, self._seed)
        set_trainable(model, True)

    def fit(self, model: TransferModel, train_data: Dataset, val_data: Dataset | None, config: TrainConfig,
            callbacks: Any = (), accelerator: Any = None) -> TrainResult:
        """Refit input standardisation on the target training inputs, re-initialise, train."""
        model.backbone.fit_preprocessing(train_data.x)
        self._seed = config.seed
        return super().fit(model, train_data, val_data, config, callbacks, accelerator)

    def default_lr(self, model: TransferModel) -> float:
        """Random weights tolerate larger steps than pre-trained ones."""
        return 3e-4 if is_transformer(model) else 3e-3
