"""The one visible training loop, on HF Accelerate (CPU, one GPU with bf16, or many processes).

Read it top to bottom: seed -> data loaders -> strategy sets trainable parts -> optimiser ->
for each epoch: strategy hook, BatchNorm policy, train, validate, keep the best weights, early
stop, checkpoint. The best epoch is chosen on the validation split only; the test split never
enters this file.
"""

from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from transferkit.backbones.model import TransferModel
from transferkit.data.dataset import Dataset
from transferkit.errors import DataError
from transferkit.training.callbacks import Callback
from transferkit.training.strategy_base import TrainStrategy


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run (validated; saved to JSON with the results)."""

    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int | None = 8
    seed: int = 0
    mixed_precision: str = "auto"  # auto: bf16 on CUDA, none on CPU; or "no" / "bf16" / "fp16"
    max_grad_norm: float | None = 5.0
    select_metric: str = "accuracy"  # validation score used for early stopping / best epoch
    class_weight: str | None = None  # "balanced" weights the loss by inverse class frequency
    checkpoint_dir: str | None = None
    resume: bool = False
    progress: bool = True
    eval_batch_size: int = 256
    label_smoothing: float = 0.0
    num_workers: int = 0  # DataLoader worker processes running ``prepare`` (0: in the training process)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.eval_batch_size < 1:
            raise ValueError("epochs, batch_size and eval_batch_size must be >= 1")
        if self.num_workers < 0:
            raise ValueError(f"num_workers must be >= 0, got {self.num_workers}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.mixed_precision not in ("auto", "no", "bf16", "fp16"):
            raise ValueError("mixed_precision must be auto, no, bf16 or fp16")
        if self.select_metric not in SCORERS:
            raise ValueError(f"select_metric must be one of {sorted(SCORERS)}")
        if self.class_weight not in (None, "balanced"):
            raise ValueError("class_weight must be None or 'balanced'")


def _accuracy(y: np.ndarray, out: np.ndarray) -> float:
    return float(np.mean(out.argmax(1) == y))


def _balanced_accuracy(y: np.ndarray, out: np.ndarray) -> float:
    pred = out.argmax(1)
    recalls = [np.mean(pred[y == c] == c) for c in np.unique(y)]
    return float(np.mean(recalls))


def _macro_f1(y: np.ndarray, out: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, out.argmax(1), average="macro", labels=np.unique(y), zero_division=0))


def _neg_rmse(y: np.ndarray, out: np.ndarray) -> float:
    return -float(np.sqrt(np.mean((out.reshape(len(y), -1) - y.reshape(len(y), -1)) ** 2)))


SCORERS = {"accuracy": _accuracy, "balanced_accuracy": _balanced_accuracy, "macro_f1": _macro_f1,
           "neg_rmse": _neg_rmse}


@dataclass
class TrainResult:
    """What a training run returns: per-epoch history, the best epoch and its validation score."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_score: float = -math.inf
    seconds: float = 0.0
    stopped_early: bool = False
    config: dict[str, Any] = field(default_factory=dict)

    def curve(self) -> dict[str, list[float]]:
        """Columns of the history, for plots."""
        keys = self.history[0].keys() if self.history else []
        return {k: [h[k] for h in self.history] for k in keys}


