"""The one experiment runner: arms x paired seeds x label budgets -> typed records.

An :class:`Arm` is a way to get a fitted model from labelled training and validation examples
(transfer with a strategy, the same architecture from scratch, the source model as it is, a
linear probe, TF-IDF ...). The runner gives every arm the same examples per seed and budget, asks
each for a predictor, and only then scores the predictors on the test split: no arm ever sees
the test examples. Per budget it returns a :class:`BudgetResult` with every arm's scores, the
paired difference of the transfer arm against its baseline and the verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from transferkit.data import Dataset
from transferkit.errors import DataArgumentError, DataError
from transferkit.evaluation.metrics import HIGHER_IS_BETTER, classification_metrics, confusion, regression_metrics
from transferkit.evaluation.stats import VERDICT_ADVICE
from transferkit.experiments.records import ArmResult, BudgetResult, Difference, ExperimentResult

ROLES = ("transfer", "baseline", "reference", "source_only")


@dataclass(frozen=True)
class Split:
    """What one seed at one budget trains on (``train``, ``val``) and is scored on (``test``)."""

    train: Dataset
    val: Dataset | None
    test: Dataset


@dataclass
class Fitted:
    """A fitted arm: a predictor of raw outputs, and the training history when there is one."""

    predict: Callable[[Dataset], np.ndarray]
    result: Any = None  # a TrainResult (history, best epoch, best validation score)
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Arm:
    """One way to get a model: ``fit(train, val, seed) -> Fitted`` (never given the test split)."""

    key: str
    name: str
    role: str
    fit: Callable[[Dataset, Dataset | None, int], Fitted]

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"arm role must be one of {ROLES}, got {self.role!r}")


def budget_label(budget: Any) -> str:
    """A budget in words: ``10 labels per class``, ``64 labels in all (stratified)``, ``all labels``."""
    if budget == "all" or budget is None:
        return "all labels"
    if isinstance(budget, float):
        return f"{budget:.0%} of the labels"
    if isinstance(budget, str) and budget.endswith("total"):
        return f"{budget[: -len('total')]} labels in all (stratified)"
    return f"{budget} labels per class"


def default_metric(data: Dataset) -> str:
    """``rmse`` for regression; ``macro_f1`` when the smallest class is under 30% of the largest; else ``accuracy``."""
    if data.task == "regression":
        return "rmse"
    counts = np.bincount(data.y, minlength=max(data.num_classes, 1))
    counts = counts[counts > 0]
    return "macro_f1" if counts.min() < 0.3 * counts.max() else "accuracy"


def task_metrics(data: Dataset, out: np.ndarray, num_outputs: int) -> dict[str, float]:
    """Classification (accuracy, balanced accuracy, macro-F1, AUROC; F1 of class 1 when binary) or
    regression (MAE, RMSE, R²) metrics of raw outputs."""
    if data.task == "regression":
        return regression_metrics(data.y, out)
    m = classification_metrics(data.y, out, num_outputs)
    if num_outputs == 2:
        from sklearn.metrics import f1_score

        m["f1"] = float(f1_score(data.y, np.asarray(out).argmax(1), pos_label=1, zero_division=0))
    return m


def time_to_reach(history: list[dict[str, Any]], target: float) -> dict[str, float | None]:
    """Epochs and seconds until a validation score first reaches ``target`` (None if never)."""
    for h in history:
        if h.get("val_score", -np.inf) >= target - 1e-12:
            return {"epochs": h["epoch"], "seconds": h["seconds"]}
    return {"epochs": None, "seconds": None}


@dataclass
class _Seeds:
    """What one budget collects over seeds, arm by arm."""

    metrics: dict[str, list[dict[str, float]]]
    val: dict[str, list[float]]
    n_labelled: list[int] = field(default_factory=list)
    speed: list[dict[str, Any]] = field(default_factory=list)
    curves: dict[str, Any] = field(default_factory=dict)
    confusion: dict[str, Any] | None = None
    info: dict[str, Any] = field(default_factory=dict)


def _run_seed(arms: Sequence[Arm], split: Split, seed: int, first: bool, k: int, label: str, acc: _Seeds,
              say: Callable[[str], None]) -> None:
    fitted: dict[str, Fitted] = {}
    for arm in arms:
        f = arm.fit(split.train, split.val, seed)
        fitted[arm.key] = f
        out = f.predict(split.test)
        acc.metrics[arm.key].append(task_metrics(split.test, out, k))
        best = getattr(f.result, "best_score", None)
        acc.val[arm.key].append(float(best) if best is not None else float("nan"))
        say(f"  {arm.name}: " + (f"val {best:.3f}" if best is not None and np.isfinite(best) else "fitted"))
        if first and f.result is not None and getattr(f.result, "history", None):
            acc.curves[f"{arm.key} (seed {seed})"] = f.result.curve()
        if first and arm.role == "transfer":
            acc.info = f.info
            if split.test.task == "classification":
                names = split.train.class_names
                acc.confusion = {"labels": list(names or range(k)), "matrix": confusion(split.test.y, out, k),
                                 "model": f"{arm.name}, {label}, seed {seed}"}
    t = next((fitted[a.key] for a in arms if a.role == "transfer"), None)
    s = next((fitted[a.key] for a in arms if a.role == "baseline"), None)
    if t is not None and s is not None and t.result is not None and s.result is not None:
        acc.speed.append({"seed": seed, "scratch_best_val": s.result.best_score,
                          "scratch_best_epoch": s.result.best_epoch,
                          "transfer": time_to_reach(t.result.history, s.result.best_score),
                          "scratch": time_to_reach(s.result.history, s.result.best_score)})


def run_budget(splits: Callable[[Any, int], Split], arms: Sequence[Arm], seeds: Sequence[int], budget: Any,
               metric: str, num_outputs: int, *, label: str | None = None,
               advise: Callable[[str, dict[str, Any]], str] | None = None,
               on_step: Callable[[str], None] | None = None) -> BudgetResult:
    """Every arm at one ``budget`` over paired ``seeds``; see :func:`run_experiment`."""
    if metric not in HIGHER_IS_BETTER and metric != "f1":
        raise DataArgumentError(f"unknown metric {metric!r}; use one of {sorted(HIGHER_IS_BETTER)} or f1")
    say = on_step or (lambda m: None)
    label = label or budget_label(budget)
    hib = HIGHER_IS_BETTER.get(metric, True)
    acc = _Seeds({a.key: [] for a in arms}, {a.key: [] for a in arms})
    for i, seed in enumerate(seeds):
        split = splits(budget, seed)
        if len(split.test) == 0:
            raise DataError("the target has no test split: give a test set or a test_size > 0")
        acc.n_labelled.append(len(split.train))
        say(f"{label}, seed {seed}: {len(split.train)} training and "
            f"{len(split.val) if split.val is not None else 0} validation examples")
        _run_seed(arms, split, seed, i == 0, num_outputs, label, acc, say)
    results: dict[str, ArmResult] = {}
    for a in arms:
        ms = acc.metrics[a.key]
        names = list(ms[0]) if ms else []
        results[a.key] = ArmResult(a.key, a.name, a.role, tuple(m[metric] for m in ms),
                                   {n: float(np.nanmean([m.get(n, np.nan) for m in ms])) for n in names},
                                   tuple(ms), tuple(acc.val[a.key]))
    t = next((r for r in results.values() if r.role == "transfer"), None)
    diff, versus = None, {}
    for r in results.values():
        if t is None or r is t:
            continue
        d = Difference.paired(t.key, r.key, list(t.scores), list(r.scores), hib)
        if r.role == "baseline" and diff is None:
            diff = d
        else:
            versus[r.key] = d
    verdict = diff.verdict if diff else "inconclusive"
    advice = VERDICT_ADVICE[verdict] + (advise(verdict, acc.info) if advise else "")
    return BudgetResult(budget, label, metric, hib, list(seeds), results, diff, versus,
                        int(round(float(np.mean(acc.n_labelled)))), advice, acc.speed, acc.curves, acc.confusion,
                        acc.info)


def run_experiment(splits: Callable[[Any, int], Split], arms: Sequence[Arm], *, seeds: int | Sequence[int] = 5,
                   budgets: Sequence[Any] = ("all",), metric: str = "accuracy", num_outputs: int = 2,
                   advise: Callable[[str, dict[str, Any]], str] | None = None,
                   on_step: Callable[[str], None] | None = None) -> ExperimentResult:
    """Run ``arms`` over paired ``seeds`` at each label budget.

    Args:
        splits: ``(budget, seed) -> Split``: the labelled examples every arm gets, and the test split.
        arms: at most one ``transfer`` arm and one ``baseline`` arm make the verdict; ``reference``
            and ``source_only`` arms are scored beside them (with a paired difference against transfer).
        seeds: number of paired seeds (``0..n-1``) or the seed values.
        budgets: label budgets in order (per-class counts, fractions, ``"64total"``, ``"all"``).
        metric: the compared test metric; ``num_outputs``: classes (or regression targets).
        advise: ``(verdict, transfer info) -> str`` appended to the verdict's advice.
    """
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise DataError("need at least one seed")
    if not budgets:
        raise DataArgumentError("give at least one label budget")
    if sum(a.role == "transfer" for a in arms) > 1 or sum(a.role == "baseline" for a in arms) > 1:
        raise ValueError("an experiment has at most one transfer arm and one baseline arm")
    keys = [a.key for a in arms]
    if len(set(keys)) != len(keys):
        raise ValueError(f"arm keys must be unique, got {keys}")
    return ExperimentResult([run_budget(splits, arms, seed_list, b, metric, num_outputs, advise=advise,
                                        on_step=on_step) for b in budgets])
