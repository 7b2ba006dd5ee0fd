"""``MultiTaskModel``: one shared trunk (any transferkit Backbone), one named head per task."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from transferkit.backbones import Backbone
from transferkit.backbones.model import make_head
from transferkit.errors import DataError

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class HeadSpec:
    """One task head: its name, outputs (classes, or regression targets), task kind and head kind."""

    name: str
    num_outputs: int
    kind: str = "classification"
    head: str = "linear"

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise DataError(f"task name {self.name!r}: use letters, digits, '-' and '_' only")
        if self.num_outputs < 1:
            raise DataError(f"task {self.name!r}: num_outputs must be >= 1")
        if self.kind not in ("classification", "regression"):
            raise DataError(f"task {self.name!r}: kind must be classification or regression")
        if self.head not in ("linear", "mlp"):
            raise DataError(f"task {self.name!r}: head must be 'linear' or 'mlp', got {self.head!r}")


class MultiTaskModel(nn.Module):
    """Hard parameter sharing: ``trunk`` (a Backbone) feeds one head per task.

    Args:
        trunk: the shared feature extractor (from ``create_backbone(spec)``).
        heads: head specs, one per task (names must be unique).
    """

    def __init__(self, trunk: Backbone, heads: Sequence[HeadSpec]) -> None:
        super().__init__()
        names = [h.name for h in heads]
        if not names:
            raise DataError("a multi-task model needs at least one task head")
        if len(set(names)) != len(names):
            raise DataError(f"task names must be unique, got {names}")
        self.trunk = trunk
        self.specs: dict[str, HeadSpec] = {h.name: h for h in heads}
        self.heads = nn.ModuleDict({h.name: make_head(trunk.num_features, h.num_outputs, h.head) for h in heads})

    @property
    def task_names(self) -> tuple[str, ...]:
        """Task names in head order."""
        return tuple(self.specs)

    def forward(self, inputs: Any, task: str) -> torch.Tensor:
        """Prepared inputs of ``task`` -> its head's outputs ``(N, num_outputs)``."""
        if task not in self.heads:
            raise DataError(f"unknown task {task!r}; the model has {list(self.heads)}")
        return self.heads[task](self.trunk.forward_features(inputs))

    def forward_tasks(self, inputs: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """Outputs for several tasks' prepared batches.

        When every batch is a tensor of the same trailing shape the trunk runs once on their
        concatenation (BatchNorm then sees one mixed batch); otherwise once per task.
        """
        names = list(inputs)
        batches = [inputs[n] for n in names]
        same = all(isinstance(b, torch.Tensor) for b in batches) and len({tuple(b.shape[1:]) for b in batches}) == 1
        if same and len(names) > 1:
            feats = self.trunk.forward_features(torch.cat(batches))
            parts = torch.split(feats, [b.shape[0] for b in batches])
            return {n: self.heads[n](f) for n, f in zip(names, parts, strict=True)}
        return {n: self.heads[n](self.trunk.forward_features(inputs[n])) for n in names}

    def shared_parameters(self) -> list[nn.Parameter]:
        """Trainable parameters of the trunk (the ones all tasks share)."""
        return [p for p in self.trunk.parameters() if p.requires_grad]

    def last_shared_parameters(self) -> list[nn.Parameter]:
        """Trainable parameters of the trunk's last layer group (GradNorm's W)."""
        for group in reversed(self.trunk.layer_groups()):
            params = [p for p in group.parameters() if p.requires_grad]
            if params:
                return params
        raise DataError("the trunk has no trainable parameters")
