"""The pre-training objective registry, its settings record and what an objective returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from transferkit._registry import Registry
from transferkit.backbones import Backbone
from transferkit.data.dataset import Dataset


@dataclass(frozen=True)
class ObjectiveInfo:
    """What a pre-training objective needs."""

    needs_labels: bool
    description: str


@dataclass(frozen=True)
class PretrainSettings:
    """Settings of one pre-training run (saved on the model card).

    ``temperature`` and ``proj_dim`` are used by ``simclr``; ``mask_ratio`` and ``noise_std`` by
    ``denoise`` (and ``noise_std`` scales the contrastive augmentations' noise).
    """

    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0
    temperature: float = 0.5
    proj_dim: int = 64
    mask_ratio: float = 0.4
    noise_std: float = 0.1
    progress: bool = True

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 2:
            raise ValueError("epochs must be >= 1 and batch_size >= 2")
        if not self.lr > 0 or self.weight_decay < 0:
            raise ValueError("lr must be > 0 and weight_decay >= 0")
        if not 0 < self.temperature <= 10 or self.proj_dim < 1:
            raise ValueError("temperature must be in (0, 10] and proj_dim >= 1")
        if not 0 <= self.mask_ratio < 1 or self.noise_std < 0:
            raise ValueError("mask_ratio must be in [0, 1) and noise_std >= 0")


@dataclass(frozen=True)
class ObjectiveRun:
    """What an objective trains: the backbone, the source splits, the settings and its checkpoint folder."""

    backbone: Backbone
    train: Dataset
    val: Dataset
    test: Dataset
    settings: PretrainSettings
    checkpoint_dir: Path
    resume: bool
    workers: int = 0  # DataLoader worker processes (objectives that train through a DataLoader: supervised)


@dataclass
class ObjectiveResult:
    """What an objective hands back: the source head (supervised only), history and metrics."""

    head: nn.Module | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    resumed: bool = False


Objective = Callable[[ObjectiveRun], ObjectiveResult]
OBJECTIVES: Registry[Objective] = Registry("pre-training objective")
