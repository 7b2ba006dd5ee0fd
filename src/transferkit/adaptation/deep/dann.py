"""DANN: domain-adversarial training through a gradient reversal layer (Ganin et al., JMLR 2016)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from transferkit.adaptation._info import DEEP_METHODS, MethodInfo
from transferkit.adaptation.deep._base import (
    DeepMethod,
    StepOutputs,
    dann_coefficient,
    domain_discriminator,
    gradient_reversal,
)


@DEEP_METHODS.register("dann", info=MethodInfo(
    "adversarial", "domain discriminator on features behind a gradient reversal layer, ramped 2/(1+e^-10p)-1",
    "Ganin et al. Domain-adversarial training of neural networks. JMLR 2016", needs="network"))
class DANN(DeepMethod):
    """Domain-adversarial neural network.

    A discriminator learns to tell source features from target features; the reversed
    gradient, scaled by ``weight * (2 / (1 + exp(-10 p)) - 1)`` at progress ``p``, pushes the
    feature extractor towards features it cannot tell apart.

    Args:
        weight: maximum reversal coefficient (the paper's lambda).
        hidden: width of the discriminator's two hidden layers.
    """

    def __init__(self, weight: float = 1.0, hidden: int = 500) -> None:
        super().__init__()
        self.weight = weight
        self.hidden = hidden

    def setup(self, num_features: int, num_classes: int) -> None:
        """Create the discriminator."""
        self.discriminator = domain_discriminator(num_features, self.hidden)

    def forward(self, out: StepOutputs, progress: float) -> tuple[torch.Tensor, dict[str, float]]:
        """Binary cross-entropy of the discriminator on reversed features."""
        coeff = self.weight * dann_coefficient(progress)
        f = torch.cat([out.features_s, out.features_t])
        d = self.discriminator(gradient_reversal(f, coeff)).squeeze(1)
        target = torch.cat([torch.ones(len(out.features_s)), torch.zeros(len(out.features_t))]).to(d)
        loss = F.binary_cross_entropy_with_logits(d, target)
        acc = float(((d > 0).float() == target).float().mean())
        return loss, {"domain_loss": loss.item(), "domain_acc": acc, "grl_coeff": coeff}
