"""``run_fit``: transfer a backbone to a target data set, prove it against scratch, ship the model.

What ``transferkit fit`` runs, as a function: every option is checked first (before any data is
pre-trained on), then optional pre-training on a labelled source, then the chosen strategy against
the same network from scratch over paired seeds and label budgets
(:func:`~transferkit.experiments.compare.compare` per budget). The never-worse gate picks the model
to ship at the largest budget, on validation only, and with a run folder it is written to
``RUN/model`` (:mod:`~transferkit.experiments.shipping`). With a run folder every finished
(budget, seed, arm) cell is journaled (``RUN/checkpoint``) and ``on_update`` gets the results so
far, so a killed run can be resumed (:func:`resume_fit`) and always leaves a report. Returns the
results dict; writing results.json and report.html and printing are
:func:`transferkit.reports.run.finish_run`'s job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from transferkit.backbones import needs_pretrained_message
from transferkit.data import Dataset, TransferTask, label_budget, load_dataset, parse_budget
from transferkit.errors import DataArgumentError, TransferkitError
from transferkit.experiments.records import BudgetResult, ExperimentResult
from transferkit.experiments.runner import CellDone, budget_label


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


# --------------------------------------------------------------------------- checking options
def check_numbers(seeds: int, epochs: int, batch_size: int, source_epochs: int, patience: int | None,
                  lr: float | None, workers: int, source: Any) -> None:
    """Seeds, epochs, batch size, patience, learning rate and workers, before anything is loaded."""
    bad = []
    if not isinstance(seeds, int) or seeds < 1:
        bad.append(f"--seeds must be at least 1 (got {seeds}): the verdict pairs seeds")
    if epochs < 1:
        bad.append(f"--epochs must be at least 1 (got {epochs})")
    if batch_size < 1:
        bad.append(f"--batch-size must be at least 1 (got {batch_size})")
    if source is not None and source_epochs < 1:
        bad.append(f"--source-epochs must be at least 1 (got {source_epochs})")
    if patience is not None and patience < 1:
        bad.append(f"--patience must be at least 1, or 0 for none (got {patience})")
    if lr is not None and not lr > 0:
        bad.append(f"--lr must be positive (got {lr})")
    if workers < 0:
        bad.append(f"--workers must be 0 or more (got {workers})")
    if bad:
        raise DataArgumentError("; ".join(bad))


def check_budgets(budgets: Sequence[Any], train: Dataset) -> list[str]:
    """Each budget against the training split the budgets are drawn from; returns the budgets in words.

    A per-class count above every class's size is an error (it would be "all", mislabelled); one
    above some classes' sizes is labelled with what it really is. Totals above the split, repeated
    budgets and per-class counts on a regression target are errors.
    """
    labels = []
    seen: set[str] = set()
    counts = np.bincount(train.y, minlength=train.num_classes) if train.task == "classification" else None
    for b in budgets:
        if str(b) in seen:
            raise DataArgumentError(f"label budget {b!r} is listed twice: give each budget once")
        seen.add(str(b))
        label = budget_label(b)
        if isinstance(b, int):
            if b < 1:
                raise DataArgumentError(f"a per-class budget must be at least 1, got {b}")
            if counts is None:
                raise DataArgumentError(f"a per-class budget ({b}) needs a classification target; use a fraction "
                                        "(0.1), a total (64total) or all for regression")
            present = counts[counts > 0]
            if b > present.max():
                raise DataArgumentError(
                    f"budget {b} labels per class is more than the training split has in any class (the largest "
                    f"has {int(present.max())}, the smallest {int(present.min())}; {len(train)} in all): use a "
                    "smaller count, or all")
            fewer = int((present < b).sum())
            if fewer:
                label = (f"{b} labels per class ({fewer} of {len(present)} classes have fewer and use all theirs: "
                         f"{int(np.minimum(present, b).sum())} labels)")
        elif isinstance(b, float):
            if not 0 < b <= 1:
                raise DataArgumentError(f"a fractional budget must be in (0, 1], got {b}")
        elif isinstance(b, str) and b.endswith("total"):
            n = int(b[: -len("total")])
            if n > len(train):
                raise DataArgumentError(f"budget {b} asks for {n} labelled examples but the training split has "
                                        f"{len(train)}: use a smaller total, or all")
            if counts is not None and n < int((counts > 0).sum()):
                raise DataArgumentError(f"budget {b} cannot cover the {int((counts > 0).sum())} classes: ask for at "
                                        f"least {int((counts > 0).sum())}")
        labels.append(label)
    return labels


def _check_counts(**counts: Any) -> None:
    """Options that are whole numbers, 0 or more (counts, the base seed)."""
    for name, v in counts.items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise DataArgumentError(f"{name} must be a whole number, 0 or more (got {v!r})")


def check_validation(validation: str, folds: int, patience: int | None, task: TransferTask, budgets: Sequence[Any],
                     labels: Sequence[str], seeds: Sequence[int]) -> None:
    """``--validation`` and ``--cv-folds`` before anything trains: in cv mode each seed's labelled budget
    (training and validation labels together) needs at least ``folds`` examples of every class."""
    from transferkit.experiments.selection import VALIDATION_MODES

    if validation not in VALIDATION_MODES:
        raise DataArgumentError(f"--validation must be one of {', '.join(VALIDATION_MODES)} (got {validation!r})")
    if validation != "cv":
        return
    if not isinstance(folds, int) or isinstance(folds, bool) or folds < 2:
        raise DataArgumentError(f"--cv-folds must be at least 2 (got {folds!r})")
    if patience is not None:
        raise DataArgumentError("--patience stops early on a held-out validation split; with --validation cv the "
                                "epoch count is chosen by cross-validation: drop --patience, or use --validation holdout")
    from transferkit.data.splits import budget_splits

    t = task.target  # the budgets drawn from the labels alone (the same draws as the run's; no inputs copied)
    labels_only = Dataset(np.zeros((len(t), 0), np.float32), t.y, "table", t.class_names, name=t.name, task=t.task)
    for b, label in zip(budgets, labels):
        for s in seeds:
            lab = budget_splits(labels_only, b, s, val_size=0.0, test_size=task.test_size,
                                official_test=task.target_test).train
            if lab.task != "classification":
                counts, names = np.array([len(lab)]), ["examples"]
            else:
                counts = np.bincount(lab.y, minlength=lab.num_classes)
                names = list(lab.class_names or range(len(counts)))
            few = [f"{n} ({int(c)})" for n, c in zip(names, counts) if 0 < c < folds]
            if few:
                least = int(counts[counts > 0].min())
                raise DataArgumentError(
                    f"--validation cv with {folds} folds needs at least {folds} labelled examples of every class in "
                    f"the budget, but at {label} (seed {s}) {', '.join(few[:5])}{' ...' if len(few) > 5 else ''} "
                    f"{'has' if len(few) == 1 else 'have'} fewer: give a budget of at least {folds} per class, "
                    + (f"fewer folds (--cv-folds {least}), " if least >= 2 else "") + "or --validation holdout")


# --------------------------------------------------------------------------- progress
@dataclass(frozen=True)
class RunProgress:
    """Where a run stands after a cell: cells done of all, time spent, and a time-to-finish estimate."""

    done: int
    total: int
    elapsed: float
    eta: float | None
    cell: str
    restored: bool = False

    def line(self) -> str:
        """``[5/12 cells] 1m 02s elapsed, about 1m 27s left: transfer at 10 labels per class, seed 1``."""
        eta = f"about {_clock(self.eta)} left" if self.eta is not None else "time left unknown yet"
        what = f"{self.cell} (read back)" if self.restored else self.cell
        return f"[{self.done}/{self.total} cells] {_clock(self.elapsed)} elapsed, {eta}: {what}"


def _clock(s: float) -> str:
    s = max(0, int(round(s)))
    return f"{s // 3600}h {s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m {s % 60:02d}s"


# --------------------------------------------------------------------------- the run
def run_fit(target: str | Dataset, backbone: str, strategy: str = "auto",
            budgets: str | Sequence[int | float | str] = "10,50,all", seeds: int = 5,
            source: str | Dataset | None = None, target_test: str | Dataset | None = None, epochs: int = 20,
            lr: float | None = None, metric: str | None = None, others: str | Sequence[str] = "",
            source_max: int | None = 10000, target_max: int | None = None, source_epochs: int = 5,
            batch_size: int = 32, patience: int | None = None, keep_head: bool = True,
            on_step: Callable[[str], None] | None = None, progress: bool = False, workers: int = 0,
            run_dir: str | Path | Callable[[], Path] | None = None, save: str | Path | None = None,
            on_update: Callable[[dict[str, Any]], None] | None = None,
            on_progress: Callable[[RunProgress], None] | None = None, resume: bool = False, seed: int = 0,
            min_test_per_class: int = 10, classical: bool = True, scratch_min_steps: int = 300,
            validation: str = "holdout", cv_folds: int = 5) -> dict[str, Any]:
    """Transfer ``backbone`` to ``target`` with ``strategy``, prove it against scratch, ship the model.

    Args:
        target: the target data (a named set such as ``"usps"``, a path, or a ``Dataset``).
        backbone: a backbone spec (``"zoo:mnist-cnn"``, ``"minilm"``, ``"model:RUN/model"``...). A randomly
            initialised built-in net (``smallcnn``...) needs ``source`` to pre-train it first.
        strategy: strategy name (``auto``, ``linear_probe``, ``finetune``, ``lp_ft``, ``l2sp``...).
        budgets: label budgets, ``"10,50,all"`` or a list: per class (10), fractions (0.1),
            stratified totals (``"64total"``) or ``"all"``; checked against the data before anything trains.
        seeds: paired seeds per budget.
        source: labelled source data to pre-train the backbone on first.
        target_test: an official target test split (default: a split of ``target``).
        others: extra strategies reported beside transfer (``"a,b"`` or a list).
        source_max, target_max: subsample source / target to at most this many examples (None: all).
        patience: early-stopping patience in epochs (None: both arms train the whole budget).
        keep_head: with ``source`` and the same label set, start from the source head.
        on_step: called with a line of progress text at each step.
        run_dir: the run folder (or a function that makes it, called once every option has been checked):
            the shipped model goes to ``run_dir/model``, finished cells to ``run_dir/checkpoint``.
        save: also copy the shipped model folder here.
        on_update: called with the results so far after every (budget, seed, arm) cell (and once more,
            marked interrupted, on Ctrl-C); the results dict carries ``status``.
        on_progress: called after every cell with a :class:`RunProgress` (cells done / total, ETA).
        resume: continue the run in ``run_dir`` (finished cells are read back, not fitted again).
        min_test_per_class: with fewer test examples in any class the verdict is ``insufficient test data``.
        classical: also fit the data kind's classical baseline (TF-IDF or pixels + LR, boosting), own verdict.
        scratch_min_steps: the fewest optimiser steps the scratch baseline trains (and at least ``epochs``).
        seed: the base seed: the paired seeds are ``seed, seed + 1, ...``; each picks its own split.
        validation, cv_folds: ``holdout`` chooses on a validation split of each budget; ``cv`` on the mean
            score over ``cv_folds`` stratified folds of it, then the final models train on the whole budget.
    """
    from transferkit.training import TrainConfig

    say = on_step or (lambda m: None)
    _check_counts(**{"--min-test-per-class": min_test_per_class, "--scratch-min-steps": scratch_min_steps,
                     "--seed": seed})
    inp = _checked_inputs(target, backbone, strategy, budgets, seeds, source, target_test, epochs, lr, metric, others,
                          source_max, target_max, source_epochs, batch_size, patience, workers)
    check_validation(validation, cv_folds, patience, inp.task, inp.budgets, inp.labels, range(seed, seed + seeds))
    folder = run_dir() if callable(run_dir) else (Path(run_dir) if run_dir is not None else None)
    journal = _journal(folder, resume, inp, fit_settings(target, backbone, strategy, inp.budgets, seeds, source,
                                                         target_test, epochs, lr, metric, inp.extra, source_max,
                                                         target_max, source_epochs, batch_size, patience, keep_head,
                                                         workers, save, min_test_per_class, classical,
                                                         scratch_min_steps, seed, validation, cv_folds))
    bb_or_model, models = _pretrained(backbone, inp.src, source_epochs, progress, say)
    # no early stopping by default: both arms get the whole budget (a scratch net with BatchNorm can sit at
    # chance on a tiny validation split for several epochs before it takes off); the best epoch is kept
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, patience=patience, progress=progress, num_workers=workers)
    header = _header(inp, models, dict(target=target, target_test=target_test, source=source, backbone=backbone,
                                       strategy=strategy, epochs=epochs, patience=patience, lr=lr,
                                       batch_size=batch_size, metric=metric, source_max=source_max,
                                       target_max=target_max, min_test_per_class=min_test_per_class,
                                       classical=classical, scratch_min_steps=scratch_min_steps, seed=seed,
                                       validation=validation, cv_folds=cv_folds))
    report = _CellReport(header, len(inp.budgets), f"transferkit fit --resume {folder}" if folder else "",
                         on_update, on_progress)
    _run_budgets(inp, bb_or_model, strategy, report, seeds=list(range(seed, seed + seeds)), config=cfg, lr=lr,
                 metric=metric, keep_source_head=keep_head, on_step=say, journal=journal,
                 min_test_per_class=min_test_per_class, classical=classical, scratch_min_steps=scratch_min_steps,
                 validation=validation, cv_folds=cv_folds)
    total = report.per_budget * len(inp.budgets)
    out = _results(header, report.done_budgets, len(inp.budgets),
                   {"complete": True, "state": "complete", "cells_done": total, "cells_total": total})
    _ship(out, report.done_budgets, folder, save, inp.tgt, f"{backbone} -> {header['config']['target']}")
    return out


def _run_budgets(inp: _Inputs, model: Any, strategy: str, report: _CellReport, **compare_kwargs: Any) -> None:
    """Every budget through :func:`~transferkit.experiments.compare.compare`, in order; on Ctrl-C the results so
    far are reported, marked interrupted."""
    from transferkit.experiments.compare import compare

    try:
        for b, label in zip(inp.budgets, inp.labels):
            report.done_budgets.append(compare(inp.task, model, strategy, budget=b, label=label, others=inp.extra,
                                               on_cell=report, **compare_kwargs))
    except KeyboardInterrupt:
        report.interrupted()
        raise


@dataclass
class _Inputs:
    """The checked data and budgets of a fit."""

    tgt: Dataset
    test: Dataset | None
    src: Dataset | None
    task: TransferTask
    budgets: list[Any]
    labels: list[str]
    extra: list[str]


def _checked_inputs(target: Any, backbone: str, strategy: str, budgets: Any, seeds: int, source: Any,
                    target_test: Any, epochs: int, lr: float | None, metric: str | None, others: Any,
                    source_max: int | None, target_max: int | None, source_epochs: int, batch_size: int,
                    patience: int | None, workers: int) -> _Inputs:
    """Every option and budget checked, and the data loaded, before anything trains."""
    from transferkit.strategies import get_strategy

    check_numbers(seeds, epochs, batch_size, source_epochs, patience, lr, workers, source)
    extra = _names(others)
    for name in [strategy, *extra]:
        get_strategy(name)  # unknown names fail now, before any pre-training
    if metric is not None:
        from transferkit.evaluation.metrics import HIGHER_IS_BETTER

        if metric not in HIGHER_IS_BETTER and metric != "f1":
            raise DataArgumentError(f"unknown metric {metric!r}; use one of {sorted(HIGHER_IS_BETTER)} or f1")
    items = _names(budgets) if isinstance(budgets, str) else list(budgets)
    if not items:
        raise DataArgumentError("give at least one label budget")
    blist = [parse_budget(b) if isinstance(b, str) else b for b in items]
    tgt = _subsample(load_dataset(target), target_max)
    test = load_dataset(target_test) if target_test is not None else None
    src = _subsample(load_dataset(source), source_max) if source is not None else None
    if src is None:
        msg = needs_pretrained_message(backbone, tgt.kind)
        if msg:
            raise TransferkitError(msg)
    task = TransferTask(target=tgt, source=src, target_test=test, seed=0)
    return _Inputs(tgt, test, src, task, blist, check_budgets(blist, task.target_splits.train), extra)


def _journal(folder: Path | None, resume: bool, inp: _Inputs, settings: dict[str, Any] | None) -> Any:
    """The run folder's journal: checked against the data when resuming, else started afresh."""
    from transferkit.experiments.journal import RunJournal

    if folder is None:
        return None
    journal = RunJournal(folder)
    fingerprints = {"target": inp.tgt.fingerprint(),
                    **({"source": inp.src.fingerprint()} if inp.src is not None else {}),
                    **({"target_test": inp.test.fingerprint()} if inp.test is not None else {})}
    if resume:
        journal.check_fingerprints(fingerprints)
    else:
        journal.start("fit", settings, fingerprints)
    return journal


