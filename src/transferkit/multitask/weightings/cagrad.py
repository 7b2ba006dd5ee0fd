"""CAGrad: conflict-averse gradient descent (Liu, Liu, Jin, Stone & Liu, NeurIPS 2021)."""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import minimize

from transferkit.multitask.weightings._base import WEIGHTINGS, GradientSurgery, WeightingInfo


def cagrad_direction(grads: torch.Tensor, c: float = 0.4, rescale: bool = True) -> torch.Tensor:
    """The CAGrad update for task gradients ``(K, P)``.

    With ``g0`` the mean gradient, find ``w`` on the simplex minimising
    ``g_w . g0 + c ||g0|| ||g_w||`` (``g_w = sum_k w_k g_k``; a K-variable problem on the Gram
    matrix, solved with SLSQP), then ``d = g0 + c ||g0|| / ||g_w|| g_w``, divided by ``1 + c^2``
    when ``rescale``. ``c = 0`` gives the mean gradient.
    """
    if grads.ndim != 2:
        raise ValueError(f"cagrad needs a (K, P) matrix of task gradients, got shape {tuple(grads.shape)}")
    if c < 0:
        raise ValueError("cagrad c must be >= 0")
    k = grads.shape[0]
    g0 = grads.mean(0)
    if c == 0:
        return g0
    gram = (grads.double() @ grads.double().T).cpu().numpy()
    g0_norm = float(np.sqrt(max(gram.mean(), 0.0)))
    b = gram.mean(1)  # G g0
    scale = c * g0_norm

    def objective(w: np.ndarray) -> float:
        return float(w @ b + scale * np.sqrt(max(w @ gram @ w, 1e-20)))

    res = minimize(objective, np.full(k, 1.0 / k), method="SLSQP", bounds=[(0.0, 1.0)] * k,
                   constraints=({"type": "eq", "fun": lambda w: w.sum() - 1.0},))
    w = torch.as_tensor(np.clip(res.x, 0, None), dtype=grads.dtype, device=grads.device)
    gw = w @ grads
    gw_norm = gw.norm()
    d = g0 + (scale / gw_norm) * gw if gw_norm > 0 else g0
    return d / (1.0 + c**2) if rescale else d


@WEIGHTINGS.register("cagrad", info=WeightingInfo(
    "gradient", "moves along the mean gradient while improving the worst task as much as possible",
    "Liu et al., NeurIPS 2021", per_task_backward=True))
class CAGrad(GradientSurgery):
    """Trunk update = ``K`` x the CAGrad direction (so its scale matches the summed losses)."""

    name = "cagrad"

    def __init__(self, c: float = 0.4) -> None:
        super().__init__()
        self.c = float(c)

    def shared_gradient(self, grads: torch.Tensor) -> torch.Tensor:
        """``K`` x the CAGrad direction of the per-task trunk gradients."""
        return grads.shape[0] * cagrad_direction(grads, self.c)
