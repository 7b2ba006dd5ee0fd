"""Ship what ``transferkit adapt`` recommends: source-only or the adapted model, as a model folder.

Which model: the verdict's recommendation (:func:`~transferkit.adaptation.selection.adaptation_verdict`).
With labelled target examples (``--target-labels``) the adapted model ships only when it beats
source-only on them (or has the higher mean when the difference is within noise); without them
adaptation is unverified and source-only ships, whatever the label-free scores prefer (their
choices and caveats are on the card). Which weights: the recommended model's seed with the best
target validation accuracy, or without labelled target examples the best
``importance_weighted_accuracy`` (the label-free score with the best record); never a test figure.
Its test accuracy is read after the choice and written on the card, and predicting the run's target
test rows with the shipped folder gives that figure.

Deep methods ship a network folder (backbone + linear head, :func:`~transferkit.backbones.shipped.save_model`);
shallow methods ship the fitted estimator (format ``estimator``,
:mod:`~transferkit.experiments.estimator_folder`) that reads the same feature table the run read,
every row treated as a target row.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import numpy as np

from transferkit.adaptation.api import SOURCE_ONLY, AdaptationResult, as_transfer_model
from transferkit.adaptation.selection import DEFAULT_LABEL_FREE_SCORE
from transferkit.data import Dataset
from transferkit.experiments.records import Estimate
from transferkit.experiments.shipping import input_description, publish


def chosen_seed(result: AdaptationResult, model: str) -> tuple[int, str]:
    """The seed whose weights ship for ``model``, and the score that chose it (validation only)."""
    rows = [r for r in result.rows if r["model"] == model]
    if rows and rows[0].get("target_val_accuracy") is not None:
        key, vals = "target_val_accuracy", [r["target_val_accuracy"] for r in rows]
    else:
        key, vals = DEFAULT_LABEL_FREE_SCORE, [r["selection_scores"][DEFAULT_LABEL_FREE_SCORE] for r in rows]
    vals = [v if v is not None and np.isfinite(v) else -np.inf for v in vals]
    return int(rows[int(np.argmax(vals))]["seed"]), key  # the first seed on ties


def shipped_section(result: AdaptationResult, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``shipped`` results section of an adapt run (the report's first lines)."""
    v = result.verdict
    model = v.recommended
    seed, key = chosen_seed(result, model)
    accs = [r["target_accuracy"] for r in rows if r["model"] == model]
    test_seed = next(r["target_accuracy"] for r in rows if r["model"] == model and r["seed"] == seed)
    what = "the source-only model" if model == SOURCE_ONLY else f"the adapted model ({model})"
    if v.verdict == "unverified":
        reason = ("no labelled target examples, so adaptation is unverified and source-only is the safer choice "
                  f"(label-free scores chose: {_choices(result)})")
    elif v.verdict == "label-free choice" and result.decision is not None:
        reason = f"no labelled target examples; the label-free decision chose it: {result.decision.reason}"
    else:
        gain = f"{v.mean_gain:+.3f} [{v.ci_low:+.3f}, {v.ci_high:+.3f}]" if v.ci_low is not None else "n/a"
        reason = f"verdict on the labelled target examples: {v.verdict} ({result.method} - source-only {gain})"
    means = {m: float(np.mean([r[key] if key in r else r["selection_scores"][key] for r in result.rows
                               if r["model"] == m])) for m in (SOURCE_ONLY, result.method)}
    return {"arm": model, "name": model, "role": "source_only" if model == SOURCE_ONLY else "transfer",
            "seed": seed, "budget_label": "", "reason": reason,
            "headline": f"This run ships {what}, seed {seed}: {v.verdict}.",
            "select_metric": key, "val": means, "metric": "accuracy", "higher_is_better": True,
            "test": Estimate.of(accs).to_dict(), "test_seed": test_seed, "verdict": v.verdict,
            "by_test_verdict": False, "model": None,
            "weights_choice": f"the seed with the best {key.replace('_', ' ')} (validation only); its test "
                              "accuracy was read after the choice"}


def _choices(result: AdaptationResult) -> str:
    return ", ".join(f"{k} -> {m}" for k, m in result.label_free_choice.items())


def ship_adapted(folder: Path, result: AdaptationResult, rows: list[dict[str, Any]], src: Dataset, pool: Dataset,
                 results: dict[str, Any], save: Any = None) -> dict[str, Any]:
    """Write the recommended model into ``folder`` (and a copy into ``save``); the card; ``results`` gains
    its ``shipped`` section."""
    from transferkit.backbones.shipped import save_model
    from transferkit.experiments.estimator_folder import save_estimator

    sh = shipped_section(result, rows)
    model = result.models[(sh["arm"], sh["seed"])]
    names = _class_names(result, src)
    argv = results.get("argv") or []
    sec = results["sections"]["adaptation"]
    card = {
        "name": f"{result.method}: {src.name} -> {pool.name}",
        "summary": sh["headline"], "input": input_description(pool), "shipped": sh,
        "weights_choice": sh["weights_choice"],
        "metric": {"name": "accuracy", "higher_is_better": True, "versus": f"{result.method} vs source-only, on the "
                   "labelled target examples", "test_seed": sh["test_seed"], "test": sh["test"],
                   "verdict": sec["verdict"], "diff": sec["gain_on_target_val"],
                   "diff_ci_low": (sec["gain_ci"] or [None, None])[0], "diff_ci_high": (sec["gain_ci"] or [None, None])[1],
                   "select_metric": sh["select_metric"], "validation": sh["val"]},
        "selection": {"recommended": sec["recommended"], "verdict": sec["verdict"], "advice": sec["advice"],
                      "label_free_choice": sec["label_free_choice"], "caveats": sec["caveats"],
                      "rows": [r for r in sec["rows"] if r["model"] == sh["arm"]]},
        "adaptation": {"method": result.method, "kind": result.kind,
                       "note": "predict reads target-domain rows: the domain this model was adapted to"},
        "data": {k: d for k, d in (results.get("data") or {}).items() if isinstance(d, dict)},
        "command": shlex.join(str(a) for a in argv) if argv else "",
        "run": {"command": "adapt", "created": results.get("created"), "config": results.get("config") or {}},
    }
    if result.kind == "deep":
        out = save_model(folder, as_transfer_model(model, names), card)
    else:
        out = save_estimator(folder, model, card, class_names=list(names) if names else None)
    publish(folder, save, sh, results)
    return out


def _class_names(result: AdaptationResult, src: Dataset) -> tuple[str, ...] | None:
    """The name of each of the models' classes (the sorted source labels, by the source's class names)."""
    if result.classes is None:
        return None
    if src.class_names is not None:
        return tuple(str(src.class_names[int(c)]) for c in result.classes)
    return tuple(str(c) for c in result.classes)


__all__ = ["chosen_seed", "ship_adapted", "shipped_section"]
