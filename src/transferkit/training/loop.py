"""The one visible training loop, on HF Accelerate (CPU, one GPU with bf16, or many processes).

Every method that trains a network runs here: transfer strategies, scratch baselines, deep
domain adaptation, multi-task learning, pre-training objectives, SetFit's pair stage. A method
gives a :class:`~transferkit.training.trainer.Trainer` (its modules, batches and a step); the
loop does the rest. Read :func:`fit` top to bottom: seed -> Accelerate -> trainer set-up ->
optimiser and schedule -> resume -> for each epoch: hook, batches, step, backward, clip, step ->
validate, keep the best state, patience, checkpoint, progress. The best epoch is chosen on the
validation split only; the test split never enters this file.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from transferkit.errors import DataArgumentError, DataError
from transferkit.evaluation.metrics import METRICS
from transferkit.training.callbacks import Callback
from transferkit.training.checkpoint import Checkpoint, has_checkpoint, load_checkpoint, save_checkpoint
from transferkit.training.trainer import Trainer

SCHEDULES = ("constant", "dann", "linear_warmup", "cosine")


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run (validated; saved to JSON with the results).

    ``schedule``: ``constant``; ``dann`` (``lr / (1 + 10 p) ** 0.75``, p = fraction of steps done,
    Ganin et al.); ``linear_warmup`` (linear rise over ``warmup`` of the steps, rounded down but at
    least one step when ``warmup`` > 0, then linear decay to 0); ``cosine`` (after the same warm-up).
    ``optimizer``: ``adamw`` or ``sgd`` (``momentum``, ``nesterov``). ``device``: ``auto`` (CUDA when
    present), ``cpu`` or ``cuda``.
    """

    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int | None = 8
    seed: int = 0
    mixed_precision: str = "auto"  # auto: bf16 on CUDA, none on CPU; or "no" / "bf16" / "fp16"
    max_grad_norm: float | None = 5.0
    select_metric: str = "accuracy"  # validation score used for early stopping / best epoch
    keep_last: bool = False  # keep the last epoch's weights (a refit for an epoch count chosen elsewhere)
    class_weight: str | None = None  # "balanced" weights the loss by inverse class frequency
    checkpoint_dir: str | None = None
    checkpoint_every: int = 1  # epochs between checkpoints (the last epoch and an early stop are always saved)
    resume: bool = False
    progress: bool = True
    eval_batch_size: int = 256
    label_smoothing: float = 0.0
    num_workers: int = 0  # DataLoader worker processes running ``prepare`` (0: in the training process)
    optimizer: str = "adamw"
    momentum: float = 0.9
    nesterov: bool = False
    schedule: str = "constant"
    warmup: float = 0.0  # fraction of all steps
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.eval_batch_size < 1:
            raise ValueError("epochs, batch_size and eval_batch_size must be >= 1")
        if self.checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be >= 1, got {self.checkpoint_every}")
        if self.num_workers < 0:
            raise ValueError(f"num_workers must be >= 0, got {self.num_workers}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.patience is not None and self.patience < 1:
            raise ValueError("patience must be >= 1 (or None for no early stopping)")
        if not 0.0 <= self.warmup < 1.0:
            raise ValueError(f"warmup is a fraction of the steps in [0, 1), got {self.warmup}")
        for name, allowed in (("mixed_precision", ("auto", "no", "bf16", "fp16")), ("class_weight", (None, "balanced")),
                              ("optimizer", ("adamw", "sgd")), ("schedule", SCHEDULES), ("device", ("auto", "cpu", "cuda"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {list(allowed)}, got {getattr(self, name)!r}")
        if self.select_metric != "neg_rmse":
            METRICS.canonical(self.select_metric, context="select_metric")


@dataclass
class TrainResult:
    """What a training run returns: per-epoch history, the best epoch and its validation score."""

    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = -1
    best_score: float = -math.inf
    seconds: float = 0.0
    stopped_early: bool = False
    resumed_from: int = 0  # epochs restored from a checkpoint
    config: dict[str, Any] = field(default_factory=dict)

    def curve(self) -> dict[str, list[float]]:
        """Numeric columns of the history, for plots."""
        keys = [k for k, v in self.history[0].items() if isinstance(v, (int, float))] if self.history else []
        return {k: [h[k] for h in self.history] for k in keys}


def make_accelerator(config: TrainConfig) -> Any:
    """An Accelerator for ``config`` (bf16 on CUDA under ``auto``; pinned, non-blocking copies with workers)."""
    from accelerate import Accelerator
    from accelerate.utils import DataLoaderConfiguration

    cuda = torch.cuda.is_available() and config.device != "cpu"
    if config.device == "cuda" and not torch.cuda.is_available():
        raise DataArgumentError("device 'cuda' was asked for but no CUDA device is visible: use --device cpu or auto")
    mp = config.mixed_precision
    if mp == "auto":
        mp = "bf16" if cuda else "no"
    return Accelerator(mixed_precision=mp, cpu=not cuda,
                       dataloader_config=DataLoaderConfiguration(non_blocking=config.num_workers > 0))


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads (the count is unchanged when ``n`` is None or 0)."""
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def make_optimizer(groups: list[dict[str, Any]], config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW or SGD over the parameter groups (each group may carry its own ``lr``)."""
    groups = [g for g in groups if g["params"]]
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay,
                               nesterov=config.nesterov)
    return torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)


def lr_factor(schedule: str, step: int, total: int, warmup: float = 0.0) -> float:
    """The multiplier of the base learning rate at optimiser ``step`` of ``total``."""
    p = step / max(total, 1)
    if schedule == "dann":
        return (1.0 + 10.0 * p) ** -0.75
    if schedule == "constant":
        return 1.0
    w = max(1, int(warmup * total)) if warmup > 0 else 0  # warm-up steps: floor, at least one
    if step < w:
        return (step + 1) / w
    if schedule == "linear_warmup":
        return max(0.0, (total - step) / max(total - w, 1))
    rest = (step - w) / max(total - w, 1)
    return 0.5 * (1.0 + math.cos(math.pi * min(rest, 1.0)))


def average_gradients(params: list[torch.nn.Parameter], world_size: int) -> None:
    """Average the gradients of ``params`` over all processes (one flat all-reduce)."""
    import torch.distributed as dist

    grads = [p.grad for p in params if p.grad is not None]
    if not grads or not dist.is_initialized():
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world_size
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def _state(trainer: Trainer) -> dict[str, dict[str, torch.Tensor]]:
    return {n: {k: v.detach().clone() for k, v in m.state_dict().items()} for n, m in trainer.modules().items()}


def _train_epoch(trainer: Trainer, epoch: int, optimizer: Any, schedule: Any, accelerator: Any,
                 config: TrainConfig) -> dict[str, float]:
    """One pass over the trainer's batches; returns the epoch means of the loss and the step logs."""
    late = [p for m in trainer.modules().values() for p in m.parameters()
            if p.requires_grad and id(p) not in trainer.ddp_synced] if accelerator.num_processes > 1 else []
    trainer.train_mode()
    sums: dict[str, Any] = {}
    count = 0
    for batch in trainer.batches(epoch):
        with accelerator.autocast():
            loss, logs = trainer.step(batch)
        optimizer.zero_grad(set_to_none=True)
        trainer.backward(loss, accelerator.backward)
        if late:
            average_gradients(late, accelerator.num_processes)
        if config.max_grad_norm:
            params = [p for m in trainer.modules().values() for p in m.parameters()]
            accelerator.clip_grad_norm_(params, config.max_grad_norm)
        optimizer.step()
        if schedule is not None:
            schedule.step()
        n = int(logs.pop("n", 1))
        # summed on the device: no host sync per step
        for k, v in {"train_loss": loss.detach().float().sum(), **logs}.items():
            v = v.detach().float() if isinstance(v, torch.Tensor) else torch.tensor(float(v))
            sums[k] = sums.get(k, 0.0) + v * n
        count += n
    logs = {"epoch": float(epoch + 1), **{k: float(v) / max(count, 1) for k, v in sums.items()}}
    if not math.isfinite(logs.get("train_loss", 0.0)):
        raise DataError(f"the training loss became {logs['train_loss']} in epoch {epoch + 1}: lower the "
                        "learning rate, or check the inputs and targets for extreme values")
    return logs


def _resume(trainer: Trainer, config: TrainConfig, optimizer: Any, schedule: Any) -> Checkpoint:
    """The checkpoint to continue from (an empty one when not resuming)."""
    folder = Path(config.checkpoint_dir) if config.checkpoint_dir else None
    if not (config.resume and has_checkpoint(folder)):
        return Checkpoint(0, 0, -1, -math.inf, [], 0.0)
    assert folder is not None
    ck = load_checkpoint(folder, trainer.modules(), optimizer)
    trainer.load_extra_state(ck.extra, ck.epoch)
    if schedule is not None:
        import warnings

        with warnings.catch_warnings():  # replaying the schedule before any optimiser step is intended here
            warnings.simplefilter("ignore", UserWarning)
            for _ in range(sum(trainer.num_steps(e) for e in range(ck.epoch))):
                schedule.step()
    return ck


def _progress(show: bool) -> Any:
    from rich.progress import BarColumn, TextColumn

    from transferkit._progress import progress_bar

    # names and descriptions are user strings (data, task, model names): never parsed as markup
    return progress_bar(TextColumn("{task.fields[name]}", style="bold", markup=False),
                        TextColumn("{task.description}", markup=False), BarColumn(),
                        TextColumn("{task.completed}/{task.total} epochs"),
                        TextColumn("{task.fields[info]}", markup=False), unit="epochs", show=show)


def fit(trainer: Trainer, config: TrainConfig | None = None, callbacks: list[Callback] | tuple[Callback, ...] = (),
        accelerator: Any = None) -> TrainResult:
    """Train ``trainer``'s modules in place; the best epoch's weights are loaded at the end.

    The best epoch maximises :meth:`Trainer.monitor` (the validation score, else minus the
    training loss); a trainer whose ``monitor`` is None, or ``config.keep_last``, keeps the last epoch. With
    ``config.checkpoint_dir`` every ``config.checkpoint_every``-th epoch, the last one and an early
    stop are checkpointed; ``config.resume`` continues from the checkpoint.
    """
    from accelerate.utils import set_seed

    config = config or TrainConfig()
    set_seed(config.seed)
    accelerator = accelerator or make_accelerator(config)
    trainer.setup(accelerator.device)
    optimizer = make_optimizer(trainer.param_groups(config.lr, config.weight_decay), config)
    optimizer = trainer.prepare(accelerator, optimizer)
    total_steps = sum(trainer.num_steps(e) for e in range(config.epochs))
    schedule = None
    if config.schedule != "constant":
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: lr_factor(config.schedule, s, total_steps, config.warmup))
    ck = _resume(trainer, config, optimizer, schedule)
    result = TrainResult(ck.history, ck.best_epoch, ck.best_score, resumed_from=ck.epoch, config=asdict(config))
    best_state, bad_epochs = ck.best_state, ck.bad_epochs
    state = {"trainer": trainer, "model": next(iter(trainer.modules().values())), "config": config, "result": result}
    for cb in callbacks:
        cb.on_train_start(state)
    t0 = time.perf_counter() - ck.seconds
    with _progress(config.progress and accelerator.is_main_process) as bar:
        task = bar.add_task(trainer.describe(), total=config.epochs, completed=ck.epoch, info="", name=trainer.name)
        for epoch in range(ck.epoch, config.epochs):
            trainer.on_epoch_start(epoch)
            logs = _train_epoch(trainer, epoch, optimizer, schedule, accelerator, config)
            logs.update(trainer.evaluate())
            info = f"loss {logs['train_loss']:.3f}" + (
                f"  val {logs['val_score']:.3f}" if isinstance(logs.get("val_score"), float) else "")
            logs["seconds"] = time.perf_counter() - t0
            logs = trainer.epoch_logs(logs)
            result.history.append(logs)
            score = None if config.keep_last else trainer.monitor(logs)
            if score is None:
                result.best_epoch, result.best_score = epoch + 1, -math.inf
            elif best_state is None or (math.isfinite(score) and score > result.best_score + 1e-12):
                result.best_score, result.best_epoch, bad_epochs = score, epoch + 1, 0
                best_state = _state(trainer)
            else:
                bad_epochs += 1
            stop = score is not None and "val_score" in logs and config.patience is not None and bad_epochs >= config.patience
            if config.checkpoint_dir and accelerator.is_main_process and (
                    stop or epoch + 1 == config.epochs or (epoch + 1) % config.checkpoint_every == 0):
                save_checkpoint(Path(config.checkpoint_dir), trainer.modules(), optimizer, Checkpoint(
                    epoch + 1, bad_epochs, result.best_epoch, result.best_score, result.history,
                    time.perf_counter() - t0, best_state, trainer.extra_state()))
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs, state)
            bar.update(task, advance=1, info=info)
            if stop:
                result.stopped_early = True
                break
    result.seconds = time.perf_counter() - t0
    if best_state is not None:
        for name, module in trainer.modules().items():
            module.load_state_dict(best_state[name])
    for m in trainer.modules().values():
        m.eval()
    for cb in callbacks:
        cb.on_train_end(state)
    return result
