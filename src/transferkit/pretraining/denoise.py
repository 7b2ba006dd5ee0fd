"""Masked / denoising reconstruction pre-training for unlabelled sources.

Each prepared input is corrupted (random patches, time steps or cells set to 0, plus noise, see
``_augment.corrupt``); the backbone encodes the corrupted input and a small MLP decoder must
reconstruct the clean (normalised) input from the features. The decoder is dropped afterwards.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from transferkit.backbones import Backbone
from transferkit.data.dataset import Dataset
from transferkit.pretraining._augment import corrupt
from transferkit.pretraining._info import OBJECTIVES, ObjectiveInfo, ObjectiveResult, PretrainSettings
from transferkit.pretraining._loop_utils import (
    epoch_batches,
    linear_probe_metrics,
    load_checkpoint,
    save_checkpoint,
)


@OBJECTIVES.register(
    "denoise", info=ObjectiveInfo(False, "reconstruct masked + noisy inputs through the features")
)
def denoise(
    backbone: Backbone,
    train_ds: Dataset,
    val_ds: Dataset,
    test_ds: Dataset,
    settings: PretrainSettings,
    checkpoint_dir: Path,
    resume: bool,
) -> ObjectiveResult:
    """Denoising pre-training; labels (if any) are used only to report a linear-probe source metric."""
    from rich.progress import BarColumn, Progress, TextColumn

    torch.manual_seed(settings.seed)
    shape = tuple(backbone.finish(backbone.prepare(train_ds.x[:2])).shape[1:])
    dim = math.prod(shape)
    decoder = nn.Sequential(nn.Linear(backbone.num_features, 256), nn.ReLU(), nn.Linear(256, dim))
    params = [*backbone.parameters(), *decoder.parameters()]
    opt = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
    modules = {"backbone": backbone, "decoder": decoder}
    state = load_checkpoint(checkpoint_dir, modules, opt) if resume else None
    start, history = (state["epoch"], state["history"]) if state else (0, [])
    t0 = time.perf_counter() - (state["seconds"] if state else 0.0)
    with Progress(
        TextColumn("[bold]denoise[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} epochs {task.fields[info]}"),
        disable=not settings.progress,
        transient=True,
    ) as bar:
        task = bar.add_task(backbone.spec, total=settings.epochs, completed=start, info="")
        for epoch in range(start, settings.epochs):
            gen = torch.Generator().manual_seed(settings.seed * 100_003 + epoch)
            backbone.train()
            decoder.train()
            total, count = 0.0, 0
            for idx in epoch_batches(len(train_ds), settings.batch_size, settings.seed, epoch):
                clean = backbone.finish(backbone.prepare(train_ds.x[idx]))
                noisy = corrupt(clean, backbone.input_kind, gen, settings.mask_ratio, settings.noise_std)
                recon = decoder(backbone.forward_features(noisy))
                loss = F.mse_loss(recon, clean.reshape(len(idx), -1))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 5.0)
                opt.step()
                total += float(loss.detach()) * len(idx)
                count += len(idx)
            history.append(
                {
                    "epoch": float(epoch + 1),
                    "train_loss": total / max(count, 1),
                    "seconds": time.perf_counter() - t0,
                }
            )
            save_checkpoint(
                checkpoint_dir,
                modules,
                opt,
                {"epoch": epoch + 1, "history": history, "seconds": time.perf_counter() - t0},
            )
            bar.update(task, advance=1, info=f"mse {history[-1]['train_loss']:.3f}")
    backbone.eval()
    metrics = {"final_loss": history[-1]["train_loss"] if history else None}
    metrics.update(
        linear_probe_metrics(backbone, train_ds, test_ds if len(test_ds) else val_ds, seed=settings.seed)
    )
    metrics["primary"] = (
        "linear_probe_test_accuracy" if "linear_probe_test_accuracy" in metrics else "final_loss"
    )
    return ObjectiveResult(
        head=None,
        history=history,
        metrics=metrics,
        resumed=bool(state),
        details={
            "mask_ratio": settings.mask_ratio,
            "noise_std": settings.noise_std,
            "decoder": f"MLP {backbone.num_features}-256-{dim}",
            "seconds": time.perf_counter() - t0,
        },
    )
