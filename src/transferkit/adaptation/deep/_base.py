"""What a deep adaptation method is: a loss on one step's outputs, with optional own modules."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class StepOutputs:
    """What the training loop hands to a method at each step (never any target label)."""

    features_s: torch.Tensor
    features_t: torch.Tensor | None
    logits_s: torch.Tensor
    logits_t: torch.Tensor | None
    labels_s: torch.Tensor


def dann_coefficient(progress: float, gamma: float = 10.0) -> float:
    """The DANN ramp ``2 / (1 + exp(-gamma p)) - 1``: 0 at the start, about 1 at the end."""
    return 2.0 / (1.0 + math.exp(-gamma * float(progress))) - 1.0


class _GradientReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, coeff: float) -> torch.Tensor:  # type: ignore[override]
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        return -ctx.coeff * grad, None


def gradient_reversal(x: torch.Tensor, coeff: float) -> torch.Tensor:
    """Identity forward; multiplies the gradient by ``-coeff`` backward (Ganin and Lempitsky 2015)."""
    return _GradientReverse.apply(x, coeff)


def domain_discriminator(in_features: int, hidden: int = 500) -> nn.Sequential:
    """A two-hidden-layer MLP that outputs one domain logit."""
    return nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(inplace=True), nn.Dropout(0.5),
                         nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(0.5), nn.Linear(hidden, 1))


def entropy(probs: torch.Tensor) -> torch.Tensor:
    """Per-row Shannon entropy (natural log)."""
    return -(probs * torch.log(probs.clamp_min(1e-12))).sum(dim=1)


class DeepMethod(nn.Module):
    """Base class of deep methods.

    The loop adds the source cross-entropy itself; :meth:`forward` returns the extra loss and
    a dict of floats for the log. Modules created in :meth:`setup` (discriminators) are trained
    by the loop's optimiser. ``uses_target = False`` lets the loop skip the target stream.
    """

    uses_target: bool = True

    def setup(self, num_features: int, num_classes: int) -> None:
        """Create method-owned modules once the network's sizes are known."""

    def forward(self, out: StepOutputs, progress: float) -> tuple[torch.Tensor, dict[str, float]]:
        """The adaptation loss at training progress ``progress`` in [0, 1]."""
        raise NotImplementedError
