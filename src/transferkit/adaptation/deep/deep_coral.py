"""Deep CORAL: match second-order statistics of source and target activations (Sun and Saenko 2016)."""

from __future__ import annotations

import torch

from transferkit.adaptation._info import DEEP_METHODS, MethodInfo
from transferkit.adaptation.deep._base import DeepMethod, StepOutputs


def coral_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``||C_a - C_b||_F^2 / (4 d^2)`` with unbiased covariances (the paper's definition)."""
    d = a.shape[1]

    def cov(x: torch.Tensor) -> torch.Tensor:
        xc = x - x.mean(0, keepdim=True)
        return xc.T @ xc / max(len(x) - 1, 1)

    return ((cov(a) - cov(b)) ** 2).sum() / (4 * d * d)


@DEEP_METHODS.register("deep_coral", aliases=("deepcoral",), info=MethodInfo(
    "discrepancy", "penalise the covariance gap between source and target activations of the last layer",
    "Sun and Saenko. Deep CORAL: correlation alignment for deep domain adaptation. ECCV-W 2016", needs="network"))
class DeepCORAL(DeepMethod):
    """Deep CORAL loss on the logits (the paper's choice) or on the features.

    Args:
        weight: loss weight; the paper picks it so the CORAL and classification losses are of
            similar size at the end of training.
        layer: ``logits`` or ``features``.
    """

    def __init__(self, weight: float = 1.0, layer: str = "logits") -> None:
        super().__init__()
        if layer not in ("logits", "features"):
            raise ValueError("layer must be 'logits' or 'features'")
        self.weight = weight
        self.layer = layer

    def forward(self, out: StepOutputs, progress: float) -> tuple[torch.Tensor, dict[str, float]]:
        """Weighted CORAL loss."""
        if self.layer == "logits":
            loss = coral_loss(out.logits_s, out.logits_t)
        else:
            loss = coral_loss(out.features_s, out.features_t)
        return self.weight * loss, {"coral_loss": loss.item()}
