"""SimCLR-style contrastive pre-training (Chen et al., ICML 2020) for unlabelled sources.

Two random views of each example (see ``_augment``) go through the backbone and a small
projection MLP; the NT-Xent loss pulls the two views of an example together and pushes them away
from the other ``2N - 2`` views in the batch. The projection head is dropped afterwards: the zoo
entry keeps the backbone only.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from transferkit.backbones import Backbone
from transferkit.data.dataset import Dataset
from transferkit.pretraining._augment import augment
from transferkit.pretraining._info import OBJECTIVES, ObjectiveInfo, ObjectiveResult, PretrainSettings
from transferkit.pretraining._loop_utils import (
    epoch_batches,
    linear_probe_metrics,
    load_checkpoint,
    save_checkpoint,
)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """Normalised-temperature cross-entropy over the ``2N`` views (positives: the other view)."""
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


@OBJECTIVES.register("simclr", info=ObjectiveInfo(False, "contrastive: two augmented views, NT-Xent loss"))
def simclr(
    backbone: Backbone,
    train_ds: Dataset,
    val_ds: Dataset,
    test_ds: Dataset,
    settings: PretrainSettings,
    checkpoint_dir: Path,
    resume: bool,
) -> ObjectiveResult:
    """Contrastive pre-training; labels (if any) are used only to report a linear-probe source metric."""
    from rich.progress import BarColumn, Progress, TextColumn

    torch.manual_seed(settings.seed)
    proj = nn.Sequential(nn.Linear(backbone.num_features, 128), nn.ReLU(), nn.Linear(128, settings.proj_dim))
    params = [*backbone.parameters(), *proj.parameters()]
    opt = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
    modules = {"backbone": backbone, "proj": proj}
    state = load_checkpoint(checkpoint_dir, modules, opt) if resume else None
    start, history = (state["epoch"], state["history"]) if state else (0, [])
    t0 = time.perf_counter() - (state["seconds"] if state else 0.0)
    with Progress(
        TextColumn("[bold]simclr[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} epochs {task.fields[info]}"),
        disable=not settings.progress,
        transient=True,
    ) as bar:
        task = bar.add_task(backbone.spec, total=settings.epochs, completed=start, info="")
        for epoch in range(start, settings.epochs):
            gen = torch.Generator().manual_seed(settings.seed * 100_003 + epoch)
            backbone.train()
            proj.train()
            total, count = 0.0, 0
            for idx in epoch_batches(len(train_ds), settings.batch_size, settings.seed, epoch):
                x = backbone.finish(backbone.prepare(train_ds.x[idx]))
                v1 = augment(x, backbone.input_kind, gen, settings.noise_std)
                v2 = augment(x, backbone.input_kind, gen, settings.noise_std)
                loss = nt_xent(
                    proj(backbone.forward_features(v1)),
                    proj(backbone.forward_features(v2)),
                    settings.temperature,
                )
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
            bar.update(task, advance=1, info=f"loss {history[-1]['train_loss']:.3f}")
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
            "temperature": settings.temperature,
            "proj_dim": settings.proj_dim,
            "augmentations": f"{backbone.input_kind} views (transferkit.pretraining._augment)",
            "seconds": time.perf_counter() - t0,
        },
    )
