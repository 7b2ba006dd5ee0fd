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

import numpy as np

from transferkit.backbones import create_backbone
from transferkit.data import TransferTask, class_subset, label_budget, load_dataset
from transferkit.evaluation import VERDICT_ADVICE, classification_metrics, confusion, paired_difference
from transferkit.features import extract_features
from transferkit.reports.run import new_results
from transferkit.training import TrainConfig, TransferModel, predict, train

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

    def __post_init__(self) -> None:
        if self.seeds < 2:
            raise ValueError("the demo needs at least 2 seeds for a confidence interval")
        if not self.budgets or min(self.budgets) < 1:
            raise ValueError("budgets must be labels per class, each >= 1")


def _time_to_reach(history: list[dict[str, float]], target: float) -> dict[str, float | None]:
    for h in history:
        if h.get("val_score", -np.inf) >= target:
            return {"epochs": h["epoch"], "seconds": h["seconds"]}
    return {"epochs": None, "seconds": None}


def _arm(name: str, scores: list[float]) -> dict[str, Any]:
    return {"name": name, "per_seed": scores, "mean": float(np.mean(scores))}


def run_demo(config: DemoConfig | None = None, on_step: Any = None) -> dict[str, Any]:
    """Run the demo and return the results dict (schema ``transferkit.results/1``)."""
    import torch
    from sklearn.linear_model import LogisticRegression

    cfg = config or DemoConfig()
    say = on_step or (lambda msg: None)
    # the demo's nets are tiny: one intra-op thread is faster than two, and far faster on a busy machine
    torch.set_num_threads(1)
    digits = load_dataset("digits")
    source = class_subset(digits, list("01234"), "digits[0-4]")
    target = class_subset(digits, list("56789"), "digits[5-9]")
    task = TransferTask(target=target, source=source, seed=0)
    assert task.source_splits is not None

    say(f"pre-training {BACKBONE} on the source task: digits 0-4, {len(task.source_splits.train)} images")
    torch.manual_seed(0)  # the same pre-trained model on every run
    pre = TransferModel(create_backbone(BACKBONE), source.num_classes, class_names=source.class_names)
    src_res = train(pre, task.source_splits.train, task.source_splits.val,
                    TrainConfig(epochs=cfg.source_epochs, lr=2e-3, batch_size=64, patience=5, seed=0,
                                progress=cfg.progress))
    src_val = classification_metrics(task.source_splits.val.y, predict(pre, task.source_splits.val))

    test = task.target_splits.test
    test_feats = extract_features(pre.backbone, test, progress=False)
    per_budget: list[dict[str, Any]] = []
    curves: dict[str, Any] = {}
    cm = None
    for budget in cfg.budgets:
        rows: dict[str, list[float]] = {"transfer": [], "scratch": [], "linear_probe": []}
        all_metrics: dict[str, list[dict[str, float]]] = {k: [] for k in rows}
        speed: list[dict[str, Any]] = []
        for seed in range(cfg.seeds):
            tr = task.target_train(budget, seed=seed)
            va = label_budget(task.target_splits.val, budget, seed=seed)
            say(f"{budget} labels per class, seed {seed}: {len(tr)} target images to train, {len(va)} to validate")
            tcfg = TrainConfig(epochs=cfg.target_epochs, lr=cfg.finetune_lr, batch_size=16, patience=10, seed=seed,
                               progress=cfg.progress)
            # transfer: the pre-trained backbone with a new head (the classes differ), fine-tune everything
            torch.manual_seed(seed)  # the new head starts the same on every run of this seed
            tm = TransferModel(copy.deepcopy(pre.backbone), target.num_classes, class_names=target.class_names)
            t_res = train(tm, tr, va, tcfg)
            # scratch: the same architecture, random initialisation, the same budget
            torch.manual_seed(1000 + seed)
            sm = TransferModel(create_backbone(BACKBONE), target.num_classes, class_names=target.class_names)
            s_res = train(sm, tr, va, tcfg)
            # linear probe: logistic regression on frozen pre-trained features (from the cache)
            probe = LogisticRegression(max_iter=2000).fit(extract_features(pre.backbone, tr, progress=False), tr.y)
            outs = {"transfer": predict(tm, test), "scratch": predict(sm, test),
                    "linear_probe": probe.predict_proba(test_feats)}
            for k, out in outs.items():
                m = classification_metrics(test.y, out)
                all_metrics[k].append(m)
                rows[k].append(m["accuracy"])
            if seed == 0 and budget == cfg.budgets[0]:
                curves = {"transfer (seed 0)": t_res.curve(), "scratch (seed 0)": s_res.curve()}
                cm = confusion(test.y, outs["transfer"], target.num_classes)
            speed.append({"seed": seed, "scratch_best_val": s_res.best_score,
                          "transfer": _time_to_reach(t_res.history, s_res.best_score),
                          "scratch": _time_to_reach(s_res.history, s_res.best_score)})
        diff = paired_difference(rows["transfer"], rows["scratch"])
        per_budget.append({
            "metric": "accuracy", "higher_is_better": True, "seeds": list(range(cfg.seeds)),
            "budget": budget, "budget_label": f"{budget} labels per class",
            "transfer": _arm("fine-tuned pre-trained CNN", rows["transfer"]),
            "scratch": _arm("same CNN from scratch", rows["scratch"]),
            "others": {"linear_probe": _arm("linear probe on frozen pre-trained features", rows["linear_probe"])},
            "diff": {"mean": diff.mean, "ci_low": diff.ci_low, "ci_high": diff.ci_high, "per_seed": list(diff.per_seed)},
            "verdict": diff.verdict, "advice": VERDICT_ADVICE[diff.verdict],
            "metrics": {name: {k: float(np.nanmean([m[name] for m in all_metrics[k]])) for k in rows}
                        for name in ("accuracy", "balanced_accuracy", "macro_f1", "auroc")},
            "time_to_scratch_best": speed,
        })

    res = new_results("demo")
    res["seeds"] = list(range(cfg.seeds))
    res["config"] = {**cfg.__dict__, "backbone": BACKBONE}
    res["data"] = {"source": source.describe(), "target": target.describe(), "target_test": test.describe(),
                   "splits": task.describe()}
    res["models"] = {"pretrained": {"spec": BACKBONE, "fingerprint": pre.backbone.fingerprint()[:16],
                                    "source_val_accuracy": src_val["accuracy"], "source_epochs": src_res.best_epoch}}
    res["sections"]["comparison"] = per_budget[0]
    res["sections"]["label_efficiency"] = label_efficiency_section(per_budget)
    res["sections"]["curves"] = curves
    res["sections"]["confusion_matrix"] = {"labels": list(target.class_names), "matrix": cm,
                                           "model": f"transfer, {cfg.budgets[0]} labels per class, seed 0"}
    return res


def label_efficiency_section(per_budget: list[dict[str, Any]]) -> dict[str, Any]:
    """The label-efficiency curve (transfer vs scratch per budget) and where transfer stops helping."""
    from transferkit.evaluation import mean_ci

    out: dict[str, Any] = {"metric": per_budget[0]["metric"], "budgets": [b["budget"] for b in per_budget],
                           "budget_label": "labels per class",
                           "verdicts": [b["verdict"] for b in per_budget],
                           "diff": [{k: b["diff"][k] for k in ("mean", "ci_low", "ci_high")} for b in per_budget]}
    for arm in ("transfer", "scratch"):
        stats = [mean_ci(b[arm]["per_seed"]) for b in per_budget]
        out[arm] = {"mean": [s[0] for s in stats], "ci_low": [s[1] for s in stats], "ci_high": [s[2] for s in stats]}
    out["crossover"] = next((b["budget"] for b in per_budget if b["verdict"] != "positive"), None)
    return out
