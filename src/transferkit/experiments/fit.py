"""``run_fit``: transfer a backbone to a target data set and prove it against scratch.

What ``transferkit fit`` runs, as a function: optional pre-training on a labelled source, then the
chosen strategy against the same network from scratch over paired seeds and label budgets
(:func:`~transferkit.experiments.compare.label_efficiency`). Returns the results dict (comparison at
the first budget, label-efficiency curve over all budgets, training curves, confusion matrix);
writing and printing are :func:`transferkit.reports.run.finish_run`'s job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from transferkit.backbones import needs_pretrained_message
from transferkit.data import Dataset, TransferTask, label_budget, load_dataset, parse_budget
from transferkit.errors import TransferkitError


def _subsample(ds: Dataset, limit: int | None, seed: int = 0) -> Dataset:
    """At most ``limit`` examples of ``ds`` (class-stratified for classification), or ``ds`` itself."""
    if not limit or len(ds) <= limit:
        return ds
    if ds.task == "classification":
        return label_budget(ds, limit / len(ds), seed)
    return ds.subset(np.sort(np.random.default_rng(seed).choice(len(ds), limit, replace=False)))


def shipping_budget(budgets: Sequence[Any]) -> Any:
    """The budget whose shipped model a run ships: the one with the most labelled examples (the last on ties)."""
    done = [b for b in budgets if getattr(b, "shipped", None) is not None]
    return max(reversed(done), key=lambda b: b.n_labelled) if done else None


def _names(v: str | Sequence[str]) -> list[str]:
    return [s.strip() for s in (v.split(",") if isinstance(v, str) else v) if str(s).strip()]


def run_fit(target: str | Dataset, backbone: str, strategy: str = "auto",
            budgets: str | Sequence[int | float | str] = "10,50,all", seeds: int = 5,
            source: str | Dataset | None = None, target_test: str | Dataset | None = None, epochs: int = 20,
            lr: float | None = None, metric: str | None = None, others: str | Sequence[str] = "",
            source_max: int | None = 10000, target_max: int | None = None, source_epochs: int = 5,
            batch_size: int = 32, patience: int | None = None, keep_head: bool = True,
            on_step: Callable[[str], None] | None = None, progress: bool = False, workers: int = 0) -> dict[str, Any]:
    """Transfer ``backbone`` to ``target`` with ``strategy`` and prove it against scratch; returns the results dict.

    Args:
        target: the target data (a named set such as ``"usps"``, a path, or a ``Dataset``).
        backbone: a backbone spec (``"zoo:mnist-cnn"``, ``"minilm"``, ``"timm:..."``). A randomly
            initialised built-in net (``smallcnn``...) needs ``source`` to pre-train it first.
        strategy: strategy name (``auto``, ``linear_probe``, ``finetune``, ``lp_ft``, ``l2sp``...).
        budgets: label budgets, ``"10,50,all"`` or a list: per class (10), fractions (0.1),
            stratified totals (``"64total"``) or ``"all"``.
        seeds: paired seeds per budget.
        source: labelled source data to pre-train the backbone on first.
        target_test: an official target test split (default: a split of ``target``).
        others: extra strategies reported beside transfer (``"a,b"`` or a list).
        source_max, target_max: subsample source / target to at most this many examples (None: all).
        patience: early-stopping patience in epochs (None: both arms train the whole budget).
        keep_head: with ``source`` and the same label set, start from the source head.
        on_step: called with a line of progress text at each step.
    """
    from transferkit.experiments.compare import label_efficiency, pretrain_source
    from transferkit.strategies import get_strategy
    from transferkit.training import TrainConfig

    say = on_step or (lambda m: None)
    extra = _names(others)
    for name in [strategy, *extra]:
        get_strategy(name)  # unknown names fail now, before any pre-training
    items = _names(budgets) if isinstance(budgets, str) else list(budgets)
    blist = [parse_budget(b) if isinstance(b, str) else b for b in items]
    tgt = _subsample(load_dataset(target), target_max)
    test = load_dataset(target_test) if target_test is not None else None
    src = _subsample(load_dataset(source), source_max) if source is not None else None
    if src is None:
        msg = needs_pretrained_message(backbone, tgt.kind)
        if msg:
            raise TransferkitError(msg)
    task = TransferTask(target=tgt, source=src, target_test=test, seed=0)
    bb_or_model: Any = backbone
    models: dict[str, Any] = {"backbone": backbone}
    if src is not None:
        say(f"pre-training {backbone} on the source {src.name}: {len(src)} examples, up to {source_epochs} epochs")
        model, res = pretrain_source(src, backbone, TrainConfig(epochs=source_epochs, lr=2e-3, batch_size=64,
                                                                patience=3, progress=progress))
        bb_or_model = model
        models["pretrained_on_source"] = {"source": src.name, "source_val_accuracy": res.best_score,
                                          "best_epoch": res.best_epoch, "seconds": res.seconds,
                                          "fingerprint": model.backbone.fingerprint()[:16]}
    # no early stopping by default: both arms get the whole budget (a scratch net with BatchNorm can sit at
    # chance on a tiny validation split for several epochs before it takes off); the best epoch is kept
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, patience=patience, progress=progress, num_workers=workers)
    le = label_efficiency(task, bb_or_model, strategy, budgets=blist, seeds=seeds, config=cfg, lr=lr, metric=metric,
                          others=extra, keep_source_head=keep_head, on_step=say)
    first = le.budgets[0]
    from accelerate import PartialState

    from transferkit._io import new_results

    def spec(d: str | Dataset | None, loaded: Dataset | None) -> str | None:
        return d if isinstance(d, str) or d is None else (loaded.name if loaded is not None else d.name)

    out = new_results("fit")
    out["seeds"] = first.seeds
    out["config"] = {"target": spec(target, tgt), "target_test": spec(target_test, test), "source": spec(source, src),
                     "backbone": backbone, "strategy": strategy, "budgets": blist, "epochs": epochs,
                     "patience": patience, "lr": lr, "batch_size": batch_size, "metric": first.metric,
                     "source_max": source_max, "target_max": target_max,
                     "num_processes": PartialState().num_processes}
    out["data"] = {"target": tgt.describe(), "splits": task.describe(),
                   **({"source": src.describe()} if src is not None else {})}
    out["models"] = models
    ship = shipping_budget(le.budgets)
    if ship is not None and ship.shipped is not None:
        out["sections"]["shipped"] = ship.shipped.to_dict()
    out["sections"]["comparison"] = first.section()
    out["sections"]["label_efficiency"] = le.label_efficiency()
    out["sections"]["curves"] = first.curves
    if first.confusion_matrix is not None:
        out["sections"]["confusion_matrix"] = first.confusion_matrix
    out["comparisons_by_budget"] = [c.section() for c in le.budgets]
    return out