def _pretrained(backbone: str, src: Dataset | None, source_epochs: int, progress: bool,
                say: Callable[[str], None]) -> tuple[Any, dict[str, Any]]:
    """The backbone spec, or a model pre-trained on the source (seeded: a resumed run gets the same one)."""
    from transferkit.experiments.compare import pretrain_source
    from transferkit.training import TrainConfig

    models: dict[str, Any] = {"backbone": backbone}
    if src is None:
        return backbone, models
    say(f"pre-training {backbone} on the source {src.name}: {len(src)} examples, up to {source_epochs} epochs")
    model, res = pretrain_source(src, backbone, TrainConfig(epochs=source_epochs, lr=2e-3, batch_size=64, patience=3,
                                                            progress=progress))
    models["pretrained_on_source"] = {"source": src.name, "source_val_accuracy": res.best_score,
                                      "best_epoch": res.best_epoch, "seconds": res.seconds,
                                      "fingerprint": model.backbone.fingerprint()[:16]}
    return model, models


def _header(inp: _Inputs, models: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """The results header of a fit: settings, data and models."""
    from accelerate import PartialState

    from transferkit._io import new_results

    def spec(d: str | Dataset | None, loaded: Dataset | None) -> str | None:
        return d if isinstance(d, str) or d is None else (loaded.name if loaded is not None else d.name)

    header = new_results("fit")
    header["config"] = {**args, "target": spec(args["target"], inp.tgt),
                        "target_test": spec(args["target_test"], inp.test),
                        "source": spec(args["source"], inp.src), "budgets": inp.budgets,
                        "num_processes": PartialState().num_processes}
    header["data"] = {"target": inp.tgt.describe(), "splits": inp.task.describe(),
                      **({"source": inp.src.describe()} if inp.src is not None else {})}
    header["models"] = models
    return header


class _CellReport:
    """After every (budget, seed, arm) cell: progress (done / total, ETA) and the results so far."""

    def __init__(self, header: dict[str, Any], n_budgets: int, resume_hint: str,
                 on_update: Callable[[dict[str, Any]], None] | None,
                 on_progress: Callable[[RunProgress], None] | None) -> None:
        self.header, self.n_budgets, self.resume_hint = header, n_budgets, resume_hint
        self.on_update, self.on_progress = on_update, on_progress
        self.done_budgets: list[BudgetResult] = []
        self.latest: dict[str, Any] = {}
        self.per_budget = 0
        self.t0 = self.last = time.perf_counter()
        self.took: dict[int, list[float]] = {}  # budget index -> seconds of each cell fitted in this session

    def __call__(self, ev: CellDone) -> None:
        self.per_budget = ev.total
        total = ev.total * self.n_budgets
        done = ev.total * len(self.done_budgets) + ev.done
        now = time.perf_counter()
        if not ev.restored:
            self.took.setdefault(len(self.done_budgets), []).append(now - self.last)
        self.last = now
        left = total - done
        # later budgets have at least as many labels: price the cells left at the latest budget's pace
        pace = self.took.get(max(self.took)) if self.took else None
        eta = float(np.mean(pace)) * left if pace else None
        arm = ev.partial.arms.get(ev.cell.arm)
        what = f"{arm.name if arm else ev.cell.arm} at {ev.partial.budget_label}, seed {ev.cell.seed}"
        if self.on_progress is not None:
            self.on_progress(RunProgress(done, total, now - self.t0, eta if left else 0.0, what, ev.restored))
        if self.on_update is not None:
            # built first, swapped in one step: a Ctrl-C in between still finds the last results
            self.latest = _results(self.header, [*self.done_budgets, ev.partial], self.n_budgets,
                                   {"complete": False, "state": "running", "cells_done": done,
                                    "cells_total": total, "resume": self.resume_hint})
            self.on_update(self.latest)

    def interrupted(self) -> None:
        """Ctrl-C: the results so far, marked interrupted."""
        if self.on_update is not None and self.latest:
            self.latest["status"] = {**self.latest["status"], "state": "interrupted (Ctrl-C)"}
            self.on_update(self.latest)


def _ship(out: dict[str, Any], budgets: list[BudgetResult], folder: Path | None, save: Any, tgt: Dataset,
          name: str) -> None:
    """Write the gate's choice at the largest budget as the run's model folder (and ``save``)."""
    ship = shipping_budget(budgets)
    if ship is None or ship.shipped is None or ship.shipped_model is None or not (folder or save):
        return
    from transferkit.experiments.shipping import ship_budget

    model_dir = (folder / "model") if folder is not None else Path(save)
    ship_budget(model_dir, ship, tgt, out, name=name, save=save)
    out["sections"]["shipped"]["model"] = str(model_dir)
    if save is not None:
        out["sections"]["shipped"]["saved_to"] = str(save)


def _results(header: dict[str, Any], budgets: list[BudgetResult], n_budgets: int,
             status: dict[str, Any]) -> dict[str, Any]:
    """The results dict of the budgets run so far (the last one may be partial)."""
    import copy

    out = copy.deepcopy(header)
    first = budgets[0]
    le = ExperimentResult(budgets)
    out["seeds"] = first.seeds
    out["config"]["metric"] = first.metric
    if status.get("complete"):
        ship = shipping_budget(budgets)
        if ship is not None and ship.shipped is not None:
            out["sections"]["shipped"] = ship.shipped.to_dict()
    out["sections"]["comparison"] = first.section()
    out["sections"]["label_efficiency"] = le.label_efficiency()
    out["sections"]["curves"] = first.curves
    if first.confusion_matrix is not None:
        out["sections"]["confusion_matrix"] = first.confusion_matrix
    out["comparisons_by_budget"] = [c.section() for c in budgets]
    if not status.get("complete"):
        out["status"] = status
    return out


def fit_settings(target: Any, backbone: str, strategy: str, budgets: list[Any], seeds: int, source: Any,
                 target_test: Any, epochs: int, lr: float | None, metric: str | None, others: list[str],
                 source_max: int | None, target_max: int | None, source_epochs: int, batch_size: int,
                 patience: int | None, keep_head: bool, workers: int, save: Any, min_test_per_class: int = 10,
                 classical: bool = True, scratch_min_steps: int = 300, seed: int = 0, validation: str = "holdout",
                 cv_folds: int = 5) -> dict[str, Any] | None:
    """The arguments of :func:`run_fit` that decide its figures, as JSON (None when data were given as objects)."""
    if any(d is not None and not isinstance(d, str) for d in (target, source, target_test)):
        return None  # data given as objects: the run cannot be started again from its settings
    return {"target": target, "backbone": backbone, "strategy": strategy, "budgets": budgets, "seeds": seeds,
            "source": source, "target_test": target_test, "epochs": epochs, "lr": lr, "metric": metric,
            "others": others, "source_max": source_max, "target_max": target_max, "source_epochs": source_epochs,
            "batch_size": batch_size, "patience": patience, "keep_head": keep_head, "workers": workers,
            "save": str(save) if save is not None else None, "min_test_per_class": min_test_per_class,
            "classical": classical, "scratch_min_steps": scratch_min_steps, "seed": seed, "validation": validation,
            "cv_folds": cv_folds}


def resume_fit(run_dir: str | Path, **callbacks: Any) -> dict[str, Any]:
    """Continue the fit run in ``run_dir`` where it stopped, with the settings it was started with.

    ``callbacks``: ``on_step``, ``on_update``, ``on_progress``, ``progress``, and ``workers`` (which does
    not change the figures) as in :func:`run_fit`; ``seed``: the base seed the caller asked for (None:
    any), refused when it is not the run's.
    Finished cells are read back from ``run_dir/checkpoint``; the figures equal an uninterrupted run's.
    """
    from transferkit.experiments.journal import RunJournal, check_resume_seed

    settings = RunJournal.read_settings(run_dir, "fit")["settings"]
    if not settings:
        from transferkit.experiments.journal import ResumeError

        raise ResumeError(f"{run_dir} cannot be resumed: its data were given as Dataset objects, not names or paths")
    check_resume_seed(run_dir, "fit", settings.get("seed", 0), callbacks.pop("seed", None))
    settings = {**settings, **{k: callbacks.pop(k) for k in ("workers", "progress") if k in callbacks}}
    return run_fit(**settings, run_dir=Path(run_dir), resume=True, **callbacks)


__all__ = ["RunProgress", "check_budgets", "check_numbers", "check_validation", "resume_fit", "run_fit",
           "shipping_budget"]
