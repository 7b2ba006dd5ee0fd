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
from typing import Any, Protocol

import numpy as np

from transferkit.data import Dataset
from transferkit.errors import DataArgumentError, DataError
from transferkit.evaluation.metrics import (
    HIGHER_IS_BETTER,
    classification_metrics,
    confusion,
    regression_metrics,
    validation_score,
)
from transferkit.evaluation.stats import VERDICT_ADVICE
from transferkit.experiments.records import (
    SHIP_ROLES,
    ArmResult,
    BudgetResult,
    CellResult,
    ExperimentResult,
    choose_shipped,
)
from transferkit.experiments.verdicts import (
    MIN_TEST_PER_CLASS,
    classical_note,
    differences,
    examples_of,
    verdict_notes,
)

ROLES = ("transfer", "baseline", "reference", "source_only")


@dataclass(frozen=True)
class Split:
    """What one seed at one budget trains on (``train``, ``val``) and is scored on (``test``).

    With ``folds`` (cross-validation: ``(the other folds, this fold)`` pairs over ``train``, and no
    ``val``) every arm chooses by its mean fold score, then its final model trains on all of ``train``.
    """

    train: Dataset
    val: Dataset | None
    test: Dataset
    folds: tuple[tuple[Dataset, Dataset], ...] | None = None


@dataclass(frozen=True)
class Folds:
    """The cross-validation folds an arm chooses on, and the validation score that chooses."""

    parts: tuple[tuple[Dataset, Dataset], ...]
    select_metric: str

    @property
    def k(self) -> int:
        """The number of folds."""
        return len(self.parts)


@dataclass
class Fitted:
    """A fitted arm: a predictor of raw outputs, the training history when there is one, and the model.

    ``model`` is the fitted network (a :class:`~transferkit.backbones.TransferModel` whose forward
    gives the same outputs as ``predict``) when the arm can ship it; None otherwise.
    """

    predict: Callable[[Dataset], np.ndarray]
    result: Any = None  # a TrainResult (history, best epoch, best validation score)
    info: dict[str, Any] = field(default_factory=dict)
    model: Any = None
    val_score: float | None = None  # what the arm chose by when not the result's best score (a CV score)


@dataclass(frozen=True)
class Arm:
    """One way to get a model: ``fit(train, val, seed) -> Fitted`` (never given the test split).

    ``fit_cv(train, folds, seed) -> Fitted`` is the same arm choosing by cross-validation inside
    ``train`` (:mod:`~transferkit.experiments.selection`); an arm without it cannot run in cv mode.
    """

    key: str
    name: str
    role: str
    fit: Callable[[Dataset, Dataset | None, int], Fitted]
    # called with a cell read back from a journal instead of fitted (to restore what later seeds reuse,
    # such as the strategy ``auto`` chose on the first seed)
    restore: Callable[[CellResult], None] | None = None
    fit_cv: Callable[[Dataset, Folds, int], Fitted] | None = None

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
    return classification_metrics(data.y, out, num_outputs, binary=num_outputs == 2)


def seed_list(seeds: int | Sequence[int]) -> list[int]:
    """``0..seeds-1`` for a count, else the seed values; at least one."""
    out = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not out:
        raise DataError("need at least one seed")
    return out


def time_to_reach(history: list[dict[str, Any]], target: float) -> dict[str, float | None]:
    """Epochs and seconds until a validation score first reaches ``target`` (None if never)."""
    for h in history:
        if h.get("val_score", -np.inf) >= target - 1e-12:
            return {"epochs": h["epoch"], "seconds": h["seconds"]}
    return {"epochs": None, "seconds": None}


def select_metric(metric: str, task: str) -> str:
    """The validation score the loop selects epochs by for a compared test ``metric``."""
    if task == "regression":
        return "neg_rmse"
    return metric if metric in ("accuracy", "balanced_accuracy", "macro_f1") else "accuracy"


@dataclass(frozen=True)
class CellDone:
    """What :func:`run_budget` reports after each (seed, arm) cell: the cell, and the budget so far."""

    cell: CellResult
    done: int  # cells of this budget finished (restored ones included)
    total: int  # cells of this budget
    restored: bool  # read back from the journal instead of fitted
    partial: BudgetResult  # every arm over the cells done so far (the shipped choice is not made yet)


