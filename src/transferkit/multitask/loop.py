"""The one visible multi-task training loop, on HF Accelerate.

Read it top to bottom: seed -> optimiser over the model (and the weighting's own parameters)
-> for each epoch: the weighting's epoch hook (DWA), steps from the task sampler (every step holds
rows of every task), per-task masked losses, the weighting fills the gradients, clip, step ->
validate every task, the mean task score picks the best epoch, early stopping. The test split
never enters this file.

Gradient methods (GradNorm, PCGrad, CAGrad) call ``torch.autograd.grad`` per task on the unwrapped
model: run them in one process (CPU or one GPU); fp16 loss scaling is not supported (bf16 is).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from transferkit.backbones import to_device
from transferkit.errors import DataError
from transferkit.evaluation import HIGHER_IS_BETTER, classification_metrics, regression_metrics
from transferkit.multitask.data import TaskData
from transferkit.multitask.model import MultiTaskModel
from transferkit.multitask.sampler import SAMPLERS, TaskSampler
from transferkit.multitask.weightings import Weighting, get_weighting
from transferkit.training.trainer import apply_batchnorm_policy

CLASS_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "auroc")
REG_METRICS = ("mae", "rmse", "r2")


@dataclass(frozen=True)
class MultiTaskTrainConfig:
    """Settings of one multi-task training run."""

    epochs: int = 50
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int | None = 10
    seed: int = 0
    sampler: str = "proportional"
    temperature: float = 2.0
    max_grad_norm: float | None = 5.0
    class_weight: str | None = None  # "balanced": each task's loss weighted by inverse class frequency
    mixed_precision: str = "auto"
    eval_batch_size: int = 512
    progress: bool = False

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.eval_batch_size < 1:
            raise DataError("epochs, batch_size and eval_batch_size must be >= 1")
        if not self.lr > 0:
            raise DataError(f"lr must be > 0, got {self.lr}")
        if self.patience is not None and self.patience < 1:
            raise DataError("patience must be >= 1 (or None for no early stopping)")
        if self.sampler not in SAMPLERS:
            raise DataError(f"sampler must be one of {SAMPLERS}, got {self.sampler!r}")
        if self.class_weight not in (None, "balanced"):
            raise DataError("class_weight must be None or 'balanced'")
        if self.mixed_precision not in ("auto", "no", "bf16"):
            raise DataError(
                "mixed_precision must be auto, no or bf16 (fp16 loss scaling does not mix with per-task gradients)"
            )


@dataclass
class MultiTaskResult:
    """Per-epoch history (per-task losses, validation scores, task weights), the best epoch and its score."""

    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = -1
    best_score: float = -math.inf
    seconds: float = 0.0
    stopped_early: bool = False
    config: dict[str, Any] = field(default_factory=dict)

    def curve(self) -> dict[str, list[float]]:
        """Epoch, mean training loss and mean validation score per epoch (the report's curve format)."""
        out: dict[str, list[float]] = {
            "epoch": [h["epoch"] for h in self.history],
            "train_loss": [float(np.mean(list(h["train_loss"].values()))) for h in self.history],
        }
        if self.history and "val_score" in self.history[0]:
            out["val_score"] = [h["val_score"] for h in self.history]
        return out


def task_loss(out: torch.Tensor, y: torch.Tensor, kind: str, class_weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean loss over the labelled rows (missing labels: -1 classes, NaN targets are masked out).

    Cross-entropy for classification (optionally class-weighted), squared error for regression.
    Returns ``NaN`` when no row of the batch is labelled.
    """
    out = out.float()
    if kind == "classification":
        mask = y >= 0
        if not bool(mask.any()):
            return out.sum() * float("nan")
        return F.cross_entropy(out[mask], y[mask], weight=class_weight)
    yy = y.reshape(y.shape[0], -1)
    mask = ~torch.isnan(yy)
    if not bool(mask.any()):
        return out.sum() * float("nan")
    diff = out.reshape(yy.shape) - torch.nan_to_num(yy)
    return (diff[mask] ** 2).mean()


def task_metrics(task: TaskData, out: np.ndarray) -> dict[str, float]:
    """All metrics of one task on its labelled rows (classification or regression)."""
    lab = task.labelled
    if not lab.any():
        raise DataError(f"task {task.name!r}: no labelled rows to score")
    if task.kind == "classification":
        return classification_metrics(task.y[lab], out[lab], task.num_outputs)
    return regression_metrics(task.y[lab], out[lab])


def validation_score(task: TaskData, out: np.ndarray, metric: str) -> float:
    """One metric of one task on its labelled rows (accuracy and balanced accuracy computed directly)."""
    lab = task.labelled
    if task.kind == "classification" and metric in ("accuracy", "balanced_accuracy"):
        y, pred = task.y[lab], out[lab].argmax(1)
        if metric == "accuracy":
            return float(np.mean(pred == y))
        return float(np.mean([np.mean(pred[y == c] == c) for c in np.unique(y)]))
    return task_metrics(task, out)[metric]


def signed(metric: str, value: float) -> float:
    """A score where higher is better (lower-is-better metrics are negated)."""
    return value if HIGHER_IS_BETTER.get(metric, True) else -value


@torch.no_grad()
def predict_task(model: MultiTaskModel, task: str, x: Any, batch_size: int = 512) -> np.ndarray:
    """Raw outputs of ``task``'s head for inputs ``x``, in order."""
    model.eval()
    device = next(model.parameters()).device
    outs = [
        model(to_device(model.trunk.prepare(x[s : s + batch_size]), device), task).float().cpu().numpy()
        for s in range(0, len(x), batch_size)
    ]
    return np.concatenate(outs) if outs else np.zeros((0, model.specs[task].num_outputs), np.float32)


def _class_weights(task: TaskData) -> torch.Tensor:
    y = task.y[task.labelled]
    counts = np.bincount(y, minlength=task.num_outputs).astype(np.float64)
    w = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / max((counts > 0).sum(), 1), 0.0)
    return torch.tensor(w, dtype=torch.float32)


def _check(model: MultiTaskModel, tasks: Sequence[TaskData], what: str) -> None:
    names = [t.name for t in tasks]
    if len(set(names)) != len(names):
        raise DataError(f"{what} tasks have duplicate names: {names}")
    for t in tasks:
        if t.name not in model.specs:
            raise DataError(f"{what} task {t.name!r} has no head; the model's heads are {list(model.specs)}")
        spec = model.specs[t.name]
        if spec.kind != t.kind or spec.num_outputs != t.num_outputs:
            raise DataError(
                f"{what} task {t.name!r} is {t.kind} with {t.num_outputs} outputs but its head is "
                f"{spec.kind} with {spec.num_outputs}"
            )


def train_multitask(
    model: MultiTaskModel,
    train_tasks: Sequence[TaskData],
    val_tasks: Sequence[TaskData] | None = None,
    weighting: Weighting | str = "equal",
    config: MultiTaskTrainConfig | None = None,
    metrics: Mapping[str, str] | None = None,
    accelerator: Any = None,
) -> MultiTaskResult:
    """Train ``model`` on all ``train_tasks`` at once and load the weights of the best epoch.

    The best epoch maximises the mean over tasks of each task's validation ``metrics[task]``
    (default accuracy / RMSE; lower-is-better metrics are negated). Without validation tasks the
    last epoch is kept. ``weighting`` is a registered name or a :class:`Weighting` object.
    """
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    config = config or MultiTaskTrainConfig()
    weighting = get_weighting(weighting) if isinstance(weighting, str) else weighting
    _check(model, train_tasks, "training")
    for t in train_tasks:
        t.require_trainable()
    if val_tasks is not None:
        _check(model, val_tasks, "validation")
    names = tuple(t.name for t in train_tasks)
    metric_of = {
        t.name: (metrics or {}).get(t.name) or ("accuracy" if t.kind == "classification" else "rmse")
        for t in train_tasks
    }
    set_seed(config.seed)
    if accelerator is None:
        mp = config.mixed_precision
        if mp == "auto":
            mp = "bf16" if torch.cuda.is_available() else "no"
        accelerator = Accelerator(mixed_precision=mp, cpu=not torch.cuda.is_available())
    device = accelerator.device
    model.to(device)
    weighting.setup(model, names)
    groups = [{"params": [p for p in model.parameters() if p.requires_grad], "weight_decay": config.weight_decay}]
    if weighting.parameters():
        groups.append({"params": weighting.parameters(), "weight_decay": 0.0})
    optimizer = torch.optim.AdamW(groups, lr=config.lr)
    model, optimizer = accelerator.prepare(model, optimizer)
    raw: MultiTaskModel = accelerator.unwrap_model(model)
    by_name = {t.name: t for t in train_tasks}
    cweights = {
        t.name: _class_weights(t).to(device)
        if config.class_weight == "balanced" and t.kind == "classification"
        else None
        for t in train_tasks
    }
    sampler = TaskSampler(
        {t.name: np.flatnonzero(t.labelled) for t in train_tasks},
        config.batch_size,
        config.sampler,
        config.temperature,
        config.seed,
    )

    result = MultiTaskResult(config=asdict(config) | {"weighting": weighting.name, "metrics": metric_of})
    loss_history: list[np.ndarray] = []
    best_state: dict[str, torch.Tensor] | None = None
    bad_epochs = 0
    t0 = time.perf_counter()
    for epoch in range(config.epochs):
        weighting.on_epoch_start(epoch, loss_history)
        model.train()
        apply_batchnorm_policy(raw)
        sums, steps = np.zeros(len(names)), 0
        for step in sampler.epoch():
            inputs = {k: to_device(raw.trunk.prepare(by_name[k].x[idx]), device) for k, idx in step.items()}
            with accelerator.autocast():
                outs = raw.forward_tasks(inputs)
                losses = torch.stack(
                    [
                        task_loss(
                            outs[k],
                            torch.as_tensor(by_name[k].y[step[k]], device=device),
                            by_name[k].kind,
                            cweights[k],
                        )
                        for k in names
                    ]
                )
            if not torch.isfinite(losses).all():
                bad = [k for k, v in zip(names, losses.detach().cpu().tolist(), strict=True) if not math.isfinite(v)]
                raise DataError(
                    f"training loss is not finite for task(s) {bad} at epoch {epoch + 1}: lower lr, "
                    "check the targets' scale"
                )
            optimizer.zero_grad(set_to_none=True)
            for p in weighting.parameters():
                p.grad = None
            weighting.backward(losses, raw, accelerator.backward)
            if config.max_grad_norm:
                accelerator.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            optimizer.step()
            sums += losses.detach().float().cpu().numpy()
            steps += 1
        loss_history.append(sums / max(steps, 1))
        logs: dict[str, Any] = {
            "epoch": epoch + 1,
            "train_loss": dict(zip(names, loss_history[-1].tolist(), strict=True)),
            "weights": dict(zip(names, weighting.weights().tolist(), strict=True)),
        }
        if val_tasks is not None:
            vals = {
                t.name: validation_score(t, predict_task(raw, t.name, t.x, config.eval_batch_size), metric_of[t.name])
                for t in val_tasks
            }
            logs["val"] = vals
            finite = [signed(metric_of[k], v) for k, v in vals.items() if v is not None and math.isfinite(v)]
            logs["val_score"] = float(np.mean(finite)) if finite else float("nan")
        logs["seconds"] = time.perf_counter() - t0
        result.history.append(logs)
        score = logs.get("val_score", -float(np.sum(loss_history[-1])))
        if best_state is None or (math.isfinite(score) and score > result.best_score + 1e-12):
            result.best_score, result.best_epoch, bad_epochs = score, epoch + 1, 0
            best_state = copy.deepcopy({k: v.detach().clone() for k, v in raw.state_dict().items()})
        else:
            bad_epochs += 1
        if val_tasks is not None and config.patience is not None and bad_epochs >= config.patience:
            result.stopped_early = True
            break
    result.seconds = time.perf_counter() - t0
    if best_state is not None:
        raw.load_state_dict(best_state)
    raw.eval()
    return result
