"""Callbacks: a no-op base class; override what you need."""

from __future__ import annotations

from typing import Any


class Callback:
    """Hooks the training loop calls; every method is a no-op by default."""

    def on_train_start(self, state: dict[str, Any]) -> None:
        """Before the first epoch."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float], state: dict[str, Any]) -> None:
        """After each epoch with its logs (train_loss, val_score, seconds...)."""

    def on_train_end(self, state: dict[str, Any]) -> None:
        """After training (the best weights are loaded)."""
