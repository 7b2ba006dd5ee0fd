"""What a method gives the one training loop: its modules, its batches and a step.

The loop (:func:`transferkit.training.fit`) owns everything else: seeding, Accelerate (CPU, one
GPU with bf16, several processes), the optimiser built from :meth:`Trainer.param_groups`, the
learning-rate schedule, clipping, the history, the best state on validation, patience, safetensors
checkpoints and resume, progress and callbacks. A method (a transfer strategy, a domain-adaptation
method, a multi-task weighting, a pre-training objective, SetFit's pair stage) writes a small
subclass; every hook but :meth:`modules`, :meth:`batches` and :meth:`step` has a default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn


def apply_batchnorm_policy(model: nn.Module) -> None:
    """Frozen layers keep their BatchNorm running statistics frozen (the one explicit policy).

    A BatchNorm module whose affine parameters do not train is put in eval mode, so its running
    mean/variance are neither updated nor replaced by batch statistics.
    """
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            params = list(m.parameters(recurse=False))
            if params and not any(p.requires_grad for p in params):
                m.eval()


class Trainer:
    """The interface between a method and the loop (override :meth:`modules`, :meth:`batches`, :meth:`step`).

    Attributes:
        name: shown on the progress bar.
        keep_last: no model selection: :meth:`monitor` gives None, so the last epoch is kept.
        ddp_synced: ids of parameters whose gradients Accelerate's DDP wrapper already averages over
            processes; the loop averages every other trainable gradient itself.
    """

    name = "train"
    keep_last = False

    def __init__(self) -> None:
        self.ddp_synced: set[int] = set()

    # -- what trains --------------------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        """The modules that train and are checkpointed, by name (raw, not wrapped)."""
        raise NotImplementedError

    def setup(self, device: torch.device) -> None:
        """Once, before the optimiser is built: freeze parts, create method modules, move to ``device``."""
        for m in self.modules().values():
            m.to(device)

    def param_groups(self, lr: float, weight_decay: float) -> list[dict[str, Any]]:
        """Optimiser parameter groups (default: every parameter of every module, one group)."""
        params = [p for m in self.modules().values() for p in m.parameters()]
        return [{"params": params, "lr": lr, "weight_decay": weight_decay, "name": "all"}]

    def prepare(self, accelerator: Any, optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
        """Hand modules, optimiser and loaders to Accelerate (default: the optimiser only)."""
        return accelerator.prepare(optimizer)

    # -- one epoch ----------------------------------------------------------------------------
    def num_steps(self, epoch: int) -> int:
        """Optimiser steps in ``epoch`` (for learning-rate schedules)."""
        raise NotImplementedError

    def on_epoch_start(self, epoch: int) -> None:
        """Before each epoch (0-based): unfreeze a layer, re-weight tasks, ..."""

    def train_mode(self) -> None:
        """Put the modules in training mode (BatchNorm of frozen layers stays in eval mode)."""
        for m in self.modules().values():
            m.train()
            apply_batchnorm_policy(m)

    def batches(self, epoch: int) -> Iterable[Any]:
        """The batches of ``epoch``, in order (the same order on every run of the same seed)."""
        raise NotImplementedError

    def step(self, batch: Any) -> tuple[torch.Tensor, dict[str, Any]]:
        """One batch -> ``(loss, logs)``. ``logs["n"]`` (rows in the batch) weights the epoch means."""
        raise NotImplementedError

    def backward(self, loss: torch.Tensor, backward: Callable[[torch.Tensor], None]) -> None:
        """Fill the gradients (default ``backward(loss)``; multi-task weightings override it)."""
        backward(loss)

    def evaluate(self) -> dict[str, float]:
        """Validation logs after an epoch; ``val_score`` (higher is better) picks the best epoch."""
        return {}

    def monitor(self, logs: dict[str, Any]) -> float | None:
        """The value the best epoch maximises; None keeps the last epoch and disables patience."""
        if self.keep_last:
            return None
        if "val_score" in logs:
            return float(logs["val_score"])
        return -float(logs["train_loss"])

    def epoch_logs(self, logs: dict[str, Any]) -> dict[str, Any]:
        """The history entry for an epoch (default: the loop's logs as they are)."""
        return logs

    # -- resume -------------------------------------------------------------------------------
    def extra_state(self) -> dict[str, torch.Tensor]:
        """Tensors beside the modules that a resumed run needs (e.g. a batch generator's state)."""
        return {}

    def load_extra_state(self, tensors: dict[str, torch.Tensor], epoch: int) -> None:
        """Restore :meth:`extra_state` when resuming at ``epoch`` (0-based, the next one to run)."""

    def describe(self) -> str:
        """A short label for the progress bar."""
        return self.name
