"""Networks for deep adaptation: the backbone + linear-head wrapper (LeNet lives with the backbones)."""

from __future__ import annotations

import torch
from torch import nn

from transferkit.backbones.lenet import LeNet  # noqa: F401  (re-exported: it used to live here)
from transferkit.errors import BackboneError


class AdaptationNetwork(nn.Module):
    """A backbone followed by a linear classifier; ``forward`` returns ``(features, logits)``."""

    def __init__(self, backbone: nn.Module, num_classes: int) -> None:
        super().__init__()
        if num_classes < 2:
            raise BackboneError("adaptation needs at least 2 classes")
        nf = getattr(backbone, "num_features", None)
        if not isinstance(nf, int):
            raise BackboneError("the backbone must expose an integer num_features")
        self.backbone = backbone
        self.num_features = nf
        self.num_classes = num_classes
        self.head = nn.Linear(nf, num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs -> ``(features, logits)``."""
        f = self.backbone.forward_features(x)
        return f, self.head(f)
