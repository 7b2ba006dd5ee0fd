"""``compare`` and ``label_efficiency``: a transfer strategy against the same network from scratch.

Per seed the arms get the same labelled target examples, the same validation examples and the
same training budget; each keeps its best validation epoch. Only the final models touch the test
split. The per-seed difference (transfer minus scratch, on the chosen metric) gives a 95%
confidence interval and the verdict: positive, inconclusive, or negative transfer (the whole
interval below zero). Both are front ends of :func:`~transferkit.experiments.run_experiment`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from transferkit.backbones import Backbone, TransferModel, create_backbone
from transferkit.data import Dataset, TransferTask
from transferkit.data import cv_folds as cv_folds_of
from transferkit.errors import DataArgumentError
from transferkit.experiments.arms import MIN_SCRATCH_STEPS, classical_arm, scratch_arm, source_arm, strategy_arm
from transferkit.experiments.records import BudgetResult, ExperimentResult
from transferkit.experiments.runner import (
    CellDone,
    Journal,
    Split,
    default_metric,
    run_budget,
    seed_list,
    select_metric,
)
from transferkit.experiments.selection import VALIDATION_MODES
from transferkit.experiments.verdicts import MIN_TEST_PER_CLASS
from transferkit.training import TrainConfig, TrainResult, train


def _as_task(target: TransferTask | Dataset) -> TransferTask:
    if isinstance(target, TransferTask):
        return target
    if isinstance(target, Dataset):
        return TransferTask(target=target)
    raise TypeError("target must be a TransferTask or a Dataset")


def pretrain_source(source: Dataset | TransferTask, backbone: str | Backbone, config: TrainConfig | None = None,
                    progress: bool = False) -> tuple[TransferModel, TrainResult]:
    """Train ``backbone`` + a head on a labelled source data set (best epoch on a source validation split)."""
    import torch

    cfg = config or TrainConfig(epochs=10, lr=2e-3, batch_size=64, patience=3, progress=progress)
    task = source if isinstance(source, TransferTask) else TransferTask(target=source, test_size=0.0, val_size=0.1)
    sp = task.target_splits
    torch.manual_seed(cfg.seed)  # the same source model on every run
    bb = create_backbone(backbone, data=sp.train) if isinstance(backbone, str) else backbone
    bb.fit_preprocessing(sp.train.x)
    model = TransferModel(bb, max(sp.train.num_classes, 1) if sp.train.task == "classification" else 1,
                          task=sp.train.task, class_names=sp.train.class_names)
    return model, train(model, sp.train, sp.val, cfg)


def _strategy_advice(verdict: str, chosen: str) -> str:
    from transferkit.strategies import STRATEGIES

    if verdict == "positive" or chosen not in STRATEGIES:
        return ""
    advice = getattr(STRATEGIES.info(chosen), "advice", None)
    return f" Next: {advice}." if advice else ""


def compare(target: TransferTask | Dataset, backbone: str | Backbone | TransferModel, strategy: Any = "auto", *,
            seeds: int | Sequence[int] = 5, budget: int | float | str = "all", config: TrainConfig | None = None,
            lr: float | None = None, scratch_lr: float | None = None, metric: str | None = None,
            others: Sequence[Any] = (), keep_source_head: bool | str = "auto", scratch: bool = True,
            on_step: Callable[[str], None] | None = None, on_cell: Callable[[CellDone], None] | None = None,
            journal: Journal | None = None, label: str | None = None, min_test_per_class: int = MIN_TEST_PER_CLASS,
            classical: bool = False, scratch_min_steps: int = MIN_SCRATCH_STEPS, validation: str = "holdout",
            cv_folds: int = 5) -> BudgetResult:
    """Run ``strategy`` and the scratch baseline over paired seeds at one label ``budget``.

    Args:
        target: a :class:`TransferTask` (its target splits are used) or a target :class:`Dataset`.
        backbone: the pre-trained backbone (object or spec), or a source :class:`TransferModel`; with a
            source model whose class names equal the target's, its zero-label score is reported as the
            ``source_only`` arm and its head is kept (``keep_source_head="auto"``).
        strategy: a strategy name or object (``auto`` chooses on validation, once per budget).
        seeds: number of paired seeds (or the seed values).
        budget: labelled target examples per class (int), a fraction (float), ``"64total"`` or ``"all"``;
            it counts training and validation labels together (about a fifth of them validate). Each
            seed draws its own labelled examples and, without an official test split, its own test split.
        config: epochs, batch size, patience... (``lr`` and ``seed`` are set per arm and seed).
        lr, scratch_lr: learning rates (default: each strategy's own default for the backbone).
        metric: the compared test metric (default :func:`default_metric`).
        others: extra strategies reported beside transfer (e.g. ``["linear_probe", "l2sp"]``).
        scratch: False skips the baseline (then there is no verdict: it is reported as inconclusive).
        on_cell: called after every (seed, arm) cell with the result so far (see :func:`run_budget`).
        journal: where finished cells and the best models are kept, to resume a stopped run.
        label: the budget in words (default :func:`~transferkit.experiments.runner.budget_label`).
        min_test_per_class: fewer test examples in a class and the verdict is ``insufficient test data``.
        classical: also fit the data kind's classical baseline (:func:`~.arms.classical_arm`), with its own verdict.
        scratch_min_steps: the fewest optimiser steps scratch trains (it also gets at least ``config.epochs``).
        validation: ``holdout`` (choose on a validation split of the budget) or ``cv`` (no split is held out: every
            choice is made on the mean score over ``cv_folds`` stratified folds of the budget, then each seed's
            final model trains on the whole budget; see :mod:`~transferkit.experiments.selection`).
    """
    from transferkit.strategies import get_strategy

    task = _as_task(target)
    sp = task.target_splits
    source_model = backbone if isinstance(backbone, TransferModel) else None
    bb = source_model.backbone if source_model is not None else (
        create_backbone(backbone, data=sp.train) if isinstance(backbone, str) else backbone)
    kind = sp.train.task
    k = sp.train.num_classes if kind == "classification" else (1 if np.ndim(sp.train.y) == 1 else sp.train.y.shape[1])
    names = sp.train.class_names
    shared = source_model is not None and kind == "classification" and source_model.class_names == names
    keep_head = shared and keep_source_head in (True, "auto")
    metric = metric or default_metric(sp.train)
    cfg = replace(config or TrainConfig(progress=False), select_metric=select_metric(metric, kind))

    def new_model(seed: int) -> TransferModel:
        import torch

        torch.manual_seed(seed)  # the new head starts the same on every run of this seed
        head = copy.deepcopy(source_model.head) if keep_head and source_model is not None else "linear"
        return TransferModel(copy.deepcopy(bb), k, head=head, task=kind, class_names=names)

    main = get_strategy(copy.deepcopy(strategy) if not isinstance(strategy, str) else strategy)
    extra = [get_strategy(copy.deepcopy(o) if not isinstance(o, str) else o) for o in others]
    arms = [strategy_arm("transfer", f"{bb.spec} + {main.name}", "transfer", new_model, main, cfg, lr)]
    if scratch:
        arms.append(scratch_arm(new_model, cfg, f"{bb.spec} from scratch", scratch_lr, min_steps=scratch_min_steps))
    arms += [strategy_arm(s.name, f"{bb.spec} + {s.name}", "reference", new_model, s, cfg) for s in extra]
    arms += [a for a in [classical_arm(sp.train.kind, kind, k) if classical else None,
                         source_arm(source_model) if shared and source_model is not None else None] if a is not None]

    splits = seed_splits(task, validation, cv_folds)

    def cell_done(ev: CellDone) -> None:
        if on_cell is not None:
            on_cell(replace(ev, partial=_finish(ev.partial, main, bb.spec, validation, cv_folds)))

    res = run_budget(splits, arms, seed_list(seeds), budget, metric, k, label=label, on_step=on_step,
                     on_cell=cell_done if on_cell is not None else None, journal=journal,
                     min_test_per_class=min_test_per_class)
    return _finish(res, main, bb.spec, validation, cv_folds)


def seed_splits(task: TransferTask, validation: str = "holdout", folds: int = 5) -> Callable[[Any, int], Split]:
    """``(budget, seed) -> Split``: the seed moves the test split too (unless it is official); in cv mode the
    whole budget trains and the seed also deals the ``folds`` cross-validation folds."""
    if validation not in VALIDATION_MODES:
        raise DataArgumentError(f"validation must be one of {list(VALIDATION_MODES)}, got {validation!r}")

    def splits(b: Any, seed: int) -> Split:
        s = task.seed_splits(b, seed, holdout=validation == "holdout")
        if validation == "cv":
            return Split(s.train, None, s.test, tuple(cv_folds_of(s.train, folds, seed)))
        return Split(s.train, s.val if len(s.val) else None, s.test)

    return splits


def validation_record(res: BudgetResult, mode: str, folds: int) -> dict[str, Any]:
    """How a budget's choices were made, for results.json: the mode, and in cv mode the folds and each arm's
    CV score per seed (what auto, scratch's learning rate, the epoch counts and the gate chose by)."""
    if mode != "cv":
        return {"mode": "holdout"}
    scores = {k: [v if np.isfinite(v) else None for v in a.val_scores] for k, a in res.arms.items()}
    return {"mode": "cv", "folds": folds, "cv_scores": scores,
            "cv_mean": {k: float(np.mean([v for v in vs if v is not None])) if any(v is not None for v in vs) else None
                        for k, vs in scores.items()}}


def _finish(res: BudgetResult, main: Any, spec: str, validation: str, folds: int) -> BudgetResult:
    """The strategy's own account (what ``auto`` chose) in the result, how choices were made, and the strategy's
    advice after the verdict's."""
    res.strategy = main.describe()
    res.validation = validation_record(res, validation, folds)
    chosen = (res.strategy.get("chosen") or {}).get("name", main.name) if main.name == "auto" else main.name
    if chosen != main.name and "transfer" in res.arms:
        res.arms["transfer"] = replace(res.arms["transfer"], name=f"{spec} + {main.name} -> {chosen}")
        if res.shipped is not None and res.shipped.arm == "transfer":
            res.shipped = replace(res.shipped, name=res.arms["transfer"].name)
    res.advice += _strategy_advice(res.verdict, chosen)
    return res


def label_efficiency(target: Any, backbone: Any, strategy: Any = "auto",
                     budgets: Sequence[int | float | str] = (2, 5, 10, "all"), **compare_kwargs: Any) -> ExperimentResult:
    """Run :func:`compare` at each budget (per-class counts, fractions, totals or ``"all"``), same seeds each time.

    ``compare_kwargs`` go to :func:`compare` (``seeds``, ``config``, ``others``, ``on_step``...).
    A strategy given as an object is copied per budget, so ``auto`` chooses afresh at each budget.
    """
    if not budgets:
        raise DataArgumentError("give at least one label budget")
    return ExperimentResult([compare(target, backbone, strategy, budget=b, **compare_kwargs) for b in budgets])
