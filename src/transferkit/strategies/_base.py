"""The base class of every strategy: a :class:`TrainStrategy` that can also ``fit`` and ``predict``.

``fit`` runs the one training loop with the strategy plugged in; strategies that are not a torch
loop (the linear probe) or chain two stages (LP-FT, auto) override it. ``predict`` returns raw
outputs for a data set (the probe reads them from the feature cache).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from transferkit.data.dataset import Dataset
from transferkit.training import TrainConfig, TrainResult, TrainStrategy, TransferModel, predict, train


def is_transformer(model: TransferModel) -> bool:
    """Whether the backbone is a transformer (text encoders, ViTs): they want small learning rates."""
    b = model.backbone
    return b.input_kind == "text" or any("attn" in n or "attention" in n for n, _ in b.named_modules())


class Strategy(TrainStrategy):
    """A named transfer strategy: trainable parts, learning rates and regularisers for the loop."""

    name = "strategy"

    def fit(self, model: TransferModel, train_data: Dataset, val_data: Dataset | None, config: TrainConfig,
            callbacks: Any = (), accelerator: Any = None) -> TrainResult:
        """Train ``model`` in place (best validation epoch kept) and return the history."""
        return train(model, train_data, val_data, config, self, callbacks, accelerator)

    def predict(self, model: TransferModel, data: Dataset, batch_size: int = 256) -> np.ndarray:
        """Raw outputs (logits or regression values) of the fitted ``model`` on ``data``."""
        return predict(model, data, batch_size)

    def default_lr(self, model: TransferModel) -> float:
        """A learning rate that suits this strategy and backbone when none is given."""
        return 5e-5 if is_transformer(model) else 1e-3

    def refit_choice(self, row: int, config: TrainConfig) -> tuple[Strategy, TrainConfig]:
        """The strategy and settings that repeat on a whole budget, without a validation split, what
        validation chose at ``row`` (0-based) of this strategy's validation curve (its history rows
        with a ``val_score``): cross-validation picks the row, then the final model refits with this.

        A training loop's rows are epochs: it trains ``row + 1`` epochs and keeps the last (no early
        stopping). Strategies whose rows are something else (the probe's C values) override this.
        """
        from dataclasses import replace

        return self, replace(config, epochs=row + 1, patience=None, keep_last=True)

    def restore(self, described: dict[str, Any]) -> None:
        """Take back what a fit learned (e.g. the probe's chosen C) from its :meth:`describe`, when a stopped
        run is resumed and that fit is read back instead of run again; settings are left as they are."""
        import inspect

        params = set(inspect.signature(type(self).__init__).parameters)
        for k, v in described.items():
            if k != "name" and k not in params and not k.startswith("_"):
                setattr(self, k, v)

    def describe(self) -> dict[str, Any]:
        """Name and settings (for results.json)."""
        out: dict[str, Any] = {"name": self.name}
        out.update({k: v for k, v in vars(self).items() if not k.startswith("_")})
        return out