class _Rows(torch.utils.data.Dataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


class _SeededShuffle(torch.utils.data.Sampler):
    """A new permutation each epoch from one seeded generator, independent of DataLoader workers.

    Each epoch also makes the throw-away draws that a shuffling DataLoader sharing the generator
    made (a 64-bit worker seed before the permutation, an empty tail permutation after it), so the
    order is the one earlier versions used and published results stay reproducible.
    """

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.gen = n, torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Any:
        yield from self._epoch_order().tolist()

    def _epoch_order(self) -> torch.Tensor:
        torch.empty((), dtype=torch.int64).random_(generator=self.gen)
        order = torch.randperm(self.n, generator=self.gen)
        torch.randperm(self.n, generator=self.gen)
        return order

    def skip(self, epochs: int) -> None:
        """Advance the generator past ``epochs`` epochs (resuming from a checkpoint)."""
        for _ in range(epochs):
            self._epoch_order()


def make_loader(model: TransferModel, data: Dataset, batch_size: int, shuffle: bool, seed: int,
                num_workers: int = 0) -> DataLoader:
    """Batches of (prepared inputs, targets); preprocessing is the backbone's ``prepare``.

    With ``num_workers`` > 0, ``prepare`` runs in worker processes and batches are pinned for a
    fast, asynchronous copy to the GPU.
    """
    task = model.task

    def collate(idx: list[int]) -> tuple[Any, torch.Tensor]:
        ix = np.asarray(idx)
        inputs = model.backbone.prepare(data.x[ix])
        y = torch.as_tensor(data.y[ix], dtype=torch.long if task == "classification" else torch.float32)
        return inputs, y

    rows = _Rows(len(data))
    # the order comes from its own generator, so it is the same with or without (persistent) workers
    sampler = _SeededShuffle(len(data), seed) if shuffle else torch.utils.data.SequentialSampler(rows)
    return DataLoader(rows, batch_size=batch_size, sampler=sampler, collate_fn=collate,
                      generator=torch.Generator().manual_seed(seed + 1),
                      drop_last=shuffle and len(data) > batch_size and len(data) % batch_size == 1,
                      num_workers=num_workers, pin_memory=num_workers > 0 and torch.cuda.is_available(),
                      persistent_workers=num_workers > 0)


def apply_batchnorm_policy(model: nn.Module) -> None:
    """Frozen layers keep their BatchNorm running statistics frozen (the one explicit policy).

    A BatchNorm module whose affine parameters do not train is put in eval mode, so its running
    mean/variance are neither updated nor replaced by batch statistics.
    """
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            params = list(m.parameters(recurse=False))
            if params and not any(p.requires_grad for p in params):
                m.eval()


def average_gradients(params: list[nn.Parameter], world_size: int) -> None:
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


def _loss(model: TransferModel, out: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None,
          smoothing: float) -> torch.Tensor:
    if model.task == "classification":
        return F.cross_entropy(out.float(), y, weight=weight, label_smoothing=smoothing)
    return F.mse_loss(out.float().reshape(y.shape[0], -1), y.reshape(y.shape[0], -1))


@torch.no_grad()
def predict(model: TransferModel, data: Dataset, batch_size: int = 256, accelerator: Any = None) -> np.ndarray:
    """Raw outputs (logits, or regression values) for ``data``, in order."""
    model.eval()
    device = accelerator.device if accelerator is not None else next(model.parameters()).device
    outs = []
    for start in range(0, len(data), batch_size):
        from transferkit.backbones import to_device

        inputs = to_device(model.backbone.prepare(data.x[start:start + batch_size]), device)
        outs.append(model(inputs).float().cpu().numpy())
    return np.concatenate(outs) if outs else np.zeros((0, model.num_outputs), dtype=np.float32)


def _class_weights(model: TransferModel, data: Dataset, config: TrainConfig) -> torch.Tensor | None:
    if model.task != "classification" or config.class_weight != "balanced":
        return None
    counts = np.bincount(data.y, minlength=model.num_outputs).astype(np.float64)
    w = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / max((counts > 0).sum(), 1), 0.0)
    return torch.tensor(w, dtype=torch.float32)


def _check_data(model: TransferModel, data: Dataset, what: str) -> None:
    if data.y is None:
        raise DataError(f"{what} data {data.name!r} has no labels")
    if len(data) == 0:
        raise DataError(f"{what} data {data.name!r} is empty")
    if model.task == "classification" and data.y.max() >= model.num_outputs:
        raise DataError(f"{what} labels go up to {data.y.max()} but the model has {model.num_outputs} outputs")


