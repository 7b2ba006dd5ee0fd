"""Supervised pre-training: a new linear head on the source classes, the shared training loop."""

from __future__ import annotations

import numpy as np
import torch

from transferkit.errors import DataError
from transferkit.pretraining._info import OBJECTIVES, ObjectiveInfo, ObjectiveResult, ObjectiveRun
from transferkit.pretraining._trainer import objective_config
from transferkit.training import TransferModel, predict, train


@OBJECTIVES.register("supervised", info=ObjectiveInfo(True, "cross-entropy on the source labels (new linear head)"))
def supervised(run: ObjectiveRun) -> ObjectiveResult:
    """Train backbone + linear head with :func:`transferkit.training.train`; best epoch on validation."""
    train_ds, val_ds, test_ds = run.train, run.val, run.test
    if train_ds.task != "classification" or train_ds.class_names is None:
        raise DataError(f"supervised pre-training needs a labelled classification source; {train_ds.name!r} is not")
    train_ds.require_labels(2)
    torch.manual_seed(run.settings.seed + 1)  # the new head's initial weights
    model = TransferModel(run.backbone, len(train_ds.class_names), "linear", class_names=train_ds.class_names)
    resumed = run.resume and (run.checkpoint_dir / "state.json").exists()
    cfg = objective_config(run.settings, run.checkpoint_dir, run.resume, device="auto", workers=run.workers)
    res = train(model, train_ds, val_ds if len(val_ds) else None, cfg)
    metrics = {"val_accuracy": float(res.best_score) if len(val_ds) else None, "best_epoch": res.best_epoch,
               "primary": "test_accuracy"}
    if len(test_ds):
        metrics["test_accuracy"] = float(np.mean(predict(model, test_ds).argmax(1) == test_ds.y))
    return ObjectiveResult(head=model.head, history=res.history, metrics=metrics, resumed=resumed,
                           details={"head": "linear", "select_metric": "accuracy", "seconds": res.seconds})
