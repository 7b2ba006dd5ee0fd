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
from transferkit.multitask.config import (
    CLASS_METRICS,
    REG_METRICS,
    MultitaskConfig,
    TaskSpec,
    config_from_dict,
    load_config,
)
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
                  accelerator: Any = None, *, run_dir: str | Path | Callable[[], Path] | None = None,
                  save: str | Path | None = None, resume: bool = False,
                  on_update: Callable[[dict[str, Any]], None] | None = None,
                  on_progress: Callable[[Any], None] | None = None) -> dict[str, Any]:
    """Train single-task baselines and one multi-task model per weighting for every seed, and compare.

    Returns the results dict (schema ``transferkit.results/1``) with ``sections.multitask`` (per-task
    scores, paired differences with 95% CIs, negative-transfer flags, Delta-m % per weighting),
    ``sections.multitask_metrics`` (the other metrics) and ``sections.curves``.

    With ``run_dir`` (a folder, or a function that makes it once the data are loaded) every finished
    (seed, arm) cell is journaled in ``run_dir/checkpoint`` (its scores, and the best-validation model
    of each weighting so far), ``on_update`` gets the results so far after each cell, and the
    multi-task model of the weighting with the best mean validation score ships to ``run_dir/model``
    (and ``save``) as a trunk with a head per task (:mod:`~transferkit.multitask.ship`). ``resume``
    continues the run in ``run_dir`` (:func:`resume_multitask`); every cell is seeded by its own seed,
    so a resumed run ends with the figures of an uninterrupted one. ``on_progress`` gets a
    :class:`~transferkit.experiments.fit.RunProgress` after every cell.
    """
    cfg = config if isinstance(config, MultitaskConfig) else load_config(config)
    with torch_threads(cfg.threads):
        return _run(cfg, on_step, accelerator, _Live(run_dir, save, resume, on_update, on_progress))


@dataclasses.dataclass
class _Live:
    """Where a run writes while it runs: its folder and journal, and whom it tells after each cell."""

    run_dir: Any = None
    save: Any = None
    resume: bool = False
    on_update: Callable[[dict[str, Any]], None] | None = None
    on_progress: Callable[[Any], None] | None = None
    folder: Path | None = None
    journal: Any = None

    def open(self, cfg: MultitaskConfig, datasets: dict[str, Dataset]) -> None:
        """Make (or reopen) the run folder and its journal; refuse to resume on other data."""
        from transferkit.experiments.journal import RunJournal

        rd = self.run_dir
        self.folder = rd() if callable(rd) else (Path(rd) if rd is not None else None)
        if self.folder is None:
            return
        self.journal = RunJournal(self.folder)
        prints = {n: d.fingerprint() for n, d in datasets.items()}
        if self.resume:
            self.journal.check_fingerprints(prints, "multitask")
        else:
            self.journal.start("multitask", {"config": cfg.to_dict(), "data_root": cfg.data_root,
                                             "save": str(self.save) if self.save is not None else None}, prints)


@dataclasses.dataclass
class _Cells:
    """Every arm's scores so far, and the best-validation model of each weighting (what ships)."""

    names: list[str]
    arms: list[str]
    scores: dict[str, dict[str, list[dict[str, float]]]]
    timing: dict[str, float]
    curves: dict[str, Any] = dataclasses.field(default_factory=dict)
    weights_seen: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    fingerprint: str = ""
    val: dict[str, list[float]] = dataclasses.field(default_factory=dict)  # weighting -> best val score per seed
    best: dict[str, tuple[float, Any, int]] = dataclasses.field(default_factory=dict)  # (val, (trunk, heads), seed)

    def add(self, arm: str, rec: dict[str, Any]) -> None:
        """One finished cell's record."""
        for n, m in rec["scores"].items():
            self.scores[arm][n].append(m)
        self.timing[arm] += float(rec["seconds"])


def _cell(live: _Live, key: str, fit: Callable[[], tuple[dict[str, Any], Any]]) -> tuple[dict[str, Any], Any, bool]:
    """A cell's record and model: read back from the journal, or fitted and journaled (model first)."""
    rec = live.journal.record(key) if live.journal is not None else None
    if rec is not None:
        return rec, None, True
    rec, model = fit()
    if live.journal is not None:
        live.journal.put_record(key, rec)
    return rec, model, False


