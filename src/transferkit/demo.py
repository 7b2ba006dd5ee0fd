"""``transferkit demo``: the whole idea on embedded data, no files and no network, in about a minute.

Source task: scikit-learn digits 0-4 (about 900 images). Target task: digits 5-9 with only a few
labelled images per class. A small CNN is pre-trained on the source, then fine-tuned on the target
(its head replaced, since the classes differ); the same CNN trained from scratch with the same
budget is the baseline, and a logistic regression on the frozen pre-trained features (a linear
probe) is shown beside them. Paired seeds, a 95% confidence interval, a verdict.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from transferkit._io import new_results
from transferkit.backbones import TransferModel, create_backbone
from transferkit.data import Dataset, TransferTask, class_subset, label_budget, load_dataset
from transferkit.evaluation import classification_metrics
from transferkit.experiments import Arm, Split, run_experiment
from transferkit.experiments.arms import probe_arm, trained_arm
from transferkit.experiments.compare import pretrain_source
from transferkit.training import TrainConfig, predict

BACKBONE = "smallcnn?image_size=16&width=16&num_features=64"


@dataclass(frozen=True)
class DemoConfig:
    """Settings of the demo (the defaults finish in well under 3 minutes on 2 CPU cores)."""

    seeds: int = 5
    budgets: tuple[int, ...] = (2, 5, 10)  # labelled target images per class
    source_epochs: int = 20
    target_epochs: int = 25
    finetune_lr: float = 3e-3
    progress: bool = True
    seed: int = 0  # base seed: seeds seed..seed+seeds-1; it also draws the source/target splits
    batch_size: int = 16  # target training batch size (transfer and scratch)
    workers: int = 0  # DataLoader worker processes of target training

    def __post_init__(self) -> None:
        if self.seeds < 2:
            raise ValueError("the demo needs at least 2 seeds for a confidence interval")
        if not self.budgets or min(self.budgets) < 1:
            raise ValueError("budgets must be labels per class, each >= 1")
        if not 0 <= self.seed < 2**32 or self.batch_size < 1 or self.workers < 0:
            raise ValueError("the demo needs 0 <= seed < 2**32, batch_size >= 1 and workers >= 0")


def _arms(pre: TransferModel, target: Dataset, cfg: DemoConfig) -> list[Arm]:
    """Transfer (the pre-trained CNN, new head, everything fine-tuned), scratch, and a linear probe."""
    import torch

    def tcfg(seed: int) -> TrainConfig:
        return TrainConfig(epochs=cfg.target_epochs, lr=cfg.finetune_lr, batch_size=cfg.batch_size, patience=10,
                           seed=seed, progress=cfg.progress, num_workers=cfg.workers)

    def transferred(seed: int, train: Dataset) -> TransferModel:
        torch.manual_seed(seed)  # the new head starts the same on every run of this seed
        return TransferModel(copy.deepcopy(pre.backbone), target.num_classes, class_names=target.class_names)

    def scratch(seed: int, train: Dataset) -> TransferModel:
        torch.manual_seed(1000 + seed)
        return TransferModel(create_backbone(BACKBONE), target.num_classes, class_names=target.class_names)

    return [trained_arm("transfer", "fine-tuned pre-trained CNN", "transfer", transferred, tcfg),
            trained_arm("scratch", "same CNN from scratch", "baseline", scratch, tcfg),
            probe_arm(pre.backbone, "linear probe on frozen pre-trained features")]


def run_demo(config: DemoConfig | None = None, on_step: Any = None) -> dict[str, Any]:
    """Run the demo and return the results dict (schema ``transferkit.results/1``)."""
    import torch

    cfg = config or DemoConfig()
    # the demo's nets are tiny: one intra-op thread is faster than two, and far faster on a busy machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run_demo(cfg, on_step or (lambda msg: None))
    finally:
        torch.set_num_threads(threads)  # a library call leaves the process as it found it


def _run_demo(cfg: DemoConfig, say: Any) -> dict[str, Any]:

    digits = load_dataset("digits")
    source = class_subset(digits, list("01234"), "digits[0-4]")
    target = class_subset(digits, list("56789"), "digits[5-9]")
    task = TransferTask(target=target, source=source, seed=cfg.seed)
    assert task.source_splits is not None

    say(f"pre-training {BACKBONE} on the source task: digits 0-4, {len(task.source_splits.train)} images")
    pre, src_res = pretrain_source(source, BACKBONE, TrainConfig(epochs=cfg.source_epochs, lr=2e-3, batch_size=64,
                                                                 patience=5, seed=0, progress=cfg.progress))
    src_val = classification_metrics(task.source_splits.val.y, predict(pre, task.source_splits.val))

    test = task.target_splits.test

    def splits(budget: Any, seed: int) -> Split:
        return Split(task.target_train(budget, seed=seed), label_budget(task.target_splits.val, budget, seed=seed),
                     test)

    seeds = list(range(cfg.seed, cfg.seed + cfg.seeds))
    exp = run_experiment(splits, _arms(pre, target, cfg), seeds=seeds, budgets=cfg.budgets, metric="accuracy",
                         num_outputs=target.num_classes, on_step=say)
    first = exp.budgets[0]
    res = new_results("demo")
    res["seeds"] = seeds
    res["config"] = {**cfg.__dict__, "backbone": BACKBONE}
    res["data"] = {"source": source.describe(), "target": target.describe(), "target_test": test.describe(),
                   "splits": task.describe()}
    res["models"] = {"pretrained": {"spec": BACKBONE, "fingerprint": pre.backbone.fingerprint()[:16],
                                    "source_val_accuracy": src_val["accuracy"], "source_epochs": src_res.best_epoch}}
    res["sections"]["comparison"] = first.section()
    res["sections"]["label_efficiency"] = exp.label_efficiency()
    res["sections"]["curves"] = first.curves
    res["sections"]["confusion_matrix"] = first.confusion_matrix
    return res
