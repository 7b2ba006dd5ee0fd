"""Deep domain adaptation on the one training loop: a :class:`~transferkit.training.Trainer` for two streams.

Two data streams: labelled source batches and unlabelled target batches, drawn from one seeded
generator. At each step the trainer runs the network on both (one concatenated forward pass) and
adds the source cross-entropy to the method's adaptation loss; the loop
(:func:`transferkit.training.fit`) takes one SGD step (Nesterov momentum) with the DANN
learning-rate annealing ``lr_p = lr / (1 + 10 p) ** 0.75``. One loop "epoch" is ``log_every``
steps (one history entry, the means over those steps). The unlabelled target stream never
carries labels. Semi-supervised DA: a few labelled target examples, given explicitly as
``labelled_target``, form a third stream whose cross-entropy (times
``DeepConfig.target_label_weight``) joins the loss; those examples must not be the ones that
later select or judge the model (``adapt`` splits its labelled target examples for that). There
is no validation, so the last state is kept.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from transferkit.adaptation.deep._base import DeepMethod, StepOutputs
from transferkit.errors import DataError
from transferkit.training.loop import TrainConfig, fit
from transferkit.training.trainer import Trainer


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
        device: ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
        log_every: steps between history entries (each entry holds the means over those steps).
        mixed_precision: ``no`` (full precision: the methods' covariances and kernels as published)
            or ``bf16`` autocast (``auto``: bf16 on CUDA, none on CPU).
        checkpoint_dir: a folder to checkpoint into every ``log_every`` steps.
        target_label_weight: weight of the labelled target examples' cross-entropy (when
            ``train_adaptation`` gets ``labelled_target``) beside the source cross-entropy.
        resume: continue from the checkpoint in ``checkpoint_dir`` (same settings).
        progress: show a progress bar.
    """

    steps: int = 1000
    batch_size: int = 64
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    anneal_lr: bool = True
    seed: int = 0
    device: str = "auto"
    log_every: int = 100
    mixed_precision: str = "no"
    checkpoint_dir: str | None = None
    resume: bool = False
    progress: bool = False
    target_label_weight: float = 1.0

    def train_config(self) -> TrainConfig:
        """The loop's settings: SGD with Nesterov momentum, no clipping, no patience, the last state kept."""
        return TrainConfig(epochs=math.ceil(self.steps / self.log_every), batch_size=self.batch_size, lr=self.lr,
                           weight_decay=self.weight_decay, patience=None, seed=self.seed,
                           mixed_precision=self.mixed_precision, max_grad_norm=None, checkpoint_dir=self.checkpoint_dir,
                           resume=self.resume, progress=self.progress, optimizer="sgd", momentum=self.momentum,
                           nesterov=True, schedule="dann" if self.anneal_lr else "constant", device=self.device)


@dataclass
class DeepResult:
    """A trained network with its method, settings, loss history (one entry per ``log_every`` steps) and wall time."""

    network: nn.Module
    method: DeepMethod
    config: DeepConfig
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """JSON-friendly settings, timing and the means over the last ``log_every`` steps."""
        return {"config": asdict(self.config), "seconds": self.seconds, "last": self.history[-1:] or None}


class _IndexStream:
    """Endless shuffled index batches (a new permutation each pass), drawn lazily from a shared generator.

    The permutation and the position in it are state (see :meth:`state`), so a resumed run
    continues the exact sequence of batches.
    """

    def __init__(self, n: int, batch_size: int, gen: torch.Generator) -> None:
        self.n, self.bs, self.gen = n, min(batch_size, n), gen
        self.perm: torch.Tensor | None = None
        self.pos = 0

    def next(self) -> torch.Tensor:
        """The next batch of indices (a new permutation once this pass's full batches are used)."""
        if self.perm is None or self.pos >= self.n // self.bs:
            self.perm, self.pos = torch.randperm(self.n, generator=self.gen), 0
        self.pos += 1
        return self.perm[(self.pos - 1) * self.bs : self.pos * self.bs]

    def state(self, prefix: str) -> dict[str, torch.Tensor]:
        """The current permutation and position."""
        if self.perm is None:
            return {}
        return {f"{prefix}.perm": self.perm, f"{prefix}.pos": torch.tensor(self.pos)}

    def load_state(self, tensors: dict[str, torch.Tensor], prefix: str) -> None:
        """Restore :meth:`state`."""
        if f"{prefix}.perm" in tensors:
            self.perm, self.pos = tensors[f"{prefix}.perm"].clone(), int(tensors[f"{prefix}.pos"])