def _run(cfg: MultitaskConfig, on_step: Callable[[str], None] | None, accelerator: Any, live: _Live) -> dict[str, Any]:
    from transferkit.experiments.progress import CellClock, status

    say = on_step or (lambda m: None)
    t_start = time.perf_counter()
    datasets = load_task_data(cfg)
    names = [t.name for t in cfg.tasks]
    metric_of = {t.name: task_metric(t, datasets[t.name], cfg.metric) for t in cfg.tasks}
    live.open(cfg, datasets)
    arms = (["single"] if cfg.single_task else []) + [w.label for w in cfg.weightings]
    cells = _Cells(names, arms, {a: {n: [] for n in names} for a in arms}, dict.fromkeys(arms, 0.0))
    sizes = _sizes(cfg, split_tasks(cfg, datasets, cfg.seeds[0]))
    clock = CellClock(len(cfg.seeds) * ((len(names) if cfg.single_task else 0) + len(cfg.weightings)))
    hint = f"transferkit multitask --resume {live.folder}" if live.folder else ""
    latest: list[dict[str, Any]] = []  # the last results written (replaced in one step: Ctrl-C never sees it empty)

    def done(what: str, restored: bool) -> None:
        p = clock.tick(what, restored)
        if live.on_progress is not None:
            live.on_progress(p)
        if live.on_update is not None:
            res = _results(cfg, datasets, cells, metric_of, sizes, t_start, partial=True)
            res["status"] = status(clock.done, clock.total, hint)
            latest[:] = [res]
            live.on_update(res)

    try:
        for seed in cfg.seeds:
            _seed_cells(cfg, datasets, seed, metric_of, accelerator, live, cells, say, done)
    except KeyboardInterrupt:
        if live.on_update is not None and latest:
            live.on_update({**latest[0], "status": {**latest[0]["status"], "state": "interrupted (Ctrl-C)"}})
        raise
    res = _results(cfg, datasets, cells, metric_of, sizes, t_start, partial=False)
    if live.folder is not None or live.save is not None:
        from transferkit.multitask.ship import ship_multitask

        ship_multitask(live.folder / "model" if live.folder is not None else Path(live.save), cfg, datasets, cells,
                       res, live.journal, save=live.save)
    return res


def _sizes(cfg: MultitaskConfig, st: SeedTasks) -> dict[str, dict[str, int]]:
    return {t.name: {"train_labelled": tr.n_labelled, "train": len(tr), "val": len(va), "test": len(te)}
            for t, tr, va, te in zip(cfg.tasks, st.train, st.val, st.test, strict=True)}


def _seed_cells(cfg: MultitaskConfig, datasets: dict[str, Dataset], seed: int, metric_of: dict[str, str],
                accelerator: Any, live: _Live, cells: _Cells, say: Callable[[str], None],
                done: Callable[[str, bool], None]) -> None:
    """One seed: every single-task baseline, then one multi-task model per weighting (each a journaled cell)."""
    names = cells.names
    split: list[SeedTasks] = []

    def st() -> SeedTasks:  # the seed's split, made once and only when a cell of it is fitted
        if not split:
            split.append(split_tasks(cfg, datasets, seed))
        return split[0]

    tcfg = cfg.train_config(seed)
    for i, name in enumerate(names if cfg.single_task else []):
        def fit_single(i: int = i, name: str = name) -> tuple[dict[str, Any], Any]:
            s = st()
            say(f"seed {seed}: single-task {name} ({s.train[i].n_labelled} labelled training rows)")
            t0 = time.perf_counter()
            model = build_model(cfg, [s.train[i]], [s.train_sets[i]], seed)
            train_multitask(model, [s.train[i]], [s.val[i]], "equal", tcfg, metric_of, accelerator)
            return {"scores": _score(model, [s.test[i]]), "seconds": time.perf_counter() - t0}, None

        rec, _, restored = _cell(live, f"seed={seed}|arm=single:{name}", fit_single)
        cells.add("single", rec)
        done(f"single-task {name}, seed {seed}", restored)
    for w in cfg.weightings:
        def fit_multi(w: Any = w) -> tuple[dict[str, Any], Any]:
            s = st()
            say(f"seed {seed}: multi-task, weighting {w.label}")
            t0 = time.perf_counter()
            model = build_model(cfg, s.train, s.train_sets, seed)
            res: MultiTaskResult = train_multitask(model, s.train, s.val, w.create(), tcfg, metric_of, accelerator)
            rec = {"scores": _score(model, s.test), "seconds": time.perf_counter() - t0,
                   "val_score": float(res.best_score), "curve": res.curve(),
                   "weights": res.history[res.best_epoch - 1]["weights"], "fingerprint": model.trunk.fingerprint()[:16]}
            _keep_best(live, cells, w.label, rec["val_score"], model, seed)
            return rec, model

        rec, _, restored = _cell(live, f"seed={seed}|arm=multi:{w.label}", fit_multi)
        if restored:
            _keep_best(live, cells, w.label, rec["val_score"], None, seed)
        cells.add(w.label, rec)
        cells.val.setdefault(w.label, []).append(float(rec["val_score"]))
        if seed == cfg.seeds[0]:
            cells.curves[f"multi {w.label} (seed {seed})"] = rec["curve"]
            cells.weights_seen[w.label] = rec["weights"]
            cells.fingerprint = cells.fingerprint or rec["fingerprint"]
        done(f"multi-task {w.label}, seed {seed}", restored)


