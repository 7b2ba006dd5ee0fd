"""GradNorm (Chen, Badrinarayanan, Lee & Rabinovich, ICML 2018)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from transferkit.multitask.weightings._base import WEIGHTINGS, Backward, Weighting, WeightingInfo

if TYPE_CHECKING:
    from transferkit.multitask.model import MultiTaskModel


def gradnorm_objective(grad_norms: torch.Tensor, losses: torch.Tensor, initial_losses: torch.Tensor,
                       alpha: float) -> torch.Tensor:
    """``sum_k |G_k - mean(G) * r_k^alpha|`` with ``r_k = (L_k/L_k(0)) / mean_j(L_j/L_j(0))``; the
    target term is held constant (no gradient through it)."""
    ratio = losses.detach() / initial_losses
    r = ratio / ratio.mean()
    target = (grad_norms.mean() * r**alpha).detach()
    return (grad_norms - target).abs().sum()


@WEIGHTINGS.register("gradnorm", info=WeightingInfo(
    "gradient", "task weights tuned so each task's gradient on the last shared layer grows with its relative "
    "inverse training rate", "Chen et al., ICML 2018", per_task_backward=True))
class GradNorm(Weighting):
    """Weights ``w = K softmax(theta)`` (they sum to ``K``), updated every step by their own Adam on
    the GradNorm objective, where ``G_k = ||grad_W (w_k L_k)||`` on the trunk's last layer group W.

    Args:
        alpha: asymmetry ``alpha`` (1.5, the LibMTL default).
        lr: learning rate of the weight optimiser.
    """

    name = "gradnorm"

    def __init__(self, alpha: float = 1.5, lr: float = 0.025) -> None:
        super().__init__()
        self.alpha, self.lr = float(alpha), float(lr)
        self.theta = torch.nn.Parameter(torch.zeros(0))
        self.initial: torch.Tensor | None = None
        self._opt: torch.optim.Optimizer | None = None

    def setup(self, model: MultiTaskModel, task_names: tuple[str, ...]) -> None:
        """Uniform weights; a separate optimiser for ``theta``."""
        super().setup(model, task_names)
        self.theta = torch.nn.Parameter(torch.zeros(self.k, device=next(model.parameters()).device))
        self._opt = torch.optim.Adam([self.theta], lr=self.lr)
        self.initial = None

    def task_weights(self) -> torch.Tensor:
        """``K softmax(theta)``."""
        return self.k * torch.softmax(self.theta, dim=0)

    def backward(self, losses: torch.Tensor, model: MultiTaskModel, backward: Backward) -> None:
        """Update the task weights on the GradNorm objective, then back-propagate the weighted losses."""
        assert self._opt is not None
        losses32 = losses.float()
        if self.initial is None:
            self.initial = losses32.detach().clamp_min(1e-8)
        last = model.last_shared_parameters()
        norms = []
        for k in range(self.k):
            grads = torch.autograd.grad(losses32[k], last, retain_graph=True, allow_unused=True)
            flat = (torch.cat([g.reshape(-1) for g in grads if g is not None]) if any(g is not None for g in grads)
                    else torch.zeros(1, device=losses.device))
            norms.append(flat.norm())
        w = self.task_weights()
        g_norms = w * torch.stack(norms).detach()
        self._opt.zero_grad(set_to_none=True)
        gradnorm_objective(g_norms, losses32, self.initial, self.alpha).backward()
        self._opt.step()
        w_now = self.task_weights().detach()
        self._weights = w_now.cpu().numpy().astype(np.float64)
        backward((w_now.to(losses.dtype) * losses).sum())

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """``theta``, the first step's losses and the weight optimiser's moments."""
        assert self._opt is not None
        out = {"theta": self.theta.detach()}
        if self.initial is not None:
            out["initial"] = self.initial
        for key, value in self._opt.state_dict()["state"].get(0, {}).items():
            out[f"adam.{key}"] = value if isinstance(value, torch.Tensor) else torch.tensor(value)
        return out

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Restore ``theta``, the initial losses and the weight optimiser (after :meth:`setup`)."""
        assert self._opt is not None
        with torch.no_grad():
            self.theta.copy_(tensors["theta"])
        self.initial = tensors["initial"].to(self.theta.device) if "initial" in tensors else None
        adam = {k[len("adam."):]: v for k, v in tensors.items() if k.startswith("adam.")}
        sd = self._opt.state_dict()
        sd["state"] = {0: adam} if adam else {}
        self._opt.load_state_dict(sd)
