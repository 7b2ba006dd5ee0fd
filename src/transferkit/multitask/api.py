"""``run_multitask(config)``: single-task baselines and multi-task models over seeds, compared per task."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from transferkit._io import new_results
from transferkit.data import Dataset, label_budget, load_dataset, train_val_test_split
from transferkit.data.splits import stratified_indices
from transferkit.errors import DataError
from transferkit.multitask.config import CLASS_METRICS, REG_METRICS, MultitaskConfig, TaskSpec, load_config
from transferkit.multitask.data import TaskData
from transferkit.multitask.evaluate import compare_tasks
from transferkit.multitask.loop import MultiTaskResult, predict_task, task_metrics, train_multitask
from transferkit.multitask.model import HeadSpec, MultiTaskModel
from transferkit.training.loop import torch_threads


@dataclasses.dataclass
class SeedTasks:
    """One seed's train / validation / test parts of every task."""

    train: list[TaskData]
    val: list[TaskData]
    test: list[TaskData]
    train_sets: list[Dataset]


def task_metric(spec: TaskSpec, ds: Dataset, default: str) -> str:
    """The metric of a task: its own, else the run's (classification) or RMSE (regression)."""
    classification = ds.task == "classification"
    metric = spec.metric or (default if (default in CLASS_METRICS) == classification
                             else ("accuracy" if classification else "rmse"))
    allowed = CLASS_METRICS if classification else REG_METRICS
    if metric not in allowed:
        raise DataError(f"task {spec.name!r} is {ds.task}; its metric must be one of {allowed}, got {metric!r}")
    return metric


def load_task_data(cfg: MultitaskConfig) -> dict[str, Dataset]:
    """Every task's full data set, loaded once."""
    out = {}
    for t in cfg.tasks:
        ds = load_dataset(t.data, cfg.data_root)
        ds.require_labels(2 if ds.task == "classification" else 1)
        if t.max_rows is not None and len(ds) > t.max_rows:
            strat = ds.y if ds.task == "classification" else None
            keep, _ = stratified_indices(strat, len(ds), (t.max_rows / len(ds), 1 - t.max_rows / len(ds)), 0)
            ds = ds.subset(keep, f"{ds.name}[{len(keep)} rows]")
        out[t.name] = ds
    return out


def split_tasks(cfg: MultitaskConfig, datasets: dict[str, Dataset], seed: int) -> SeedTasks:
    """Seeded stratified train/val/test split of each task; the label budget hides training labels."""
    train, val, test, sets = [], [], [], []
    for t in cfg.tasks:
        ds = datasets[t.name]
        sp = train_val_test_split(ds, val_size=cfg.val_size, test_size=cfg.test_size, seed=seed)
        tr = TaskData.from_dataset(sp.train, t.name)
        if t.budget != "all":
            idx = dataclasses.replace(sp.train, groups=np.arange(len(sp.train)))
            kept = label_budget(idx, t.budget, seed=seed).groups
            keep = np.zeros(len(sp.train), dtype=bool)
            keep[np.asarray(kept, dtype=np.int64)] = True
            tr = tr.hide_labels(keep)
        train.append(tr)
        val.append(TaskData.from_dataset(sp.val, t.name))
        test.append(TaskData.from_dataset(sp.test, t.name))
        sets.append(sp.train)
    return SeedTasks(train, val, test, sets)


def build_model(cfg: MultitaskConfig, tasks: list[TaskData], train_sets: list[Dataset], seed: int) -> MultiTaskModel:
    """A fresh shared trunk (seeded) with one head per task; input standardisation fitted on the
    training inputs of these tasks."""
    import torch

    from transferkit.backbones import create_backbone

    torch.manual_seed(seed)
    trunk = create_backbone(cfg.backbone, data=train_sets[0])
    for t, ds in zip(tasks, train_sets, strict=True):
        if ds.kind != trunk.input_kind:
            raise DataError(f"task {t.name!r} holds {ds.kind} data but the trunk {cfg.backbone!r} reads "
                            f"{trunk.input_kind} inputs: all tasks must fit one shared trunk")
        try:
            trunk.prepare(t.x[:2])
        except Exception as exc:
            raise DataError(f"task {t.name!r}: its inputs {tuple(np.shape(t.x)[1:])} do not fit the shared trunk "
                            f"{cfg.backbone!r}: {exc}") from None
    shapes = {np.shape(t.x)[1:] for t in tasks}
    if len(shapes) == 1 and tasks[0].x.dtype != object:
        trunk.fit_preprocessing(np.concatenate([t.x for t in tasks]))
    else:
        trunk.fit_preprocessing(tasks[0].x)
    spec = {t.name: t for t in cfg.tasks}
    heads = [HeadSpec(t.name, t.num_outputs, t.kind, spec[t.name].head) for t in tasks]
    return MultiTaskModel(trunk, heads)


def _score(model: MultiTaskModel, tasks: list[TaskData]) -> dict[str, dict[str, float]]:
    return {t.name: task_metrics(t, predict_task(model, t.name, t.x)) for t in tasks}


