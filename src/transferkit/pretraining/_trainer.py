"""The trainer behind the self-supervised objectives (``simclr``, ``denoise``) and their runner.

A :class:`PretrainTrainer` trains the backbone plus an objective head (projection MLP, decoder) on
shuffled batches of rows fixed by ``(seed, epoch)``; each epoch's augmentations or corruptions come
from a generator seeded with ``seed * 100003 + epoch``, so a resumed run sees the same batches and
views as an uninterrupted one. :func:`run_objective` trains it with :func:`transferkit.training.fit`
and measures the linear-probe source metric.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from transferkit.backbones import Backbone, to_device
from transferkit.data.dataset import Dataset
from transferkit.pretraining._info import ObjectiveResult, ObjectiveRun, PretrainSettings
from transferkit.pretraining._probe import linear_probe_metrics
from transferkit.training.loop import TrainConfig, fit
from transferkit.training.trainer import Trainer


def epoch_batches(n: int, batch_size: int, seed: int, epoch: int) -> Iterator[np.ndarray]:
    """Shuffled row indices for one epoch, fixed by (seed, epoch) so a resumed run sees the same order.

    A last batch of a single row is dropped (contrastive and BatchNorm layers need two or more).
    """
    order = np.random.default_rng([seed, epoch]).permutation(n)
    for s in range(0, n, batch_size):
        idx = order[s : s + batch_size]
        if len(idx) >= 2:
            yield idx


class PretrainTrainer(Trainer):
    """Backbone + an objective head on unlabelled batches (subclasses: :meth:`make_head`, :meth:`step`).

    Inputs are prepared, augmented or corrupted on the CPU (the per-epoch generator lives there),
    then moved to the training device.
    """

    head_name = "head"
    keep_last = True

    def __init__(self, backbone: Backbone, data: Dataset, settings: PretrainSettings) -> None:
        super().__init__()
        self.backbone, self.data, self.settings = backbone, data, settings
        self.head: nn.Module | None = None
        self.device = torch.device("cpu")
        self.gen = torch.Generator()

    def make_head(self) -> nn.Module:
        """The objective's head (created after the loop seeded, so its initial weights follow the seed)."""
        raise NotImplementedError

    def details(self) -> dict[str, Any]:
        """The objective's settings for the model card."""
        return {}

    def modules(self) -> dict[str, nn.Module]:
        """The backbone and the objective head (both checkpointed)."""
        if self.head is None:
            raise RuntimeError("the objective head is created in setup()")
        return {"backbone": self.backbone, self.head_name: self.head}

    def setup(self, device: torch.device) -> None:
        """Create the head, then move both modules to ``device``."""
        self.head, self.device = self.make_head(), device
        super().setup(device)

    def num_steps(self, epoch: int) -> int:
        """Batches per epoch (a last batch of one row is dropped)."""
        n, b = len(self.data), self.settings.batch_size
        return n // b + int(n % b >= 2)

    def on_epoch_start(self, epoch: int) -> None:
        """This epoch's generator of augmentations / corruptions."""
        self.gen = torch.Generator().manual_seed(self.settings.seed * 100_003 + epoch)

    def batches(self, epoch: int) -> Iterator[np.ndarray]:
        """Row indices, shuffled by ``(seed, epoch)``."""
        return epoch_batches(len(self.data), self.settings.batch_size, self.settings.seed, epoch)

    def inputs(self, idx: np.ndarray) -> Any:
        """The prepared (and finished) inputs of rows ``idx``, on the CPU."""
        return self.backbone.finish(self.backbone.prepare(self.data.x[idx]))

    def features(self, x: Any) -> torch.Tensor:
        """Backbone features of CPU inputs ``x``, computed on the training device."""
        return self.backbone.forward_features(to_device(x, self.device))

    def describe(self) -> str:
        """The backbone being pre-trained."""
        return self.backbone.spec


def objective_config(settings: PretrainSettings, checkpoint_dir: Path, resume: bool,
                     device: str = "cpu", workers: int = 0) -> TrainConfig:
    """The loop settings of an objective: AdamW, clipping at 5, no early stopping.

    The self-supervised objectives run on the CPU, where they always have (so zoo entries built
    before the engine are rebuilt bit for bit); ``device="auto"`` would put them on a GPU.
    """
    s = settings
    return TrainConfig(epochs=s.epochs, batch_size=s.batch_size, lr=s.lr, weight_decay=s.weight_decay, seed=s.seed,
                       patience=None, max_grad_norm=5.0, checkpoint_dir=str(checkpoint_dir), resume=resume,
                       progress=s.progress, device=device, num_workers=workers)


def run_objective(trainer_cls: type[PretrainTrainer], run: ObjectiveRun) -> ObjectiveResult:
    """Train ``trainer_cls`` on ``run`` with :func:`fit`, then report the final loss and the linear-probe metric."""
    s, trainer = run.settings, trainer_cls(run.backbone, run.train, run.settings)
    res = fit(trainer, objective_config(s, run.checkpoint_dir, run.resume))
    t0 = time.perf_counter()
    metrics: dict[str, Any] = {"final_loss": res.history[-1]["train_loss"] if res.history else None}
    metrics.update(linear_probe_metrics(run.backbone, run.train, run.test if len(run.test) else run.val, seed=s.seed))
    metrics["primary"] = "linear_probe_test_accuracy" if "linear_probe_test_accuracy" in metrics else "final_loss"
    return ObjectiveResult(head=None, history=res.history, metrics=metrics, resumed=res.resumed_from > 0,
                           details={**trainer.details(), "seconds": res.seconds + time.perf_counter() - t0})
