"""``run_adapt``: domain adaptation between two data sets, source-only beside it, evaluated on held-out target rows.

What ``transferkit adapt`` runs, as a function: load both sides, hold out target test rows (or
take a separate test set), optionally draw a few labelled target examples for selection and the
verdict, run :func:`~transferkit.adaptation.api.adapt`, measure every model on the test rows, and
return the results dict. :func:`adaptation_section` is the ``adaptation`` section of that dict.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from transferkit.adaptation.api import AdaptationResult, adapt
from transferkit.adaptation.target_only import target_only_comparison
from transferkit.data import Dataset, label_budget, load_dataset
from transferkit.data.splits import stratified_indices
from transferkit.errors import DataArgumentError, DataError


def adaptation_section(result: AdaptationResult, rows: list[dict[str, Any]], n_target_labels: int) -> dict[str, Any]:
    """The ``results["sections"]["adaptation"]`` record of a run (``rows``: ``result.evaluate(x_test, y_test)``)."""
    v = result.verdict
    return {
        "method": result.method,
        "kind": result.kind,
        "rows": [
            {
                "model": r["model"],
                "seed": r["seed"],
                "target_accuracy": r["target_accuracy"],
                "target_val_accuracy": r.get("target_val_accuracy"),
                "selection_scores": r["selection_scores"],
            }
            for r in rows
        ],
        "verdict": v.verdict,
        "recommended": v.recommended,
        "gain_on_target_val": v.mean_gain,
        "gain_ci": [v.ci_low, v.ci_high] if v.ci_low is not None else None,
        "advice": v.advice,
        "label_free_choice": result.label_free_choice,
        "decision": None if result.decision is None else {
            "choice": result.decision.choice, "reason": result.decision.reason,
            "votes": result.decision.votes, "eligible": result.decision.eligible},
        "caveats": result.caveats,
        "target_labels_per_class": n_target_labels,
        "note": "target_accuracy is measured on held-out target test rows after training and selection; "
        "those labels never reach training or selection.",
    }


def source_labels(ds: Dataset, src: Dataset) -> np.ndarray:
    """``ds``'s labels as indices into the *source's* class names (matched by name, not by position)."""
    y = np.asarray(ds.y)
    if ds.class_names is None or src.class_names is None or tuple(ds.class_names) == tuple(src.class_names):
        return y
    index = {n: i for i, n in enumerate(src.class_names)}
    present = [ds.class_names[i] for i in np.unique(y)]
    unknown = [n for n in present if n not in index]
    if unknown:
        raise DataError(f"{ds.name}: classes {unknown[:5]} are not among the source classes "
                        f"{list(src.class_names)[:20]}; adaptation needs the same label set on both sides")
    lookup = np.array([index.get(n, -1) for n in ds.class_names], dtype=np.int64)
    return lookup[y]


def run_adapt(
    source: str | Dataset,
    target: str | Dataset,
    method: str = "dann",
    *,
    target_labels: int = 0,
    seeds: int = 3,
    target_test: str | Dataset | None = None,
    backbone: str | None = None,
    steps: int = 1000,
    batch_size: int = 64,
    lr: float = 0.01,
) -> dict[str, Any]:
    """Adapt from ``source`` to ``target`` with ``method``; source-only beside it, a verdict, the results dict.

    Args:
        source: labelled source data (a named set, a path or a ``Dataset``).
        target: target data; its labels are only read for the held-out test accuracy and the
            ``target_labels`` examples.
        method: an adaptation method, shallow (feature tables) or deep.
        target_labels: labelled target examples per class for selection and the verdict (0: none).
        seeds: runs 0..seeds-1.
        target_test: a separate labelled target test set (default: a stratified 30 % of ``target``).
        backbone, steps, batch_size, lr: deep methods only.
    """
    from transferkit._io import new_results
    from transferkit.adaptation.deep import DeepConfig

    if seeds < 1:
        raise DataArgumentError("seeds (--seeds) must be >= 1")
    if target_labels < 0:
        raise DataArgumentError("target labels per class (--target-labels) must be >= 0")
    src = load_dataset(source)
    tgt = load_dataset(target)
    src.require_labels(2)
    if target_test is not None:
        test = load_dataset(target_test)
        pool = tgt
    else:
        tgt.require_labels(2)
        pool_idx, test_idx = stratified_indices(tgt.y, len(tgt), (0.7, 0.3), 0)[:2]
        pool, test = tgt.subset(pool_idx, f"{tgt.name}[adapt]"), tgt.subset(test_idx, f"{tgt.name}[test]")
    test.require_labels(2)
    val = None
    if target_labels > 0:
        pool.require_labels(2)
        val = label_budget(pool, target_labels, seed=0)
    result = adapt(
        src,
        pool.x,
        method,
        target_val=None if val is None else (val.x, source_labels(val, src)),
        seeds=list(range(seeds)),
        backbone=backbone,
        deep_config=DeepConfig(steps=steps, batch_size=batch_size, lr=lr),
    )
    y_test = source_labels(test, src)  # target test labels: read only to evaluate, after every choice
    rows = result.evaluate(test.x, y_test)
    results = new_results(
        "adapt",
        seeds=list(range(seeds)),
        data={
            "source": src.describe(),
            "target": pool.describe(),
            "target_test": test.describe(),
            "target_val": None if val is None else val.describe(),
        },
    )
    results["sections"]["adaptation"] = adaptation_section(result, rows, target_labels)
    if val is not None:  # the few labels on their own: is adapting worth more than training on them?
        results["sections"]["adaptation"]["target_only"] = target_only_comparison(
            result, (val.x, source_labels(val, src)), test.x, y_test)
    return results
