"""Choosing inside the label budget by K-fold cross-validation (``fit --validation cv``).

In holdout mode an arm makes its choices (``auto``'s strategy, scratch's learning rate, the best
epoch, the classical model's regularisation) on a validation split carved out of the budget. In
cv mode no example is held out: each setting an arm may choose (a :class:`Trial`) is fitted on
the other folds of every fold and scored on the fold after each epoch (each row of its validation
curve); the mean curve over the folds gives the setting's CV score and its best row. The best
setting then trains on the whole budget, repeating that row (a training loop trains that many
epochs and keeps the last, with no early stopping), and its CV score stands in for the validation
score: the never-worse gate ships by it. Only the final models ever see the test split.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from transferkit.data import Dataset
from transferkit.errors import DataError
from transferkit.evaluation.metrics import validation_score
from transferkit.experiments.runner import Fitted, Folds

VALIDATION_MODES = ("holdout", "cv")
"""``holdout``: choose on a validation split of the budget; ``cv``: choose by K-fold cross-validation."""


@dataclass(frozen=True)
class Trial:
    """One setting an arm may choose.

    ``fit(train, val, seed)`` fits it with a validation fold (its history rows with a ``val_score``
    are its validation curve); ``refit(train, seed, row)`` fits it on the whole budget, without a
    validation split, repeating what validation would keep at ``row`` (0-based).
    """

    name: str
    fit: Callable[[Dataset, Dataset, int], Fitted]
    refit: Callable[[Dataset, int, int], Fitted]
    details: dict[str, Any] | None = None  # what the trial table records beside the name (lr, C, strategy...)


@dataclass(frozen=True)
class CVChoice:
    """What cross-validation chose: the trial, the row of its curve, the CV score, and every trial's score."""

    trial: int
    row: int
    score: float
    table: tuple[dict[str, Any], ...]


def fold_curve(fitted: Fitted, val: Dataset, select_metric: str) -> list[float]:
    """A fit's validation score per row of its history; one score (of its predictions) without a history."""
    rows = getattr(fitted.result, "history", None) or []
    curve = [float(h["val_score"]) for h in rows if isinstance(h.get("val_score"), (int, float))]
    return curve or [float(validation_score(select_metric, val.y, fitted.predict(val)))]


def cross_validate(trials: Sequence[Trial], folds: Folds, seed: int) -> CVChoice:
    """Every trial on every fold; each trial's mean curve over the folds; the best (trial, row).

    The first trial and the earliest row win ties, as on a validation split.
    """
    if not trials:
        raise ValueError("cross-validation needs at least one trial")
    table: list[dict[str, Any]] = []
    best: tuple[int, int, float] | None = None
    for i, t in enumerate(trials):
        curves = [fold_curve(t.fit(tr, va, seed), va, folds.select_metric) for tr, va in folds.parts]
        n = min(len(c) for c in curves)
        mean = np.mean([c[:n] for c in curves], axis=0)
        finite = np.where(np.isfinite(mean), mean, -np.inf)
        row = int(np.argmax(finite))
        table.append({"trial": t.name, **(t.details or {}), "cv_score": float(mean[row]), "row": row + 1,
                      "fold_scores": [float(c[row]) for c in curves]})
        if best is None or finite[row] > best[2] + 1e-9:
            best = (i, row, float(finite[row]))
    assert best is not None
    if not np.isfinite(best[2]):
        raise DataError("no trial got a finite cross-validation score: check the data and the learning rate")
    return CVChoice(best[0], best[1], best[2], tuple(table))


def fit_by_cv(trials: Sequence[Trial], train: Dataset, folds: Folds, seed: int,
              on_choice: Callable[[CVChoice], None] | None = None) -> tuple[Fitted, CVChoice]:
    """Cross-validate ``trials``, then refit the chosen one on all of ``train``; its CV score is its ``val_score``.

    ``on_choice`` hears the choice before the refit (an arm that remembers it for later seeds). The
    fitted arm's ``info["cv"]`` records the folds, the chosen trial and row, and every trial's score.
    """
    choice = cross_validate(trials, folds, seed)
    if on_choice is not None:
        on_choice(choice)
    chosen = trials[choice.trial]
    fitted = chosen.refit(train, seed, choice.row)
    cv = {"folds": folds.k, "select_metric": folds.select_metric, "score": choice.score, "chosen": chosen.name,
          "row": choice.row + 1, "trials": list(choice.table)}
    return replace(fitted, val_score=choice.score, info={**fitted.info, "cv": cv}), choice


def fixed_trial(name: str, fit: Callable[[Dataset, int], Fitted]) -> Trial:
    """A setting with nothing to choose: ``fit(train, seed)`` with or without a fold (its score is its predictions')."""
    return Trial(name, lambda train, val, seed: fit(train, seed), lambda train, seed, row: fit(train, seed))
