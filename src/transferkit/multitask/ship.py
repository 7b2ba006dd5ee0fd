"""Ship a multi-task run's model: the shared trunk with one head per task, as one model folder.

Which model: among the weightings, the one whose multi-task models have the best mean validation
score (the loop's mean signed task score, the same number that picked their best epochs; ties go to
the first weighting in the config); its weights are those of its best-validation seed. No test
figure takes part in the choice. The card then holds, per task, the test scores of those very
weights (read after the choice; ``transferkit predict MODEL DATA --task NAME`` on that seed's test
rows gives them back) and the task's verdict against its single-task model, so a task that loses
by sharing the trunk (negative transfer) is named on the card and in the report's first line, with
the advice to use a single-task model for it.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import numpy as np

from transferkit.data import Dataset
from transferkit.experiments.records import Estimate
from transferkit.experiments.shipping import input_description, publish
from transferkit.multitask.config import MultitaskConfig


def _choice(cfg: MultitaskConfig, cells: Any) -> tuple[str, dict[str, float]]:
    means = {w.label: float(np.mean(cells.val[w.label])) if cells.val.get(w.label) else float("nan")
             for w in cfg.weightings}
    finite = {k: v for k, v in means.items() if np.isfinite(v)}
    best = max(finite, key=lambda k: (finite[k], -list(means).index(k))) if finite else cfg.weightings[0].label
    return best, means


def shipped_section(cfg: MultitaskConfig, cells: Any, results: dict[str, Any]) -> dict[str, Any]:
    """The ``shipped`` results section: which weighting and seed ship, why, and each task's test figures."""
    label, means = _choice(cfg, cells)
    seed = cells.best[label][2]
    i = list(cfg.seeds).index(seed)
    sec = results["sections"]["multitask"]
    metric = sec["metric"]
    metric_of = metric if isinstance(metric, dict) else dict.fromkeys(cells.names, metric)
    rows = {r["task"]: r for r in sec["rows"]}
    per_task = {}
    for n in cells.names:
        r = rows.get(n, {})
        per_task[n] = {"metric": metric_of[n], "test_seed": cells.scores[label][n][i][metric_of[n]],
                       "test": Estimate.of([s[metric_of[n]] for s in cells.scores[label][n]]).to_dict(),
                       "all_metrics_seed": cells.scores[label][n][i],
                       "single": r.get("single"), "diff": (r.get("diff") or {}).get(label),
                       "diff_ci": (r.get("diff_ci") or {}).get(label), "verdict": (r.get("verdict") or {}).get(label),
                       "negative": bool((r.get("negative") or {}).get(label))}
    negative = [n for n, t in per_task.items() if t["negative"]]
    head = f"This run ships the multi-task model (weighting {label}, seed {seed}): one trunk, a head per task."
    if negative:
        head += (f" Negative transfer on {', '.join(negative)}: for {'that task' if len(negative) == 1 else 'those'}"
                 " a single-task model is better.")
    rest = ", ".join(f"{k} {v:.3f}" for k, v in means.items() if k != label and np.isfinite(v))
    reason = (f"best mean validation score over {len(cfg.seeds)} seeds ({label} {means[label]:.3f}"
              + (f" vs {rest})" if rest else ")") + "; the mean over tasks of each task's validation metric")
    mean_task = [float(np.mean([cells.scores[label][n][j][metric_of[n]] for n in cells.names]))
                 for j in range(len(cfg.seeds))]
    return {"arm": label, "name": f"multi-task ({label})", "role": "transfer", "seed": seed, "budget_label": "",
            "reason": reason, "headline": head, "select_metric": "mean validation score over tasks", "val": means,
            "metric": "mean test metric over tasks", "higher_is_better": True, "test": Estimate.of(mean_task).to_dict(),
            "test_seed": mean_task[i], "verdict": "negative" if negative else "", "by_test_verdict": False,
            "model": None, "tasks": per_task, "negative_tasks": negative}


def ship_multitask(folder: Path, cfg: MultitaskConfig, datasets: dict[str, Dataset], cells: Any,
                   results: dict[str, Any], journal: Any, save: Any = None) -> dict[str, Any]:
    """Write the chosen multi-task model into ``folder`` (and a copy into ``save``); ``results`` gains ``shipped``."""
    from transferkit.backbones.shipped import save_multitask

    sh = shipped_section(cfg, cells, results)
    kept = cells.best[sh["arm"]][1]
    if kept is None:  # read back from a resumed run's journal
        kept = journal.model(f"best|arm=multi:{sh['arm']}")
    trunk, heads = kept
    tasks = {n: {"task": datasets[n].task, "num_outputs": datasets[n].num_classes
                 if datasets[n].task == "classification" else 1, "class_names": datasets[n].class_names}
             for n in cells.names}
    argv = results.get("argv") or []
    card = {
        "name": f"{cfg.name}: {len(cells.names)} tasks on one {cfg.backbone} trunk", "summary": sh["headline"],
        "input": input_description(datasets[cells.names[0]]), "shipped": sh,
        "weights_choice": "the best-validation seed of the weighting with the best mean validation score; the "
                          "test figures per task are those weights' own, read after the choice",
        "per_task": sh["tasks"],
        "evaluation": {"split": f"train_val_test_split(val_size={cfg.val_size}, test_size={cfg.test_size}, "
                                f"seed={sh['seed']}) of each task's data",
                       "note": "predict a task's test rows of that split with --task NAME to get its figure back"},
        "data": {n: d.describe() for n, d in datasets.items()},
        "command": shlex.join(str(a) for a in argv) if argv else "",
        "run": {"command": "multitask", "created": results.get("created"), "config": results.get("config") or {}},
    }
    out = save_multitask(folder, trunk, heads, tasks, card)
    publish(folder, save, sh, results)
    return out


__all__ = ["ship_multitask", "shipped_section"]