class Journal(Protocol):
    """Where a run keeps finished cells and the best model of each arm so far, to resume after a kill."""

    def cell(self, key: str) -> CellResult | None:
        """The finished cell stored under ``key`` (None when it has not run)."""

    def put_cell(self, key: str, cell: CellResult) -> None:
        """Store a finished cell."""

    def put_model(self, key: str, model: Any) -> None:
        """Store the best model so far of an arm at a budget."""

    def model(self, key: str) -> Any:
        """The model stored under ``key`` (None when there is none)."""


def _fit_cell(arm: Arm, split: Split, seed: int, k: int, sel: str, first: bool, label: str,
              say: Callable[[str], None]) -> tuple[CellResult, Fitted]:
    """Fit one arm on one seed's examples (by cross-validation when the split has folds), then (only then)
    score it on the test split."""
    if split.folds is not None:
        if arm.fit_cv is None:
            raise DataArgumentError(f"the arm {arm.name!r} cannot choose by cross-validation: use holdout validation")
        f = arm.fit_cv(split.train, Folds(split.folds, sel), seed)
    else:
        f = arm.fit(split.train, split.val, seed)
    out = f.predict(split.test)
    metrics = task_metrics(split.test, out, k)
    best = f.val_score if f.val_score is not None else getattr(f.result, "best_score", None)
    val = float(best) if best is not None else float("nan")
    if f.result is None and arm.role == "source_only" and split.val is not None and len(split.val):
        val = float(validation_score(sel, split.val.y, f.predict(split.val)))  # scored like the trained arms
    say(f"  {arm.name}: " + (f"{'cv' if split.folds is not None else 'val'} {val:.3f}" if np.isfinite(val)
                             else "fitted"))
    conf = None
    if first and arm.role == "transfer" and split.test.task == "classification":
        conf = confusion(split.test.y, out, k)
    res = f.result
    history = tuple(res.history) if res is not None and getattr(res, "history", None) else ()
    pred = out.argmax(1) if split.test.task == "classification" else np.asarray(out, dtype=np.float64)
    cell = CellResult(arm.key, seed, metrics, val, len(split.train), len(split.val) if split.val is not None else 0,
                      res is not None, int(getattr(res, "best_epoch", -1)) if res is not None else -1, history,
                      dict(f.info), conf, tuple(np.asarray(split.test.y).tolist()), tuple(pred.tolist()))
    return cell, f


