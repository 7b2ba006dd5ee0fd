"""Multi-task vs single-task: per-task paired differences over seeds, Delta-m %, negative transfer.

Delta-m % follows the multi-task literature (Maninis et al. 2019; the Nash-MTL paper's tables)::

    Delta_m = (1/K) sum_k (-1)^{delta_k} (M_multi,k - M_single,k) / M_single,k * 100

with ``delta_k = 1`` when higher is better for task ``k``'s metric. **Lower is better: a negative
Delta-m means the multi-task model beats the single-task models on average.**
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from transferkit.errors import DataError
from transferkit.evaluation import HIGHER_IS_BETTER
from transferkit.experiments.records import Difference, Estimate

DELTA_M_NOTE = ("Delta-m % = mean over tasks of the relative change of the multi-task metric vs single-task, "
                "sign-flipped for higher-is-better metrics (as in the multi-task literature): lower is better, "
                "negative = multi-task beats single-task on average.")


def delta_m(multi: Mapping[str, float], single: Mapping[str, float], higher_is_better: Mapping[str, bool]) -> float:
    """Average relative change Delta-m % of a multi-task model vs the single-task models (lower is better)."""
    if set(multi) != set(single):
        raise DataError(f"delta_m needs the same tasks on both sides, got {sorted(multi)} and {sorted(single)}")
    if not multi:
        raise DataError("delta_m needs at least one task")
    terms = []
    for task, m in multi.items():
        s = float(single[task])
        if s == 0 or not np.isfinite(s) or not np.isfinite(m):
            raise DataError(f"task {task!r}: the single-task metric is {s}; Delta-m % needs a finite, non-zero "
                            "single-task value (use another metric)")
        sign = -1.0 if higher_is_better[task] else 1.0
        terms.append(sign * (float(m) - s) / abs(s) * 100.0)
    return float(np.mean(terms))


def compare_tasks(single: Mapping[str, Sequence[float]], multi: Mapping[str, Mapping[str, Sequence[float]]],
                  metric: Mapping[str, str] | str) -> dict[str, Any]:
    """The ``multitask`` results section from per-seed test scores.

    Args:
        single: task -> per-seed scores of the single-task models.
        multi: weighting -> task -> per-seed scores of the multi-task model (same seeds, same order).
        metric: the metric name of every task (one name, or task -> name).

    Returns:
        ``{"tasks", "metric", "rows": [{"task", "single", "multi_<w>"..., "diff": {w: mean},
        "diff_ci": {w: [lo, hi]}, "verdict": {w: ...}, "negative": {w: bool}, "per_seed": ...}],
        "delta_m": {w: value}, "delta_m_ci": {w: [lo, hi]}, "delta_m_per_seed", "delta_m_note"}``.
        Differences are ``multi - single`` oriented so that positive = multi-task better; a task
        shows negative transfer when the whole interval lies below zero.
    """
    tasks = list(single)
    metric_of = {t: metric for t in tasks} if isinstance(metric, str) else dict(metric)
    hib = {t: HIGHER_IS_BETTER.get(metric_of[t], True) for t in tasks}
    n_seeds = {len(v) for v in single.values()}
    for w, scores in multi.items():
        if set(scores) != set(tasks):
            raise DataError(f"weighting {w!r} has scores for {sorted(scores)} but the tasks are {sorted(tasks)}")
        n_seeds |= {len(v) for v in scores.values()}
    if len(n_seeds) != 1:
        raise DataError(f"every task and arm needs the same number of seeds, got {sorted(n_seeds)}")
    rows = []
    for t in tasks:
        row: dict[str, Any] = {"task": t, "metric": metric_of[t], "single": float(np.mean(single[t])), "diff": {},
                               "diff_ci": {}, "verdict": {}, "negative": {},
                               "per_seed": {"single": [float(v) for v in single[t]]}}
        for w, scores in multi.items():
            d = Difference.paired(f"multi_{w}", "single", list(scores[t]), list(single[t]), hib[t])
            row[f"multi_{w}"] = float(np.mean(scores[t]))
            row["diff"][w] = d.estimate.mean
            row["diff_ci"][w] = [d.estimate.ci_low, d.estimate.ci_high]
            row["verdict"][w] = d.verdict
            row["negative"][w] = d.verdict == "negative"
            row["per_seed"][w] = [float(v) for v in scores[t]]
        rows.append(row)
    dm: dict[str, float] = {}
    dm_ci: dict[str, list[float]] = {}
    dm_seed: dict[str, list[float]] = {}
    for w, scores in multi.items():
        dm[w] = delta_m({t: float(np.mean(scores[t])) for t in tasks}, {t: float(np.mean(single[t])) for t in tasks},
                        hib)
        per = _per_seed_dm(scores, single, hib)
        dm_seed[w] = per
        est = Estimate.of([v for v in per if np.isfinite(v)])
        dm_ci[w] = [est.ci_low if est.mean is not None else np.nan, est.ci_high if est.mean is not None else np.nan]
    return {"tasks": tasks, "metric": metric if isinstance(metric, str) else dict(metric_of), "rows": rows,
            "delta_m": dm, "delta_m_ci": dm_ci, "delta_m_per_seed": dm_seed, "delta_m_note": DELTA_M_NOTE,
            "diff_note": "diff = multi - single (sign-flipped for lower-is-better metrics): positive = multi-task "
                         "better; 95% paired t intervals over seeds; negative transfer = the interval lies wholly "
                         "below 0."}


def _per_seed_dm(scores: Mapping[str, Sequence[float]], single: Mapping[str, Sequence[float]],
                 hib: Mapping[str, bool]) -> list[float]:
    n = len(next(iter(single.values())))
    out = []
    for i in range(n):
        try:
            out.append(delta_m({t: scores[t][i] for t in single}, {t: single[t][i] for t in single}, hib))
        except DataError:
            out.append(float("nan"))
    return out