def train(
    model: TransferModel,
    train_data: Dataset,
    val_data: Dataset | None = None,
    config: TrainConfig | None = None,
    strategy: TrainStrategy | None = None,
    callbacks: list[Callback] | tuple[Callback, ...] = (),
    accelerator: Any = None,
) -> TrainResult:
    """Train ``model`` in place and load the weights of the best validation epoch.

    Without ``val_data`` the last epoch is kept. Returns the per-epoch history.
    """
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    config = config or TrainConfig()
    strategy = strategy or TrainStrategy()
    _check_data(model, train_data, "training")
    if val_data is not None:
        _check_data(model, val_data, "validation")
    set_seed(config.seed)
    if accelerator is None:
        mp = config.mixed_precision
        if mp == "auto":
            mp = "bf16" if torch.cuda.is_available() else "no"
        from accelerate.utils import DataLoaderConfiguration

        # pinned batches from worker processes are copied asynchronously (the step does not wait for them)
        accelerator = Accelerator(mixed_precision=mp, cpu=not torch.cuda.is_available(),
                                  dataloader_config=DataLoaderConfiguration(non_blocking=config.num_workers > 0))
    strategy.setup(model)
    groups = [g for g in strategy.param_groups(model, config.lr, config.weight_decay) if g["params"]]
    optimizer = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
    loader = make_loader(model, train_data, config.batch_size, True, config.seed, config.num_workers)
    shuffle = loader.sampler  # kept before Accelerate wraps the loader, to fast-forward it on resume
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    raw_model: TransferModel = accelerator.unwrap_model(model)
    # DDP synchronises only parameters that trained when it wrapped the model; ones a strategy
    # unfreezes later (gradual unfreezing) get their gradients averaged here instead
    wrapped = {id(p) for p in raw_model.parameters() if p.requires_grad}
    late: list[nn.Parameter] = []
    weight = _class_weights(raw_model, train_data, config)
    weight = weight.to(accelerator.device) if weight is not None else None
    scorer = SCORERS[config.select_metric]

    result = TrainResult(config=asdict(config))
    best_state: dict[str, torch.Tensor] | None = None
    start_epoch, bad_epochs = 0, 0
    ckpt = Path(config.checkpoint_dir) if config.checkpoint_dir else None
    if ckpt is not None and config.resume and (ckpt / "last.safetensors").exists():
        start_epoch, best_state, bad_epochs = _load_checkpoint(ckpt, raw_model, optimizer, result)
        if isinstance(shuffle, _SeededShuffle):
            shuffle.skip(start_epoch)  # the resumed epochs see the batches an uninterrupted run would
    state = {"model": raw_model, "config": config, "strategy": strategy, "result": result}
    for cb in callbacks:
        cb.on_train_start(state)

    t0 = time.perf_counter() - result.seconds
    from rich.progress import BarColumn, Progress, TextColumn

    with Progress(TextColumn("[bold]train[/] {task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} epochs"),
                  TextColumn("{task.fields[info]}"), disable=not (config.progress and accelerator.is_main_process),
                  transient=True) as bar:
        task = bar.add_task(f"{raw_model.backbone.spec} ({strategy.name})", total=config.epochs,
                            completed=start_epoch, info="")
        for epoch in range(start_epoch, config.epochs):
            strategy.on_epoch_start(epoch, raw_model)
            if accelerator.num_processes > 1:
                late = [p for p in raw_model.parameters() if p.requires_grad and id(p) not in wrapped]
            model.train()
            apply_batchnorm_policy(raw_model)
            total, count = torch.zeros((), device=accelerator.device), 0  # summed on the device: no sync per step
            for inputs, y in loader:
                with accelerator.autocast():
                    out = model(inputs)
                    loss = _loss(raw_model, out, y, weight, config.label_smoothing)
                    reg = strategy.regularizer(raw_model)
                    if reg is not None:
                        loss = loss + reg
                optimizer.zero_grad(set_to_none=True)
                accelerator.backward(loss)
                if late:
                    average_gradients(late, accelerator.num_processes)
                if config.max_grad_norm:
                    accelerator.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                optimizer.step()
                total += loss.detach().float() * y.shape[0]
                count += y.shape[0]
            logs = {"epoch": float(epoch + 1), "train_loss": float(total) / max(count, 1)}
            if val_data is not None:
                out = predict(raw_model, val_data, config.eval_batch_size, accelerator)
                logs["val_score"] = scorer(val_data.y, out)
                logs["val_loss"] = float(_loss(raw_model, torch.from_numpy(out), torch.as_tensor(
                    val_data.y, dtype=torch.long if raw_model.task == "classification" else torch.float32), None, 0.0))
            logs["seconds"] = time.perf_counter() - t0
            result.history.append(logs)
            score = logs.get("val_score", -logs["train_loss"])
            if score > result.best_score + 1e-12 or best_state is None:
                result.best_score, result.best_epoch, bad_epochs = score, epoch + 1, 0
                best_state = {k: v.detach().clone() for k, v in raw_model.state_dict().items()}
            else:
                bad_epochs += 1
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs, state)
            if ckpt is not None and accelerator.is_main_process:
                result.seconds = time.perf_counter() - t0
                _save_checkpoint(ckpt, raw_model, optimizer, result, best_state, epoch + 1, bad_epochs)
            bar.update(task, advance=1, info=f"loss {logs['train_loss']:.3f}" +
                       (f"  val {logs['val_score']:.3f}" if "val_score" in logs else ""))
            if val_data is not None and config.patience is not None and bad_epochs >= config.patience:
                result.stopped_early = True
                break
    result.seconds = time.perf_counter() - t0
    if best_state is not None:
        raw_model.load_state_dict(best_state)
    raw_model.eval()
    for cb in callbacks:
        cb.on_train_end(state)
    return result