def _keep_best(live: _Live, cells: _Cells, label: str, val: float, model: Any, seed: int) -> None:
    """Keep the weighting's best-validation model so far (the first seed wins ties); journal a new best."""
    v = val if np.isfinite(val) else -np.inf
    if label in cells.best and not v > cells.best[label][0]:
        return
    cells.best[label] = (v, (model.trunk, dict(model.heads.items())) if model is not None else None, seed)
    if model is not None and live.journal is not None:
        live.journal.put_model(f"best|arm=multi:{label}", model)


def _results(cfg: MultitaskConfig, datasets: dict[str, Dataset], cells: _Cells, metric_of: dict[str, str],
             sizes: dict[str, dict[str, int]], t_start: float, partial: bool) -> dict[str, Any]:
    """The results dict of the cells so far (``partial``: means only; the comparison needs every seed)."""
    names, arms, scores = cells.names, cells.arms, cells.scores

    def per_seed(arm: str, metric: str) -> dict[str, list[float]]:
        return {n: [s[metric] for s in scores[arm][n]] for n in names}

    def mean(arm: str, n: str) -> float | None:
        vals = [s[metric_of[n]] for s in scores[arm][n]]
        return float(np.mean(vals)) if vals else None

    res_dict = new_results("multitask")
    res_dict["seeds"] = list(cfg.seeds)
    res_dict["config"] = {**cfg.to_dict(), "seed": cfg.seeds[0]}  # the base seed: the first of the seeds
    res_dict["data"] = {n: {**datasets[n].describe(), "splits": sizes[n]} for n in names}
    res_dict["models"] = {"trunk": {"spec": cfg.backbone, "fingerprint_seed0": cells.fingerprint}}
    multi_arms = [w.label for w in cfg.weightings]
    if cfg.single_task and not partial:
        section = compare_tasks({n: [s[metric_of[n]] for s in scores["single"][n]] for n in names},
                                {a: {n: [s[metric_of[n]] for s in scores[a][n]] for n in names} for a in multi_arms},
                                metric_of)
    else:
        section = {"tasks": names, "metric": metric_of, "rows": [
            {"task": n, **({"single": mean("single", n)} if cfg.single_task else {}),
             **{f"multi_{a}": mean(a, n) for a in multi_arms}} for n in names]}
    one = set(metric_of.values())
    section["metric"] = one.pop() if len(one) == 1 else metric_of
    section["task_weights_seed0"] = cells.weights_seen
    section["sizes"] = sizes
    section["seconds"] = cells.timing
    section["validation"] = {a: cells.val.get(a, []) for a in multi_arms}
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
                    float(np.nanmean(vals)) if vals.size and np.isfinite(vals).any() else None)
            other.append(row)
    res_dict["sections"]["multitask_metrics"] = other
    res_dict["sections"]["curves"] = cells.curves
    res_dict["seconds"] = time.perf_counter() - t_start
    return res_dict


def resume_multitask(run_dir: str | Path, on_step: Callable[[str], None] | None = None, accelerator: Any = None,
                     seed: int | None = None, **callbacks: Any) -> dict[str, Any]:
    """Continue the multitask run in ``run_dir`` where it stopped, with the config it was started with.

    ``callbacks``: ``on_update`` and ``on_progress`` as in :func:`run_multitask`. The figures equal an
    uninterrupted run's. ``seed``: the base seed the caller asked for (None: any); a run whose first
    seed differs is refused.
    """
    from transferkit.experiments.journal import RunJournal, check_resume_seed

    settings = RunJournal.read_settings(run_dir, "multitask")["settings"]
    cfg = config_from_dict({**settings["config"], "data_root": settings.get("data_root")})
    check_resume_seed(run_dir, "multitask", cfg.seeds[0], seed)
    return run_multitask(cfg, on_step, accelerator, run_dir=Path(run_dir), save=settings.get("save"), resume=True,
                         **callbacks)
