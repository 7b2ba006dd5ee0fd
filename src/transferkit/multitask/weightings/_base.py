"""The weighting interface, its registry and shared gradient helpers.

A weighting turns the K per-task losses of one step into gradients on every parameter. Loss
weightings (equal, uncertainty, DWA) combine the losses into one scalar; gradient methods
(GradNorm, PCGrad, CAGrad) look at per-task gradients of the shared trunk.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from transferkit._registry import Registry

if TYPE_CHECKING:
    from transferkit.multitask.model import MultiTaskModel

Backward = Callable[[torch.Tensor], None]


@dataclass(frozen=True)
class WeightingInfo:
    """What a weighting is: ``loss`` (combines losses) or ``gradient`` (per-task gradients), a one-line
    description, its reference, and whether it needs one backward pass per task."""

    kind: str
    description: str
    reference: str = ""
    per_task_backward: bool = False


WEIGHTINGS: Registry[type[Weighting]] = Registry("multi-task weighting")


class Weighting:
    """Base class. Subclasses set ``_weights`` or override :meth:`combine` (loss weightings) or :meth:`backward`."""

    name = "base"

    def __init__(self) -> None:
        self.k = 0
        self.task_names: tuple[str, ...] = ()
        self._weights = np.ones(0)

    def setup(self, model: MultiTaskModel, task_names: tuple[str, ...]) -> None:
        """Called once before training with the model and the task order of the loss vectors."""
        self.k = len(task_names)
        self.task_names = tuple(task_names)
        self._weights = np.ones(self.k)

    def parameters(self) -> list[nn.Parameter]:
        """Extra trainable parameters the main optimiser should update (default none)."""
        return []

    def on_epoch_start(self, epoch: int, loss_history: list[np.ndarray]) -> None:  # noqa: B027 - optional hook
        """Called before each epoch with the per-task mean training losses of past epochs."""

    def combine(self, losses: torch.Tensor) -> torch.Tensor:
        """The scalar training objective from the ``(K,)`` loss vector (default: sum weighted by :meth:`weights`)."""
        w = torch.as_tensor(self._weights, dtype=losses.dtype, device=losses.device)
        return (w * losses).sum()

    def backward(self, losses: torch.Tensor, model: MultiTaskModel, backward: Backward) -> None:
        """Fill ``.grad`` of every parameter for this step (default: ``backward(combine(losses))``)."""
        backward(self.combine(losses))

    def weights(self) -> np.ndarray:
        """The task weights used in the last step (or last epoch), for logs."""
        return np.asarray(self._weights, dtype=np.float64).copy()

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Tensors a resumed run needs to continue as an uninterrupted one (default: :meth:`parameters`).

        Parameters trained by the main optimiser keep their optimiser state in the loop's checkpoint;
        a weighting with its own optimiser or random generator adds those here.
        """
        return {f"param{i}": p.detach() for i, p in enumerate(self.parameters())}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Restore :meth:`state_tensors` (after :meth:`setup`)."""
        with torch.no_grad():
            for i, p in enumerate(self.parameters()):
                p.copy_(tensors[f"param{i}"])


class GradientSurgery(Weighting):
    """Base of gradient methods: the heads get the gradient of the summed losses, the shared trunk
    :meth:`shared_gradient` of the per-task trunk gradients."""

    def shared_gradient(self, grads: torch.Tensor) -> torch.Tensor:
        """The trunk's flat gradient from the ``(K, P)`` per-task trunk gradients."""
        raise NotImplementedError

    def backward(self, losses: torch.Tensor, model: MultiTaskModel, backward: Backward) -> None:
        """Per-task trunk gradients into :meth:`shared_gradient`; the heads' gradients from the summed losses."""
        shared = model.shared_parameters()
        grads = per_task_gradients(losses, shared)
        backward(losses.sum())
        set_flat_gradient(shared, self.shared_gradient(grads))


def get_weighting(name: str, **options: float) -> Weighting:
    """A fresh weighting object from its registered name and options (e.g. ``temperature=2``)."""
    cls = WEIGHTINGS.get(name)
    try:
        return cls(**options)
    except TypeError as exc:
        raise ValueError(f"bad options for weighting {name!r}: {exc}") from None


def per_task_gradients(losses: torch.Tensor, params: list[nn.Parameter]) -> torch.Tensor:
    """``(K, P)``: the flattened gradient of each task loss with respect to ``params``."""
    rows = []
    for k in range(losses.shape[0]):
        grads = torch.autograd.grad(losses[k], params, retain_graph=True, allow_unused=True)
        rows.append(torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1).float()
                               for g, p in zip(grads, params, strict=True)]))
    return torch.stack(rows)


def set_flat_gradient(params: list[nn.Parameter], flat: torch.Tensor) -> None:
    """Write a flattened gradient vector into ``params[i].grad``."""
    start = 0
    for p in params:
        n = p.numel()
        p.grad = flat[start : start + n].reshape(p.shape).to(p.dtype).clone()
        start += n


def generator_state(rng: np.random.Generator) -> torch.Tensor:
    """A numpy generator's state as a uint8 tensor (its JSON), for safetensors checkpoints."""
    return torch.frombuffer(bytearray(json.dumps(rng.bit_generator.state).encode()), dtype=torch.uint8)


def set_generator_state(rng: np.random.Generator, state: torch.Tensor) -> None:
    """Restore a state written by :func:`generator_state`."""
    rng.bit_generator.state = json.loads(state.numpy().tobytes().decode())