def _save_checkpoint(folder: Path, model: nn.Module, optimizer: Any, result: TrainResult,
                     best_state: dict[str, torch.Tensor] | None, epoch: int, bad_epochs: int) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "last.tmp.safetensors"))
    (folder / "last.tmp.safetensors").replace(folder / "last.safetensors")
    if best_state is not None:
        save_file({k: v.contiguous() for k, v in best_state.items()}, str(folder / "best.tmp.safetensors"))
        (folder / "best.tmp.safetensors").replace(folder / "best.safetensors")
    torch.save(optimizer.state_dict(), folder / "optimizer.tmp.pt")
    (folder / "optimizer.tmp.pt").replace(folder / "optimizer.pt")
    meta = {"epoch": epoch, "bad_epochs": bad_epochs, "best_epoch": result.best_epoch, "best_score": result.best_score,
            "history": result.history, "seconds": result.seconds}
    (folder / "state.tmp.json").write_text(json.dumps(meta))
    (folder / "state.tmp.json").replace(folder / "state.json")


def _load_checkpoint(folder: Path, model: nn.Module, optimizer: Any,
                     result: TrainResult) -> tuple[int, dict[str, torch.Tensor] | None, int]:
    from safetensors.torch import load_file

    meta = json.loads((folder / "state.json").read_text())
    model.load_state_dict(load_file(str(folder / "last.safetensors")))
    if (folder / "optimizer.pt").exists():
        optimizer.load_state_dict(torch.load(folder / "optimizer.pt", weights_only=True))
    best = load_file(str(folder / "best.safetensors")) if (folder / "best.safetensors").exists() else None
    result.history = list(meta["history"])
    result.best_epoch, result.best_score = int(meta["best_epoch"]), float(meta["best_score"])
    result.seconds = float(meta.get("seconds", 0.0))
    return int(meta["epoch"]), best, int(meta["bad_epochs"])


def clone_model(model: TransferModel) -> TransferModel:
    """A deep copy (e.g. to fine-tune several seeds from one pre-trained model)."""
    return copy.deepcopy(model)
