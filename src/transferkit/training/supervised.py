"""Supervised training of a :class:`TransferModel` with a strategy: the trainer behind :func:`train`.

The strategy says which parameters train at which learning rate, what changes per epoch and what
regulariser joins the loss; this trainer gives the loop seeded, shuffled batches of prepared
inputs, a cross-entropy (or squared-error) step and a validation score per epoch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from transferkit.backbones import to_device
from transferkit.backbones.model import TransferModel
from transferkit.data.dataset import Dataset
from transferkit.errors import DataError
from transferkit.evaluation.metrics import validation_score
from transferkit.training.callbacks import Callback
from transferkit.training.loop import TrainConfig, TrainResult, fit
from transferkit.training.strategy_base import TrainStrategy
from transferkit.training.trainer import Trainer, apply_batchnorm_policy


class _Rows(torch.utils.data.Dataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


class _SeededShuffle(torch.utils.data.Sampler):
    """A new permutation each epoch from one seeded generator, independent of DataLoader workers.

    Each epoch also makes the throw-away draws that a shuffling DataLoader sharing the generator
    made (a 64-bit worker seed before the permutation, an empty tail permutation after it), so the
    order is the one earlier versions used and published results stay reproducible.
    """

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.gen = n, torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Any:
        yield from self._epoch_order().tolist()

    def _epoch_order(self) -> torch.Tensor:
        torch.empty((), dtype=torch.int64).random_(generator=self.gen)
        order = torch.randperm(self.n, generator=self.gen)
        torch.randperm(self.n, generator=self.gen)
        return order

    def skip(self, epochs: int) -> None:
        """Advance the generator past ``epochs`` epochs (resuming from a checkpoint)."""
        for _ in range(epochs):
            self._epoch_order()


def make_loader(model: TransferModel, data: Dataset, batch_size: int, shuffle: bool, seed: int,
                num_workers: int = 0) -> DataLoader:
    """Batches of (prepared inputs, targets); preprocessing is the backbone's ``prepare``.

    With ``num_workers`` > 0, ``prepare`` runs in worker processes and batches are pinned for a
    fast, asynchronous copy to the GPU.
    """
    task = model.task

    def collate(idx: list[int]) -> tuple[Any, torch.Tensor]:
        ix = np.asarray(idx)
        inputs = model.backbone.prepare(data.x[ix])
        y = torch.as_tensor(data.y[ix], dtype=torch.long if task == "classification" else torch.float32)
        return inputs, y

    rows = _Rows(len(data))
    # the order comes from its own generator, so it is the same with or without (persistent) workers
    sampler = _SeededShuffle(len(data), seed) if shuffle else torch.utils.data.SequentialSampler(rows)
    return DataLoader(rows, batch_size=batch_size, sampler=sampler, collate_fn=collate,
                      generator=torch.Generator().manual_seed(seed + 1),
                      drop_last=shuffle and len(data) > batch_size and len(data) % batch_size == 1,
                      num_workers=num_workers, pin_memory=num_workers > 0 and torch.cuda.is_available(),
                      persistent_workers=num_workers > 0)


def supervised_loss(model: TransferModel, out: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None = None,
                    smoothing: float = 0.0) -> torch.Tensor:
    """Cross-entropy (classification) or mean squared error (regression) of raw outputs."""
    if model.task == "classification":
        return F.cross_entropy(out.float(), y, weight=weight, label_smoothing=smoothing)
    return F.mse_loss(out.float().reshape(y.shape[0], -1), y.reshape(y.shape[0], -1))


@torch.no_grad()
def predict(model: TransferModel, data: Dataset, batch_size: int = 256, accelerator: Any = None) -> np.ndarray:
    """Raw outputs (logits, or regression values) for ``data``, in order."""
    model.eval()
    device = accelerator.device if accelerator is not None else next(model.parameters()).device
    outs = []
    for start in range(0, len(data), batch_size):
        inputs = to_device(model.backbone.prepare(data.x[start:start + batch_size]), device)
        outs.append(model(inputs).float().cpu().numpy())
    return np.concatenate(outs) if outs else np.zeros((0, model.num_outputs), dtype=np.float32)


def balanced_class_weights(y: np.ndarray, num_classes: int) -> torch.Tensor:
    """Loss weights by inverse class frequency (mean 1 over the classes present; absent classes 0)."""
    counts = np.bincount(y, minlength=num_classes).astype(np.float64)
    w = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / max((counts > 0).sum(), 1), 0.0)
    return torch.tensor(w, dtype=torch.float32)


def _check_data(model: TransferModel, data: Dataset, what: str) -> None:
    if data.y is None:
        raise DataError(f"{what} data {data.name!r} has no labels")
    if len(data) == 0:
        raise DataError(f"{what} data {data.name!r} is empty")
    if model.task == "classification" and data.y.max() >= model.num_outputs:
        raise DataError(f"{what} labels go up to {data.y.max()} but the model has {model.num_outputs} outputs")


class SupervisedTrainer(Trainer):
    """A :class:`TransferModel` trained on labelled rows, a strategy choosing what trains."""

    name = "train"

    def __init__(self, model: TransferModel, train_data: Dataset, val_data: Dataset | None, config: TrainConfig,
                 strategy: TrainStrategy | None = None) -> None:
        super().__init__()
        _check_data(model, train_data, "training")
        if val_data is not None:
            _check_data(model, val_data, "validation")
        self.model, self.train_data, self.val_data, self.config = model, train_data, val_data, config
        self.strategy = strategy or TrainStrategy()
        self.net: nn.Module = model
        self.loader = make_loader(model, train_data, config.batch_size, True, config.seed, config.num_workers)
        self.shuffle = self.loader.sampler  # kept before Accelerate wraps the loader, to fast-forward on resume
        self.weight: torch.Tensor | None = None
        self.accelerator: Any = None

    def modules(self) -> dict[str, nn.Module]:
        """The model being trained."""
        return {"model": self.model}

    def setup(self, device: torch.device) -> None:
        """The strategy freezes or re-initialises parts before the optimiser is built."""
        self.strategy.setup(self.model)

    def param_groups(self, lr: float, weight_decay: float) -> list[dict[str, Any]]:
        """The strategy's groups (layer-wise learning rates, frozen parts)."""
        return self.strategy.param_groups(self.model, lr, weight_decay)

    def prepare(self, accelerator: Any, optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
        """Model, optimiser and loader through Accelerate (DDP averages what trains now)."""
        self.accelerator = accelerator
        self.net, optimizer, self.loader = accelerator.prepare(self.model, optimizer, self.loader)
        self.ddp_synced = {id(p) for p in self.model.parameters() if p.requires_grad}
        w = (balanced_class_weights(self.train_data.y, self.model.num_outputs)
             if self.model.task == "classification" and self.config.class_weight == "balanced" else None)
        self.weight = w.to(accelerator.device) if w is not None else None
        return optimizer

    def num_steps(self, epoch: int) -> int:
        """Batches per epoch."""
        return len(self.loader)

    def on_epoch_start(self, epoch: int) -> None:
        """The strategy's hook (gradual unfreezing)."""
        self.strategy.on_epoch_start(epoch, self.model)

    def train_mode(self) -> None:
        """Training mode; frozen BatchNorm layers keep their statistics."""
        self.net.train()
        apply_batchnorm_policy(self.model)

    def batches(self, epoch: int) -> Any:
        """The seeded, shuffled loader."""
        return self.loader

    def step(self, batch: Any) -> tuple[torch.Tensor, dict[str, Any]]:
        """Loss of one batch, plus the strategy's regulariser (L2-SP)."""
        inputs, y = batch
        out = self.net(inputs)
        loss = supervised_loss(self.model, out, y, self.weight, self.config.label_smoothing)
        reg = self.strategy.regularizer(self.model)
        if reg is not None:
            loss = loss + reg
        return loss, {"n": y.shape[0]}

    def evaluate(self) -> dict[str, float]:
        """Validation score (``config.select_metric``) and loss."""
        if self.val_data is None:
            return {}
        out = predict(self.model, self.val_data, self.config.eval_batch_size, self.accelerator)
        y = torch.as_tensor(self.val_data.y, dtype=torch.long if self.model.task == "classification" else torch.float32)
        return {"val_score": validation_score(self.config.select_metric, self.val_data.y, out),
                "val_loss": float(supervised_loss(self.model, torch.from_numpy(out), y))}

    def load_extra_state(self, tensors: dict[str, torch.Tensor], epoch: int) -> None:
        """The resumed epochs see the batches an uninterrupted run would."""
        if isinstance(self.shuffle, _SeededShuffle):
            self.shuffle.skip(epoch)

    def describe(self) -> str:
        """Backbone and strategy."""
        return f"{self.model.backbone.spec} ({self.strategy.name})"


def train(model: TransferModel, train_data: Dataset, val_data: Dataset | None = None, config: TrainConfig | None = None,
          strategy: TrainStrategy | None = None, callbacks: list[Callback] | tuple[Callback, ...] = (),
          accelerator: Any = None) -> TrainResult:
    """Train ``model`` in place and load the weights of the best validation epoch.

    Without ``val_data`` the epoch with the lowest training loss is kept. Returns the history.
    """
    config = config or TrainConfig()
    return fit(SupervisedTrainer(model, train_data, val_data, config, strategy), config, callbacks, accelerator)