def _aggregate(arms: Sequence[Arm], seeds: Sequence[int], cells: dict[tuple[int, str], CellResult], budget: Any,
               label: str, metric: str, k: int, names: Sequence[str] | None,
               advise: Callable[[str, dict[str, Any]], str] | None,
               min_test_per_class: int = MIN_TEST_PER_CLASS) -> BudgetResult:
    """Every arm's scores over the cells done (all of them at the end of a budget), the paired difference of
    transfer against the other arms over their common seeds, and the verdict."""
    hib = HIGHER_IS_BETTER.get(metric, True)
    results: dict[str, ArmResult] = {}
    for a in arms:
        done = [cells[(s, a.key)] for s in seeds if (s, a.key) in cells]
        ms = [c.metrics for c in done]
        mnames = list(ms[0]) if ms else []
        results[a.key] = ArmResult(a.key, a.name, a.role, tuple(m[metric] for m in ms),
                                   {n: float(np.nanmean([m.get(n, np.nan) for m in ms])) for n in mnames},
                                   tuple(ms), tuple(c.val_score for c in done))
    tk = next((a.key for a in arms if a.role == "transfer"), None)
    diff, versus = differences([(a.key, a.role) for a in arms], seeds, cells, metric, hib, k, min_test_per_class)
    done_seeds = [s for s in seeds if any((s, a.key) in cells for a in arms)]
    # every labelled example an arm used: training and validation (the budget covers both)
    n_lab = [next(cells[(s, a.key)].n_train + cells[(s, a.key)].n_val for a in arms if (s, a.key) in cells)
             for s in done_seeds]
    first = seeds[0] if seeds else None
    curves: dict[str, Any] = {}
    info: dict[str, Any] = {}
    conf = None
    for a in arms:
        c = cells.get((first, a.key)) if first is not None else None
        if c is None:
            continue
        if c.trained and c.history:
            curves[f"{a.key} (seed {first})"] = c.curve()
        if a.role == "transfer":
            info = c.info
            if c.confusion is not None:
                conf = {"labels": list(names or range(k)), "matrix": c.confusion,
                        "model": f"{a.name}, {label}, seed {first}"}
    speed = []
    bk = next((a.key for a in arms if a.role == "baseline"), None)
    for s in seeds:
        t, b = cells.get((s, tk)) if tk else None, cells.get((s, bk)) if bk else None
        # per-epoch validation curves only exist with a held-out split (a cv refit has none)
        if t is not None and b is not None and t.trained and b.trained and "cv" not in t.info:
            speed.append({"seed": s, "scratch_best_val": b.val_score, "scratch_best_epoch": b.best_epoch,
                          "transfer": time_to_reach(list(t.history), b.val_score),
                          "scratch": time_to_reach(list(b.history), b.val_score)})
    verdict = diff.verdict if diff else "inconclusive"
    notes = verdict_notes(diff, cells, results.get(tk) if tk else None, results.get(bk) if bk else None, metric, hib,
                          k, min_test_per_class)
    if "classical" in results:
        notes.append(classical_note(versus, results["classical"].name, metric))
    advice = " ".join([*notes, VERDICT_ADVICE[verdict]]) + (advise(verdict, info) if advise else "")
    return BudgetResult(budget, label, metric, hib, list(seeds), results, diff, versus,
                        int(round(float(np.mean(n_lab)))) if n_lab else 0, advice, speed, curves, conf, info,
                        notes=notes, examples=examples_of(arms, seeds, cells, k))


def cell_key(budget: Any, seed: int, arm: str) -> str:
    """The journal key of a (budget, seed, arm) cell."""
    return f"budget={budget}|seed={seed}|arm={arm}"


