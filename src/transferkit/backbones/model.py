"""``TransferModel``: a backbone plus a task head; ``reinitialize`` for from-scratch baselines."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from transferkit.backbones.base import Backbone


def make_head(num_features: int, num_outputs: int, kind: str = "linear", hidden: int = 128,
              dropout: float = 0.1) -> nn.Module:
    """A new head: ``linear`` or a one-hidden-layer ``mlp``."""
    if kind == "linear":
        return nn.Linear(num_features, num_outputs)
    if kind == "mlp":
        return nn.Sequential(nn.Linear(num_features, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, num_outputs))
    raise ValueError(f"unknown head kind {kind!r}; use 'linear' or 'mlp'")


class TransferModel(nn.Module):
    """Backbone + head. ``forward`` maps prepared inputs to logits (or regression outputs).

    Args:
        backbone: the feature extractor.
        num_outputs: classes (or regression targets).
        head: ``linear``, ``mlp``, or an ``nn.Module`` (e.g. a source head kept for shared labels).
        task: ``classification`` or ``regression``.
        class_names: names of the outputs, kept for predictions and reports.
    """

    def __init__(self, backbone: Backbone, num_outputs: int, head: str | nn.Module = "linear",
                 task: str = "classification", class_names: tuple[str, ...] | None = None) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head if isinstance(head, nn.Module) else make_head(backbone.num_features, num_outputs, head)
        self.num_outputs, self.task, self.class_names = int(num_outputs), task, class_names

    def forward(self, inputs: Any) -> torch.Tensor:
        """Prepared inputs -> outputs ``(N, num_outputs)``."""
        return self.head(self.backbone.forward_features(inputs))

    def reset_head(self, num_outputs: int, kind: str = "linear") -> None:
        """Replace the head with a freshly initialised one."""
        self.head = make_head(self.backbone.num_features, num_outputs, kind).to(next(self.backbone.parameters()).device)
        self.num_outputs = int(num_outputs)

    def layer_groups(self) -> list[nn.Module]:
        """Backbone groups (input to output), then the head."""
        return [*self.backbone.layer_groups(), self.head]


def reinitialize(module: nn.Module, seed: int | None = None) -> None:
    """Give every parameter of ``module`` fresh random values (and reset BatchNorm statistics)."""
    if seed is not None:
        torch.manual_seed(seed)
    hf = [m for m in module.modules() if hasattr(m, "_init_weights") and hasattr(m, "config")]
    if hf:
        # transformers marks loaded weights `_is_hf_initialized` and its initialisers then skip them
        # silently: clear the marks, or "from scratch" would quietly keep the pre-trained weights
        for obj in [*module.modules(), *module.parameters(), *module.buffers()]:
            if getattr(obj, "_is_hf_initialized", False):
                obj._is_hf_initialized = False
    done: set[int] = set()
    for m in hf:
        for sub in m.modules():
            if id(sub) not in done:
                m._init_weights(sub)
                done.add(id(sub))
    with torch.no_grad():
        for m in module.modules():
            if id(m) not in done and hasattr(m, "reset_parameters"):
                m.reset_parameters()
