"""Deep source-only baseline: the same loop and network, no target stream."""

from __future__ import annotations

import torch

from transferkit.adaptation._info import DEEP_METHODS, MethodInfo
from transferkit.adaptation.deep._base import DeepMethod, StepOutputs


@DEEP_METHODS.register("source_only", aliases=("source-only",), info=MethodInfo(
    "baseline", "source cross-entropy only", "-", needs="network"))
class SourceOnly(DeepMethod):
    """No adaptation loss; the target stream is not even read."""

    uses_target = False

    def forward(self, out: StepOutputs, progress: float) -> tuple[torch.Tensor, dict[str, float]]:
        """Zero extra loss."""
        return out.logits_s.new_zeros(()), {}
