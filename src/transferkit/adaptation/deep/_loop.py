"""The one training loop every deep adaptation method shares.

Two data streams: labelled source batches and unlabelled target batches. At each step the loop
runs the network on both (one concatenated forward pass), adds the source cross-entropy to the
method's adaptation loss, and takes one SGD step with the DANN learning-rate annealing
``lr_p = lr / (1 + 10 p) ** 0.75``. The loop never receives target labels: its signature has
no place for them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from transferkit.adaptation.deep._base import DeepMethod, StepOutputs
from transferkit.errors import DataError


@dataclass
class DeepConfig:
    """Optimisation settings of the shared loop.

    Attributes:
        steps: number of optimisation steps (one source batch + one target batch each).
        batch_size: rows per stream per step.
        lr: initial SGD learning rate.
        momentum: SGD momentum.
        weight_decay: L2 penalty.
        anneal_lr: use ``lr / (1 + 10 p) ** 0.75`` (Ganin et al.) instead of a constant rate.
        seed: seed of initialisation, batch order and dropout.
        device: torch device.
        log_every: steps between history entries.
    """

    steps: int = 1000
    batch_size: int = 64
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    anneal_lr: bool = True
    seed: int = 0
    device: str = "cpu"
    log_every: int = 100


@dataclass
class DeepResult:
    """A trained network with its method, settings, loss history and wall time."""

    network: nn.Module
    method: DeepMethod
    config: DeepConfig
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """JSON-friendly settings and timing."""
        return {"config": asdict(self.config), "seconds": self.seconds, "last": self.history[-1:] or None}


def _index_stream(n: int, batch_size: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
    """Endless shuffled index batches (a new permutation each pass)."""
    bs = min(batch_size, n)
    while True:
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n - bs + 1, bs):
            yield perm[i : i + bs]


def _as_inputs(x: Any, name: str) -> torch.Tensor:
    t = torch.as_tensor(x, dtype=torch.float32)
    if t.ndim < 2 or len(t) == 0:
        raise DataError(f"{name} must be a non-empty batch of inputs (N, ...), got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise DataError(f"{name} contains NaN or infinite values")
    return t


def train_adaptation(
    network: nn.Module,
    method: DeepMethod,
    source_x: Any,
    source_y: Any,
    target_x: Any,
    config: DeepConfig | None = None,
) -> DeepResult:
    """Train ``network`` (returns ``(features, logits)``) with ``method`` on two streams.

    Args:
        network: e.g. :class:`~transferkit.adaptation.deep._nets.AdaptationNetwork`.
        method: a :class:`DeepMethod` (fresh instance: its modules are created here).
        source_x: prepared source inputs (tensor or array, ``(N, ...)``).
        source_y: source class indices ``0..K-1``.
        target_x: prepared target inputs (unlabelled); may be None for source-only.
        config: optimisation settings.
    """
    cfg = config or DeepConfig()
    if cfg.steps < 1 or cfg.batch_size < 2:
        raise ValueError("steps must be >= 1 and batch_size >= 2")
    xs = _as_inputs(source_x, "source inputs")
    ys = torch.as_tensor(np.asarray(source_y), dtype=torch.long)
    if ys.ndim != 1 or len(ys) != len(xs):
        raise DataError(f"{len(xs)} source inputs but {len(ys)} source labels")
    k = int(getattr(network, "num_classes", 0))
    if ys.min() < 0 or ys.max() >= k:
        raise DataError(f"source labels must lie in [0, {k}); got {int(ys.min())}..{int(ys.max())}")
    if len(torch.unique(ys)) < 2:
        raise DataError("source labels hold a single class: at least 2 classes are needed")
    xt = None
    if method.uses_target:
        if target_x is None:
            raise DataError(f"{type(method).__name__} needs unlabelled target inputs")
        xt = _as_inputs(target_x, "target inputs")
        if xt.shape[1:] != xs.shape[1:]:
            raise DataError(f"source inputs have shape {tuple(xs.shape[1:])}, target {tuple(xt.shape[1:])}")

    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    device = torch.device(cfg.device)
    method.setup(int(network.num_features), k)
    network.to(device)
    method.to(device)
    params = [p for p in list(network.parameters()) + list(method.parameters()) if p.requires_grad]
    opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, nesterov=True)
    src_stream = _index_stream(len(xs), cfg.batch_size, gen)
    tgt_stream = _index_stream(len(xt), cfg.batch_size, gen) if xt is not None else None
    history: list[dict[str, float]] = []
    start = time.perf_counter()
    network.train()
    method.train()
    for step in range(cfg.steps):
        progress = step / cfg.steps
        lr = cfg.lr / (1.0 + 10.0 * progress) ** 0.75 if cfg.anneal_lr else cfg.lr
        for group in opt.param_groups:
            group["lr"] = lr
        si = next(src_stream)
        bx, by = xs[si].to(device), ys[si].to(device)
        if tgt_stream is not None:
            bt = xt[next(tgt_stream)].to(device)  # type: ignore[index]
            f, logits = network(torch.cat([bx, bt]))
            n = len(bx)
            out = StepOutputs(f[:n], f[n:], logits[:n], logits[n:], by)
        else:
            f, logits = network(bx)
            out = StepOutputs(f, None, logits, None, by)
        ce = F.cross_entropy(out.logits_s, by)
        extra, logs = method(out, progress)
        loss = ce + extra
        if not math.isfinite(loss.item()):
            raise FloatingPointError(f"loss became {loss.item()} at step {step}: lower the learning rate")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % cfg.log_every == 0 or step == cfg.steps - 1:
            history.append({"step": step, "lr": lr, "source_ce": ce.item(), "loss": loss.item(), **logs})
    network.eval()
    method.eval()
    return DeepResult(network, method, cfg, history, time.perf_counter() - start)


@torch.no_grad()
def predict_outputs(network: nn.Module, x: Any, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """``(features, class probabilities)`` of ``network`` on inputs ``x`` (evaluation mode)."""
    xx = _as_inputs(x, "inputs")
    network.eval()
    device = next(network.parameters()).device
    feats, probs = [], []
    for i in range(0, len(xx), batch_size):
        f, logits = network(xx[i : i + batch_size].to(device))
        feats.append(f.cpu().numpy())
        probs.append(F.softmax(logits, dim=1).cpu().numpy())
    return np.concatenate(feats), np.concatenate(probs)
