"""CDAN(+E): conditional adversarial adaptation (Long, Cao, Wang, Jordan, NeurIPS 2018)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from transferkit.adaptation._info import DEEP_METHODS, MethodInfo
from transferkit.adaptation.deep._base import (
    DeepMethod,
    StepOutputs,
    dann_coefficient,
    domain_discriminator,
    entropy,
    gradient_reversal,
)


@DEEP_METHODS.register("cdan", aliases=("cdan+e", "cdan_e"), info=MethodInfo(
    "adversarial", "discriminator on the multilinear map features x predictions, entropy-weighted (CDAN+E)",
    "Long et al. Conditional adversarial domain adaptation. NeurIPS 2018", needs="network"))
class CDAN(DeepMethod):
    """Conditional domain-adversarial network.

    The discriminator sees ``f (x) g`` (outer product of features and softmax predictions), or
    the randomised map ``(R_f f) * (R_g g) / sqrt(d)`` when ``num_features * num_classes`` exceeds
    ``max_outer``. With ``entropy_conditioning`` (CDAN+E, the default) each example is weighted by
    ``1 + exp(-H(g))`` (normalised over the batch), so confident predictions count more.

    Args:
        weight: maximum reversal coefficient (ramped like DANN).
        entropy_conditioning: CDAN+E weighting.
        max_outer: largest multilinear map built exactly.
        random_dim: size of the randomised map.
        hidden: discriminator width.
    """

    def __init__(self, weight: float = 1.0, entropy_conditioning: bool = True, max_outer: int = 4096,
                 random_dim: int = 1024, hidden: int = 500) -> None:
        super().__init__()
        self.weight = weight
        self.entropy_conditioning = entropy_conditioning
        self.max_outer = max_outer
        self.random_dim = random_dim
        self.hidden = hidden

    def setup(self, num_features: int, num_classes: int) -> None:
        """Create the discriminator (and the fixed random matrices if needed)."""
        self.randomized = num_features * num_classes > self.max_outer
        if self.randomized:
            g = torch.Generator().manual_seed(0)
            self.register_buffer("rf", torch.randn(num_features, self.random_dim, generator=g))
            self.register_buffer("rg", torch.randn(num_classes, self.random_dim, generator=g))
            in_dim = self.random_dim
        else:
            in_dim = num_features * num_classes
        self.discriminator = domain_discriminator(in_dim, self.hidden)

    def _map(self, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        if self.randomized:
            return (f @ self.rf) * (g @ self.rg) / self.random_dim**0.5
        return torch.bmm(g.unsqueeze(2), f.unsqueeze(1)).flatten(1)

    def forward(self, out: StepOutputs, progress: float) -> tuple[torch.Tensor, dict[str, float]]:
        """Weighted binary cross-entropy of the conditional discriminator."""
        coeff = self.weight * dann_coefficient(progress)
        f = torch.cat([out.features_s, out.features_t])
        g = F.softmax(torch.cat([out.logits_s, out.logits_t]), dim=1).detach()
        d = self.discriminator(gradient_reversal(self._map(f, g), coeff)).squeeze(1)
        ns = len(out.features_s)
        target = torch.cat([torch.ones(ns), torch.zeros(len(out.features_t))]).to(d)
        if self.entropy_conditioning:
            w = 1.0 + torch.exp(-entropy(g))
            ws, wt = w[:ns], w[ns:]
            w = torch.cat([ws / ws.sum(), wt / wt.sum()]) * len(w) / 2
        else:
            w = torch.ones_like(d)
        loss = (F.binary_cross_entropy_with_logits(d, target, reduction="none") * w).mean()
        acc = float(((d > 0).float() == target).float().mean())
        return loss, {"domain_loss": loss.item(), "domain_acc": acc, "grl_coeff": coeff}