def run_multitask(config: MultitaskConfig | str | Path, on_step: Callable[[str], None] | None = None,
                  accelerator: Any = None) -> dict[str, Any]:
    """Train single-task baselines and one multi-task model per weighting for every seed, and compare.

    Returns the results dict (schema ``transferkit.results/1``) with ``sections.multitask`` (per-task
    scores, paired differences with 95% CIs, negative-transfer flags, Delta-m % per weighting),
    ``sections.multitask_metrics`` (the other metrics) and ``sections.curves``.
    """
    cfg = config if isinstance(config, MultitaskConfig) else load_config(config)
    with torch_threads(cfg.threads):
        return _run(cfg, on_step, accelerator)


def _run(cfg: MultitaskConfig, on_step: Callable[[str], None] | None, accelerator: Any) -> dict[str, Any]:
    say = on_step or (lambda m: None)
    t_start = time.perf_counter()
    datasets = load_task_data(cfg)
    names = [t.name for t in cfg.tasks]
    metric_of = {t.name: task_metric(t, datasets[t.name], cfg.metric) for t in cfg.tasks}
    arms = (["single"] if cfg.single_task else []) + [w.label for w in cfg.weightings]
    scores: dict[str, dict[str, list[dict[str, float]]]] = {a: {n: [] for n in names} for a in arms}
    curves: dict[str, Any] = {}
    weights_seen: dict[str, dict[str, float]] = {}
    timing: dict[str, float] = dict.fromkeys(arms, 0.0)
    sizes: dict[str, dict[str, int]] = {}
    fingerprint = ""
    for seed in cfg.seeds:
        st = split_tasks(cfg, datasets, seed)
        if not sizes:
            sizes = {t.name: {"train_labelled": tr.n_labelled, "train": len(tr), "val": len(va), "test": len(te)} for t,
                     tr, va, te in zip(cfg.tasks, st.train, st.val, st.test, strict=True)}
        tcfg = cfg.train_config(seed)
        if cfg.single_task:
            for i, name in enumerate(names):
                say(f"seed {seed}: single-task {name} ({st.train[i].n_labelled} labelled training rows)")
                t0 = time.perf_counter()
                model = build_model(cfg, [st.train[i]], [st.train_sets[i]], seed)
                train_multitask(model, [st.train[i]], [st.val[i]], "equal", tcfg, metric_of, accelerator)
                timing["single"] += time.perf_counter() - t0
                scores["single"][name].append(_score(model, [st.test[i]])[name])
        for w in cfg.weightings:
            say(f"seed {seed}: multi-task, weighting {w.label}")
            t0 = time.perf_counter()
            model = build_model(cfg, st.train, st.train_sets, seed)
            res: MultiTaskResult = train_multitask(model, st.train, st.val, w.create(), tcfg, metric_of, accelerator)
            timing[w.label] += time.perf_counter() - t0
            for name, m in _score(model, st.test).items():
                scores[w.label][name].append(m)
            if seed == cfg.seeds[0]:
                curves[f"multi {w.label} (seed {seed})"] = res.curve()
                weights_seen[w.label] = res.history[res.best_epoch - 1]["weights"]
                fingerprint = fingerprint or model.trunk.fingerprint()[:16]

    def per_seed(arm: str, metric: str) -> dict[str, list[float]]:
        return {n: [s[metric] for s in scores[arm][n]] for n in names}

    res_dict = new_results("multitask")
    res_dict["seeds"] = list(cfg.seeds)
    res_dict["config"] = cfg.to_dict()
    res_dict["data"] = {n: {**datasets[n].describe(), "splits": sizes[n]} for n in names}
    res_dict["models"] = {"trunk": {"spec": cfg.backbone, "fingerprint_seed0": fingerprint}}
    multi_arms = [w.label for w in cfg.weightings]
    if cfg.single_task:
        section = compare_tasks({n: [s[metric_of[n]] for s in scores["single"][n]] for n in names},
                                {a: {n: [s[metric_of[n]] for s in scores[a][n]] for n in names} for a in multi_arms},
                                metric_of)
    else:
        section = {"tasks": names, "metric": metric_of, "rows": [
            {"task": n, **{f"multi_{a}": float(np.mean([s[metric_of[n]] for s in scores[a][n]])) for a in multi_arms}}
            for n in names]}
    one = set(metric_of.values())
    section["metric"] = one.pop() if len(one) == 1 else metric_of
    section["task_weights_seed0"] = weights_seen
    section["sizes"] = sizes
    section["seconds"] = timing
    res_dict["sections"]["multitask"] = section
    other = []
    for n in names:
        kind = datasets[n].task
        for m in cfg.report_metrics:
            if (m in CLASS_METRICS) != (kind == "classification"):
                continue
            row: dict[str, Any] = {"task": n, "metric": m}
            for a in arms:
                vals = np.asarray(per_seed(a, m)[n], dtype=float)
                row["single" if a == "single" else f"multi_{a}"] = (
                    float(np.nanmean(vals)) if np.isfinite(vals).any() else None)
            other.append(row)
    res_dict["sections"]["multitask_metrics"] = other
    res_dict["sections"]["curves"] = curves
    res_dict["seconds"] = time.perf_counter() - t_start
    return res_dict