def run_budget(splits: Callable[[Any, int], Split], arms: Sequence[Arm], seeds: Sequence[int], budget: Any,
               metric: str, num_outputs: int, *, label: str | None = None,
               advise: Callable[[str, dict[str, Any]], str] | None = None,
               on_step: Callable[[str], None] | None = None, on_cell: Callable[[CellDone], None] | None = None,
               journal: Journal | None = None, ship: bool = True,
               min_test_per_class: int = MIN_TEST_PER_CLASS) -> BudgetResult:
    """Every arm at one ``budget`` over paired ``seeds``; see :func:`run_experiment`.

    ``on_cell`` is called after every (seed, arm) cell with the budget's result so far; with a
    ``journal``, finished cells are stored there and read back instead of fitted again (resume), and
    the best-validation model of each arm the gate may ship is kept there too. A class with fewer
    than ``min_test_per_class`` test examples makes the verdict ``insufficient test data``. With ``ship`` the
    never-worse gate (:func:`~transferkit.experiments.records.choose_shipped`) picks the model to
    ship and :attr:`BudgetResult.shipped_model` holds its fitted network.
    """
    if metric not in HIGHER_IS_BETTER and metric != "f1":
        raise DataArgumentError(f"unknown metric {metric!r}; use one of {sorted(HIGHER_IS_BETTER)} or f1")
    say = on_step or (lambda m: None)
    label = label or budget_label(budget)
    seeds = list(seeds)
    cells: dict[tuple[int, str], CellResult] = {}
    best: dict[str, tuple[float, Any]] = {}  # arm -> (validation score, model) of its best seed so far
    names: Sequence[str] | None = None
    sel = "accuracy"
    total = len(seeds) * len(arms)
    for i, seed in enumerate(seeds):
        split: Split | None = None
        for arm in arms:
            key = cell_key(budget, seed, arm.key)
            cell = journal.cell(key) if journal is not None else None
            restored = cell is not None
            fitted = None
            if cell is not None:
                if arm.restore is not None:
                    arm.restore(cell)
            else:
                if split is None:
                    split = splits(budget, seed)
                    if len(split.test) == 0:
                        raise DataError("the target has no test split: give a test set or a test_size > 0")
                    names = split.train.class_names
                    sel = select_metric(metric, split.test.task)
                    say(f"{label}, seed {seed}: {len(split.train)} training and "
                        + (f"{len(split.val) if split.val is not None else 0} validation examples" if split.folds is None
                           else f"no held-out validation examples ({len(split.folds)}-fold cross-validation)"))
                cell, fitted = _fit_cell(arm, split, seed, num_outputs, sel, i == 0, label, say)
            cells[(seed, arm.key)] = cell
            if ship and arm.role in SHIP_ROLES and (restored or (fitted is not None and fitted.model is not None)):
                v = cell.val_score if np.isfinite(cell.val_score) else -np.inf
                if arm.key not in best or v > best[arm.key][0]:  # the first seed wins ties, as in the gate
                    # a restored cell's model is in the journal already (None here: read back if it ships)
                    best[arm.key] = (v, None if restored or fitted is None else fitted.model)
                    if journal is not None and not restored:  # the model first: a cell on record has its model
                        journal.put_model(f"budget={budget}|arm={arm.key}", best[arm.key][1])
            if journal is not None and not restored:
                journal.put_cell(key, cell)
            if on_cell is not None:
                on_cell(CellDone(cell, len(cells), total, restored,
                                 _aggregate(arms, seeds, cells, budget, label, metric, num_outputs, names, advise,
                                            min_test_per_class)))
    if split is None and names is None:  # every cell was restored: the class names come from a split
        sp = splits(budget, seeds[0])
        names, sel = sp.train.class_names, select_metric(metric, sp.test.task)
    result = _aggregate(arms, seeds, cells, budget, label, metric, num_outputs, names, advise, min_test_per_class)
    if ship:
        k = next((c.info["cv"]["folds"] for c in cells.values() if isinstance(c.info.get("cv"), dict)), None)
        result.shipped = choose_shipped(result, sel, f"{k}-fold CV" if k else "validation")
        if result.shipped is not None:
            kept = best.get(result.shipped.arm)
            if kept is not None and kept[1] is not None:
                result.shipped_model = kept[1]
            elif journal is not None:
                result.shipped_model = journal.model(f"budget={budget}|arm={result.shipped.arm}")
    return result


def run_experiment(splits: Callable[[Any, int], Split], arms: Sequence[Arm], *, seeds: int | Sequence[int] = 5,
                   budgets: Sequence[Any] = ("all",), metric: str = "accuracy", num_outputs: int = 2,
                   advise: Callable[[str, dict[str, Any]], str] | None = None,
                   on_step: Callable[[str], None] | None = None,
                   min_test_per_class: int = MIN_TEST_PER_CLASS) -> ExperimentResult:
    """Run ``arms`` over paired ``seeds`` at each label budget.

    Args:
        splits: ``(budget, seed) -> Split``: the labelled examples every arm gets, and the test split.
        arms: at most one ``transfer`` arm and one ``baseline`` arm make the verdict; ``reference``
            and ``source_only`` arms are scored beside them (with a paired difference against transfer).
        seeds: number of paired seeds (``0..n-1``) or the seed values.
        budgets: label budgets in order (per-class counts, fractions, ``"64total"``, ``"all"``).
        metric: the compared test metric; ``num_outputs``: classes (or regression targets).
        advise: ``(verdict, transfer info) -> str`` appended to the verdict's advice.
        min_test_per_class: fewer test examples in a class and the verdict is ``insufficient test data``.
    """
    seed_values = seed_list(seeds)
    if not budgets:
        raise DataArgumentError("give at least one label budget")
    if sum(a.role == "transfer" for a in arms) > 1 or sum(a.role == "baseline" for a in arms) > 1:
        raise ValueError("an experiment has at most one transfer arm and one baseline arm")
    keys = [a.key for a in arms]
    if len(set(keys)) != len(keys):
        raise ValueError(f"arm keys must be unique, got {keys}")
    return ExperimentResult([run_budget(splits, arms, seed_values, b, metric, num_outputs, advise=advise,
                                        on_step=on_step, min_test_per_class=min_test_per_class) for b in budgets])