def _as_inputs(x: Any, name: str) -> torch.Tensor:
    t = torch.as_tensor(x, dtype=torch.float32)
    if t.ndim < 2 or len(t) == 0:
        raise DataError(f"{name} must be a non-empty batch of inputs (N, ...), got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise DataError(f"{name} contains NaN or infinite values")
    return t


def _labelled(x: Any, y: Any, k: int, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and class indices in ``[0, k)``, checked."""
    xx = _as_inputs(x, f"{what} inputs")
    yy = torch.as_tensor(np.asarray(y), dtype=torch.long)
    if yy.ndim != 1 or len(yy) != len(xx):
        raise DataError(f"{len(xx)} {what} inputs but {len(yy)} {what} labels")
    if yy.min() < 0 or yy.max() >= k:
        raise DataError(f"{what} labels must lie in [0, {k}); got {int(yy.min())}..{int(yy.max())}")
    return xx, yy


def _check_inputs(network: nn.Module, method: DeepMethod, source_x: Any, source_y: Any,
                  target_x: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Source inputs and labels, and target inputs (None when the method reads no target), checked."""
    xs, ys = _labelled(source_x, source_y, int(getattr(network, "num_classes", 0)), "source")
    if len(torch.unique(ys)) < 2:
        raise DataError("source labels hold a single class: at least 2 classes are needed")
    xt = None
    if method.uses_target:
        if target_x is None:
            raise DataError(f"{type(method).__name__} needs unlabelled target inputs")
        xt = _as_inputs(target_x, "target inputs")
        if xt.shape[1:] != xs.shape[1:]:
            raise DataError(f"source inputs have shape {tuple(xs.shape[1:])}, target {tuple(xt.shape[1:])}")
    return xs, ys, xt


class AdaptationTrainer(Trainer):
    """A network (``x -> (features, logits)``) and a deep method trained on a source and a target stream.

    Loop epoch ``e`` is steps ``e * log_every`` up to ``(e + 1) * log_every`` (the last one shorter
    when ``steps`` is not a multiple). The method sees the progress ``step / steps`` of the step.
    """

    name = "adapt"
    keep_last = True  # no validation: the trainer never sees target labels

    def __init__(self, network: nn.Module, method: DeepMethod, source_x: torch.Tensor, source_y: torch.Tensor,
                 target_x: torch.Tensor | None, config: DeepConfig,
                 labelled_target: tuple[torch.Tensor, torch.Tensor] | None = None) -> None:
        super().__init__()
        self.network, self.method, self.config = network, method, config
        self.xs, self.ys, self.xt = source_x, source_y, target_x
        self.labelled = labelled_target
        self.gen = torch.Generator().manual_seed(config.seed)
        self.source = _IndexStream(len(source_x), config.batch_size, self.gen)
        self.target = _IndexStream(len(target_x), config.batch_size, self.gen) if target_x is not None else None
        self.target_l = (_IndexStream(len(labelled_target[0]), config.batch_size, self.gen)
                         if labelled_target is not None else None)
        self.done = 0  # steps taken
        self.lr = config.lr
        self.device = torch.device("cpu")
        self.optimizer: torch.optim.Optimizer | None = None

    def modules(self) -> dict[str, nn.Module]:
        """The network and the method (its discriminators, if any)."""
        return {"network": self.network, "method": self.method}

    def setup(self, device: torch.device) -> None:
        """Create the method's modules (after the loop seeded) and move everything to ``device``."""
        self.method.setup(int(self.network.num_features), int(self.network.num_classes))
        self.device = device
        self.network.to(device)
        self.method.to(device)

    def param_groups(self, lr: float, weight_decay: float) -> list[dict[str, Any]]:
        """Every trainable parameter of the network and the method, one group."""
        params = [p for m in self.modules().values() for p in m.parameters() if p.requires_grad]
        return [{"params": params, "lr": lr, "weight_decay": weight_decay, "name": "all"}]

    def prepare(self, accelerator: Any, optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
        """The optimiser through Accelerate; kept to log the learning rate of each step."""
        self.optimizer = accelerator.prepare(optimizer)
        return self.optimizer

    def num_steps(self, epoch: int) -> int:
        """``log_every`` steps, fewer in the last epoch."""
        return min(self.config.log_every, self.config.steps - epoch * self.config.log_every)

    def batches(self, epoch: int) -> Any:
        """Index batches of the streams (source, target, labelled target: in that order, from the one generator)."""
        for _ in range(self.num_steps(epoch)):
            si = self.source.next()
            ti = self.target.next() if self.target is not None else None
            yield si, ti, (self.target_l.next() if self.target_l is not None else None)

    def step(self, batch: Any) -> tuple[torch.Tensor, dict[str, Any]]:
        """Source cross-entropy plus the method's loss on one concatenated forward pass (plus the weighted
        cross-entropy of the labelled target batch, when there is one)."""
        si, ti, li = batch
        progress = self.done / self.config.steps
        self.done += 1
        if self.optimizer is not None:
            self.lr = self.optimizer.param_groups[0]["lr"]
        bx, by = self.xs[si].to(self.device), self.ys[si].to(self.device)
        parts = [bx] + ([self.xt[ti]] if ti is not None else []) + ([self.labelled[0][li]] if li is not None else [])
        f, logits = self.network(torch.cat([p.to(self.device) for p in parts]) if len(parts) > 1 else bx)
        n, m = len(bx), len(bx) + (len(ti) if ti is not None else 0)
        out = StepOutputs(f[:n], f[n:m] if ti is not None else None, logits[:n],
                          logits[n:m] if ti is not None else None, by)
        ce = F.cross_entropy(out.logits_s.float(), by)
        extra, logs = self.method(out, progress)
        if li is None:
            return ce + extra, {"n": len(by), "source_ce": ce.detach(), **logs}
        ce_l = F.cross_entropy(logits[m:].float(), self.labelled[1][li].to(self.device))  # type: ignore[index]
        loss = ce + extra + self.config.target_label_weight * ce_l
        return loss, {"n": len(by), "source_ce": ce.detach(), "target_labelled_ce": ce_l.detach(), **logs}

    def epoch_logs(self, logs: dict[str, Any]) -> dict[str, Any]:
        """The loop's means, plus the steps taken and the learning rate of the last one."""
        return {**logs, "step": self.done, "lr": self.lr}

    def extra_state(self) -> dict[str, torch.Tensor]:
        """The shared batch generator and both streams' positions (an exact resume)."""
        return {"gen": self.gen.get_state(), **self.source.state("source"),
                **(self.target.state("target") if self.target is not None else {}),
                **(self.target_l.state("target_l") if self.target_l is not None else {})}

    def load_extra_state(self, tensors: dict[str, torch.Tensor], epoch: int) -> None:
        """Restore the generator and the streams; ``epoch`` loop epochs are done."""
        if "gen" in tensors:
            self.gen.set_state(tensors["gen"])
        self.source.load_state(tensors, "source")
        if self.target is not None:
            self.target.load_state(tensors, "target")
        if self.target_l is not None:
            self.target_l.load_state(tensors, "target_l")
        self.done = sum(self.num_steps(e) for e in range(epoch))

    def describe(self) -> str:
        """The method's class name."""
        return type(self.method).__name__


def train_adaptation(network: nn.Module, method: DeepMethod, source_x: Any, source_y: Any, target_x: Any,
                     config: DeepConfig | None = None, labelled_target: tuple[Any, Any] | None = None) -> DeepResult:
    """Train ``network`` (returns ``(features, logits)``) with ``method`` on two streams.

    Args:
        network: e.g. :class:`~transferkit.adaptation.deep._nets.AdaptationNetwork`.
        method: a :class:`DeepMethod` (fresh instance: its modules are created here).
        source_x: prepared source inputs (tensor or array, ``(N, ...)``).
        source_y: source class indices ``0..K-1``.
        target_x: prepared target inputs (unlabelled); may be None for source-only.
        config: optimisation settings.
        labelled_target: optional ``(x, y)``: a few labelled target examples (class indices) that
            train beside the source (semi-supervised DA); keep the examples that select or judge
            the model out of it.
    """
    cfg = config or DeepConfig()
    if cfg.steps < 1 or cfg.batch_size < 2:
        raise ValueError("steps must be >= 1 and batch_size >= 2")
    if cfg.log_every < 1:
        raise ValueError("log_every must be >= 1")
    xs, ys, xt = _check_inputs(network, method, source_x, source_y, target_x)
    lab = None
    if labelled_target is not None:
        lab = _labelled(*labelled_target, int(getattr(network, "num_classes", 0)), "labelled target")
        if lab[0].shape[1:] != xs.shape[1:]:
            raise DataError(f"source inputs have shape {tuple(xs.shape[1:])}, labelled target {tuple(lab[0].shape[1:])}")
    result = fit(AdaptationTrainer(network, method, xs, ys, xt, cfg, lab), cfg.train_config())
    return DeepResult(network, method, cfg, result.history, result.seconds)


@torch.no_grad()
def predict_outputs(network: nn.Module, x: Any, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """``(features, class probabilities)`` of ``network`` on inputs ``x`` (evaluation mode)."""
    xx = _as_inputs(x, "inputs")
    network.eval()
    device = next(network.parameters()).device
    feats, probs = [], []
    for i in range(0, len(xx), batch_size):
        f, logits = network(xx[i : i + batch_size].to(device))
        feats.append(f.float().cpu().numpy())
        probs.append(F.softmax(logits.float(), dim=1).cpu().numpy())
    return np.concatenate(feats), np.concatenate(probs)
