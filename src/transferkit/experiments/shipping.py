"""Ship the gate's choice: write the model folder of a run (``RUN/model``, and ``--save DIR``).

Which weights ship: those of the chosen arm's **best-validation seed** at the budget with the most
labels. Its test score was measured like every other seed's (after the choice, on a split it never
saw), so the figure on the card is the shipped model's own, and shipping costs no extra training.
A refit on all labelled examples would have no measured test figure of its own and would need a
validation split it no longer has to pick its epoch; it is not done.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path
from typing import Any

from transferkit.backbones.shipped import save_model
from transferkit.data import Dataset
from transferkit.errors import TransferkitError
from transferkit.experiments.records import BudgetResult

WEIGHTS_CHOICE = ("the best-validation seed of the chosen arm at the largest label budget: its test score was "
                  "measured after the choice like every seed's, so the figure above is this model's own; a refit "
                  "on all labels would have no measured test figure and no validation split to pick its epoch")


def input_description(data: Dataset) -> dict[str, Any]:
    """What a shipped model reads: kind, per-example shape, table column names."""
    shape = list(data.x.shape[1:]) if data.x.dtype != object else []
    return {"kind": data.kind, "shape": shape,
            "feature_names": list(data.feature_names) if data.feature_names else None}


def ship_budget(folder: str | os.PathLike[str], budget: BudgetResult, data: Dataset,
                results: dict[str, Any] | None = None, *, name: str | None = None,
                save: str | os.PathLike[str] | None = None, input_transform: Any = None,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the model the gate chose at ``budget`` into ``folder`` (and a copy into ``save``); returns the card.

    ``data``: the target data the model was trained on (its input description and fingerprint);
    ``results``: the run's results dict (data descriptions, command, settings) for the card;
    ``input_transform``: a fixed transform of raw inputs stored with the model
    (:class:`~transferkit.backbones.shipped.InputTransform`); ``extra``: more card fields.
    """
    sh = budget.shipped
    if sh is None or budget.shipped_model is None:
        raise TransferkitError("this run has no model to ship (no transfer, baseline or source-only arm kept one)")
    results = results or {}
    diff = budget.diff.estimate if budget.diff is not None else None
    argv = results.get("argv") or []
    card: dict[str, Any] = {
        "name": name or Path(folder).name,
        "summary": sh.headline,
        "input": input_description(data),
        "shipped": sh.to_dict(),
        "weights_choice": WEIGHTS_CHOICE,
        "metric": {"name": sh.metric, "higher_is_better": sh.higher_is_better, "test_seed": sh.test_seed,
                   "test": sh.test.to_dict(), "verdict": budget.verdict,
                   "diff": diff.mean if diff else None, "diff_ci_low": diff.ci_low if diff else None,
                   "diff_ci_high": diff.ci_high if diff else None, "select_metric": sh.select_metric,
                   "validation": sh.val},
        "data": {k: v for k, v in (results.get("data") or {}).items() if isinstance(v, dict) and "fingerprint" in v}
        or {"target": data.describe()},
        "command": shlex.join(str(a) for a in argv) if argv else "",
        "run": {"command": results.get("command"), "created": results.get("created"),
                "config": results.get("config") or {}, "pretrained": results.get("models") or {}},
    }
    card.update(extra or {})
    out = save_model(folder, budget.shipped_model, card, input_transform=input_transform)
    if save:
        dest = Path(save)
        if dest.resolve() != Path(folder).resolve():
            shutil.copytree(folder, dest, dirs_exist_ok=True)
    return out


def publish(folder: str | os.PathLike[str], save: str | os.PathLike[str] | None, shipped: dict[str, Any],
            results: dict[str, Any]) -> None:
    """After a model folder is written: copy it to ``save``, and record both places in ``results``'s ``shipped``."""
    shipped["model"] = str(folder)
    if save is not None and Path(save).resolve() != Path(folder).resolve():
        shutil.copytree(folder, save, dirs_exist_ok=True)
        shipped["saved_to"] = str(save)
    results["sections"]["shipped"] = shipped


__all__ = ["WEIGHTS_CHOICE", "input_description", "publish", "ship_budget"]
