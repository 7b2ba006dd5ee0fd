"""Multi-task training on the one training loop: :class:`MultiTaskTrainer` and :func:`train_multitask`.

The trainer gives :func:`transferkit.training.fit` what is multi-task: the optimiser groups (the
model, and the weighting's own parameters without weight decay), the task sampler's steps (every
step holds rows of every task), the per-task masked losses (a ``(K,)`` vector; the loop's
training loss is their sum), the weighting filling the gradients (GradNorm, PCGrad and CAGrad take
per-task gradients), the weighting's epoch hook (DWA reads the loss history), validation of every
task and the mean signed task score that picks the best epoch. The loop does the rest: seeding,
Accelerate, clipping, best state, patience, checkpoints and resume. The test split never enters
this file.

Gradient methods (GradNorm, PCGrad, CAGrad) call ``torch.autograd.grad`` per task on the unwrapped
model: run them in one process (CPU or one GPU); fp16 loss scaling is not supported (bf16 is).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from transferkit.backbones import to_device
from transferkit.errors import DataError
from transferkit.evaluation import HIGHER_IS_BETTER, classification_metrics, regression_metrics
from transferkit.multitask.data import TaskData
from transferkit.multitask.model import MultiTaskModel
from transferkit.multitask.sampler import SAMPLERS, TaskSampler
from transferkit.multitask.weightings import Weighting, get_weighting
from transferkit.training.callbacks import Callback
from transferkit.training.loop import TrainConfig, TrainResult, fit
from transferkit.training.supervised import balanced_class_weights
from transferkit.training.trainer import Trainer, apply_batchnorm_policy


@dataclass(frozen=True)
class MultiTaskTrainConfig:
    """Settings of one multi-task training run.

    With ``checkpoint_dir`` every epoch is checkpointed (model, optimiser, the weighting's state,
    the loss history); ``resume`` continues from it and ends as an uninterrupted run would.
    """

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
    checkpoint_dir: str | None = None
    resume: bool = False

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise DataError(f"sampler must be one of {SAMPLERS}, got {self.sampler!r}")
        if self.mixed_precision not in ("auto", "no", "bf16"):
            raise DataError(
                "mixed_precision must be auto, no or bf16 (fp16 loss scaling does not mix with per-task gradients)")
        try:  # the settings the loop shares are checked where the loop defines them
            self.loop_config()
        except ValueError as exc:
            raise DataError(str(exc)) from None

    def loop_config(self) -> TrainConfig:
        """The settings of the shared loop (AdamW, constant learning rate, this run's clipping and patience)."""
        return TrainConfig(**{k: v for k, v in asdict(self).items() if k not in ("sampler", "temperature")})


@dataclass
class MultiTaskResult(TrainResult):
    """A :class:`TrainResult` whose history holds per-task losses, validation scores and task weights."""

    def curve(self) -> dict[str, list[float]]:
        """Epoch, mean training loss and mean validation score per epoch (the report's curve format)."""
        out: dict[str, list[float]] = {"epoch": [h["epoch"] for h in self.history], "train_loss": [
            float(np.mean(list(h["train_loss"].values()))) for h in self.history]}
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
    outs = [model(to_device(model.trunk.prepare(x[s : s + batch_size]), device), task).float().cpu().numpy()
            for s in range(0, len(x), batch_size)]
    return np.concatenate(outs) if outs else np.zeros((0, model.specs[task].num_outputs), np.float32)


def _check(model: MultiTaskModel, tasks: Sequence[TaskData], what: str) -> None:
    names = [t.name for t in tasks]
    if len(set(names)) != len(names):
        raise DataError(f"{what} tasks have duplicate names: {names}")
    for t in tasks:
        if t.name not in model.specs:
            raise DataError(f"{what} task {t.name!r} has no head; the model's heads are {list(model.specs)}")
        spec = model.specs[t.name]
        if spec.kind != t.kind or spec.num_outputs != t.num_outputs:
            raise DataError(f"{what} task {t.name!r} is {t.kind} with {t.num_outputs} outputs but its head is "
                            f"{spec.kind} with {spec.num_outputs}")


class MultiTaskTrainer(Trainer):
    """A :class:`MultiTaskModel` trained on every task at once, a :class:`Weighting` filling the gradients.

    ``step`` returns the ``(K,)`` vector of task losses (the loop sums it for its training loss);
    the history entry per epoch holds the mean loss and weight of each task, each task's
    validation score and their mean signed score ``val_score``.
    """

    name = "multitask"

    def __init__(self, model: MultiTaskModel, train_tasks: Sequence[TaskData], val_tasks: Sequence[TaskData] | None,
                 weighting: Weighting, config: MultiTaskTrainConfig, metrics: Mapping[str, str] | None = None) -> None:
        super().__init__()
        _check(model, train_tasks, "training")
        for t in train_tasks:
            t.require_trainable()
        if val_tasks is not None:
            _check(model, val_tasks, "validation")
        self.model, self.weighting, self.config = model, weighting, config
        self.val_tasks = val_tasks
        self.names = tuple(t.name for t in train_tasks)
        self.by_name = {t.name: t for t in train_tasks}
        self.metric_of = {t.name: (metrics or {}).get(t.name) or ("accuracy" if t.kind == "classification" else "rmse")
                          for t in train_tasks}
        self.sampler = TaskSampler({t.name: np.flatnonzero(t.labelled) for t in train_tasks}, config.batch_size,
                                   config.sampler, config.temperature, config.seed)
        self.net: nn.Module = model
        self.device = torch.device("cpu")
        self.class_weights: dict[str, torch.Tensor | None] = {}
        self.loss_history: list[np.ndarray] = []  # per-task mean training loss of each epoch (DWA reads it)
        self._sums, self._steps, self._epoch = np.zeros(len(self.names)), 0, 0

    def modules(self) -> dict[str, nn.Module]:
        """The multi-task model (the weighting's state travels in :meth:`extra_state`)."""
        return {"model": self.model}

    def setup(self, device: torch.device) -> None:
        """Model to ``device``, the weighting set up on it, class weights per task."""
        self.device = device
        self.model.to(device)
        self.weighting.setup(self.model, self.names)
        balanced = self.config.class_weight == "balanced"
        self.class_weights = {t.name: balanced_class_weights(t.y[t.labelled], t.num_outputs).to(device)
                              if balanced and t.kind == "classification" else None for t in self.by_name.values()}

    def param_groups(self, lr: float, weight_decay: float) -> list[dict[str, Any]]:
        """The model's trainable parameters, then the weighting's own (no weight decay)."""
        groups = [{"params": [p for p in self.model.parameters() if p.requires_grad], "lr": lr,
                   "weight_decay": weight_decay, "name": "model"}]
        if self.weighting.parameters():
            groups.append({"params": self.weighting.parameters(), "lr": lr, "weight_decay": 0.0, "name": "weighting"})
        return groups

    def prepare(self, accelerator: Any, optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
        """Model and optimiser through Accelerate."""
        self.net, optimizer = accelerator.prepare(self.model, optimizer)
        self.ddp_synced = {id(p) for p in self.model.parameters() if p.requires_grad}
        return optimizer

    def num_steps(self, epoch: int) -> int:
        """Sampler steps per epoch."""
        return self.sampler.steps_per_epoch

    def on_epoch_start(self, epoch: int) -> None:
        """The weighting's epoch hook with the loss history (DWA); the epoch's loss sums restart."""
        self.weighting.on_epoch_start(epoch, self.loss_history)
        self._sums, self._steps, self._epoch = np.zeros(len(self.names)), 0, epoch

    def train_mode(self) -> None:
        """Training mode; frozen BatchNorm layers keep their statistics."""
        self.net.train()
        apply_batchnorm_policy(self.model)

    def batches(self, epoch: int) -> Iterator[tuple[dict[str, Any], dict[str, torch.Tensor]]]:
        """The sampler's steps as prepared inputs and labels of every task, on the device."""
        for step in self.sampler.epoch():
            inputs = {k: to_device(self.model.trunk.prepare(self.by_name[k].x[idx]), self.device)
                      for k, idx in step.items()}
            labels = {k: torch.as_tensor(self.by_name[k].y[idx], device=self.device) for k, idx in step.items()}
            yield inputs, labels

    def step(self, batch: Any) -> tuple[torch.Tensor, dict[str, Any]]:
        """The ``(K,)`` task losses of one step; a non-finite one stops the run naming its task(s).

        Every step counts once in the epoch means (``n = 1``), whatever the rows per task.
        """
        inputs, labels = batch
        outs = self.model.forward_tasks(inputs)
        losses = torch.stack([task_loss(outs[k], labels[k], self.by_name[k].kind, self.class_weights[k])
                              for k in self.names])
        values = losses.detach().float().cpu().numpy()
        if not np.isfinite(values).all():
            bad = [k for k, v in zip(self.names, values.tolist(), strict=True) if not math.isfinite(v)]
            raise DataError(f"training loss is not finite for task(s) {bad} at epoch {self._epoch + 1}: lower lr, "
                            "check the targets' scale")
        # the per-task epoch means are summed here in float64 (the loop's device sums are float32)
        self._sums += values
        self._steps += 1
        return losses, {"n": 1}

    def backward(self, loss: torch.Tensor, backward: Callable[[torch.Tensor], None]) -> None:
        """The weighting turns the task losses into gradients (loss weights or gradient surgery)."""
        self.weighting.backward(loss, self.model, backward)

    def evaluate(self) -> dict[str, Any]:
        """Each validation task's score (``val``) and their mean signed score (``val_score``)."""
        if self.val_tasks is None:
            return {}
        vals = {t.name: validation_score(t, predict_task(self.model, t.name, t.x, self.config.eval_batch_size),
                                         self.metric_of[t.name]) for t in self.val_tasks}
        finite = [signed(self.metric_of[k], v) for k, v in vals.items() if v is not None and math.isfinite(v)]
        return {"val": vals, "val_score": float(np.mean(finite)) if finite else float("nan")}

    def epoch_logs(self, logs: dict[str, Any]) -> dict[str, Any]:
        """The history entry: epoch, per-task training loss and weight, per-task validation, seconds.

        The epoch's per-task mean losses join :attr:`loss_history` here (once per epoch).
        """
        self.loss_history.append(self._sums / max(self._steps, 1))
        entry: dict[str, Any] = {"epoch": int(logs["epoch"]),
                                 "train_loss": dict(zip(self.names, self.loss_history[-1].tolist(), strict=True)),
                                 "weights": dict(zip(self.names, self.weighting.weights().tolist(), strict=True))}
        if "val" in logs:
            entry["val"], entry["val_score"] = logs["val"], logs["val_score"]
        entry["seconds"] = logs["seconds"]
        return entry

    def monitor(self, logs: dict[str, Any]) -> float:
        """The mean signed validation score, else minus the summed training losses."""
        if "val_score" in logs:
            return float(logs["val_score"])
        return -float(np.sum(self.loss_history[-1]))

    def extra_state(self) -> dict[str, torch.Tensor]:
        """The loss history (float64) and the weighting's state (learned weights, optimiser, generator)."""
        out = {"loss_history": torch.from_numpy(np.stack(self.loss_history))} if self.loss_history else {}
        out.update({f"weighting.{k}": v for k, v in self.weighting.state_tensors().items()})
        return out

    def load_extra_state(self, tensors: dict[str, torch.Tensor], epoch: int) -> None:
        """Restore the loss history and the weighting; the sampler skips the epochs already run."""
        hist = tensors.get("loss_history")
        self.loss_history = [row.numpy().copy() for row in hist] if hist is not None else []
        prefix = "weighting."
        self.weighting.load_state_tensors({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        self.sampler.skip(epoch)

    def describe(self) -> str:
        """Tasks and weighting."""
        return f"{len(self.names)} tasks ({self.weighting.name})"


def train_multitask(model: MultiTaskModel, train_tasks: Sequence[TaskData], val_tasks: Sequence[TaskData] | None = None,
                    weighting: Weighting | str = "equal", config: MultiTaskTrainConfig | None = None,
                    metrics: Mapping[str, str] | None = None, accelerator: Any = None,
                    callbacks: Sequence[Callback] = ()) -> MultiTaskResult:
    """Train ``model`` on all ``train_tasks`` at once and load the weights of the best epoch.

    The best epoch maximises the mean over tasks of each task's validation ``metrics[task]``
    (default accuracy / RMSE; lower-is-better metrics are negated). Without validation tasks the
    epoch with the lowest summed training loss is kept. ``weighting`` is a registered name or a
    :class:`Weighting` object.
    """
    config = config or MultiTaskTrainConfig()
    weighting = get_weighting(weighting) if isinstance(weighting, str) else weighting
    trainer = MultiTaskTrainer(model, train_tasks, val_tasks, weighting, config, metrics)
    res = fit(trainer, config.loop_config(), list(callbacks), accelerator)
    return MultiTaskResult(**vars(res) | {"config": asdict(config) | {"weighting": weighting.name,
                                                                      "metrics": trainer.metric_of}})
