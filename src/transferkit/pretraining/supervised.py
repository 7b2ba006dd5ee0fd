"""Supervised pre-training: a new linear head on the source classes, the shared training loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from transferkit.backbones import Backbone
from transferkit.data.dataset import Dataset
from transferkit.errors import DataError
from transferkit.pretraining._info import OBJECTIVES, ObjectiveInfo, ObjectiveResult, PretrainSettings
from transferkit.training import TrainConfig, TransferModel, predict, train


@OBJECTIVES.register(
    "supervised", info=ObjectiveInfo(True, "cross-entropy on the source labels (new linear head)")
)
def supervised(
    backbone: Backbone,
    train_ds: Dataset,
    val_ds: Dataset,
    test_ds: Dataset,
    settings: PretrainSettings,
    checkpoint_dir: Path,
    resume: bool,
) -> ObjectiveResult:
    """Train backbone + linear head with :func:`transferkit.training.train`; best epoch on validation."""
    if train_ds.task != "classification" or train_ds.class_names is None:
        raise DataError(
            f"supervised pre-training needs a labelled classification source; {train_ds.name!r} is not"
        )
    train_ds.require_labels(2)
    torch.manual_seed(settings.seed + 1)  # the new head's initial weights
    model = TransferModel(backbone, len(train_ds.class_names), "linear", class_names=train_ds.class_names)
    resumed = resume and (checkpoint_dir / "state.json").exists()
    cfg = TrainConfig(
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        lr=settings.lr,
        weight_decay=settings.weight_decay,
        seed=settings.seed,
        patience=None,
        checkpoint_dir=str(checkpoint_dir),
        resume=resume,
        progress=settings.progress,
    )
    res = train(model, train_ds, val_ds if len(val_ds) else None, cfg)
    metrics = {
        "val_accuracy": float(res.best_score) if len(val_ds) else None,
        "best_epoch": res.best_epoch,
        "primary": "test_accuracy",
    }
    if len(test_ds):
        metrics["test_accuracy"] = float(np.mean(predict(model, test_ds).argmax(1) == test_ds.y))
    return ObjectiveResult(
        head=model.head,
        history=res.history,
        metrics=metrics,
        resumed=resumed,
        details={"head": "linear", "select_metric": "accuracy", "seconds": res.seconds},
    )
