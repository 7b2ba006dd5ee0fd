"""MCC: minimum class confusion on target predictions (Jin, Wang, Long, Wang, ECCV 2020)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from transferkit.adaptation._info import DEEP_METHODS, MethodInfo
from transferkit.adaptation.deep._base import DeepMethod, StepOutputs, entropy


def class_confusion(logits: torch.Tensor, temperature: float = 2.5) -> torch.Tensor:
    """The MCC loss: off-diagonal mass of the entropy-weighted, row-normalised class-correlation matrix."""
    n, k = logits.shape
    p = F.softmax(logits / temperature, dim=1)
    w = 1.0 + torch.exp(-entropy(p).detach())
    w = (n * w / w.sum()).unsqueeze(1)
    c = (p * w).T @ p
    c = c / c.sum(dim=1, keepdim=True).clamp_min(1e-12)
    return (c.sum() - torch.trace(c)) / k


@DEEP_METHODS.register("mcc", info=MethodInfo(
    "target-structure", "reduce pairwise class confusion of temperature-scaled target predictions",
    "Jin et al. Minimum class confusion for versatile domain adaptation. ECCV 2020", needs="network"))
class MCC(DeepMethod):
    """Minimum class confusion.

    Args:
        weight: loss weight (1.0 in the paper).
        temperature: probability rescaling (2.5 in the paper).
    """

    def __init__(self, weight: float = 1.0, temperature: float = 2.5) -> None:
        super().__init__()
        self.weight = weight
        self.temperature = temperature

    def forward(self, out: StepOutputs, progress: float) -> tuple[torch.Tensor, dict[str, float]]:
        """Weighted class-confusion loss on the target batch."""
        loss = class_confusion(out.logits_t, self.temperature)
        return self.weight * loss, {"mcc": loss.item()}
