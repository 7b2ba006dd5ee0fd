"""``run_adapt``: domain adaptation between two data sets, source-only beside it, evaluated on held-out target rows.

What ``transferkit adapt`` runs, as a function: check the options, load both sides, hold out target
test rows (or take a separate test set), optionally draw a few labelled target examples for
selection and the verdict, run :func:`~transferkit.adaptation.api.adapt`, measure every model on the
test rows, and return the results dict. With a run folder every finished (seed, model) cell is
journaled (``RUN/checkpoint``) and ``on_update`` gets the results so far (so results.json and the
report follow the run, and a killed run resumes with :func:`resume_adapt`), and the recommended
model ships as ``RUN/model`` (:mod:`~transferkit.adaptation.ship`).
:func:`adaptation_section` is the ``adaptation`` section of the results dict.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from transferkit.adaptation.api import AdaptationResult, AdaptCell, adapt
from transferkit.adaptation.candidates import DEFAULT_CANDIDATES
from transferkit.adaptation.target_only import target_only_comparison
from transferkit.data import Dataset, load_dataset
from transferkit.data.splits import per_class_indices, stratified_indices
from transferkit.errors import DataArgumentError, DataError


def adaptation_section(result: AdaptationResult, rows: list[dict[str, Any]], n_target_labels: int) -> dict[str, Any]:
    """The ``results["sections"]["adaptation"]`` record of a run (``rows``: ``result.evaluate(x_test, y_test)``)."""
    v = result.verdict
    return {
        "method": result.method,
        "kind": result.kind,
        "rows": [_row(r) for r in rows],
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


def _row(r: dict[str, Any]) -> dict[str, Any]:
    return {"model": r["model"], "seed": r["seed"], "target_accuracy": r["target_accuracy"],
            "target_val_accuracy": r.get("target_val_accuracy"), "selection_scores": r["selection_scores"]}


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


def check_options(seeds: int, target_labels: int, steps: int, batch_size: int, lr: float, seed: int = 0,
                  workers: int = 0) -> None:
    """Every number of a run, before any data is loaded."""
    rules = ((isinstance(seeds, int) and seeds >= 1, f"seeds (--seeds) must be >= 1 (got {seeds})"),
             (target_labels >= 0, f"target labels per class (--target-labels) must be >= 0 (got {target_labels})"),
             (steps >= 1, f"--steps must be at least 1 (got {steps})"),
             (batch_size >= 1, f"--batch-size must be at least 1 (got {batch_size})"),
             (lr > 0, f"--lr must be positive (got {lr})"),
             (isinstance(seed, int) and 0 <= seed < 2**32, f"--seed must be in 0..2**32-1 (got {seed})"),
             (workers >= 0, f"--workers must be 0 or more (got {workers})"))
    bad = [message for ok, message in rules if not ok]
    if bad:
        raise DataArgumentError("; ".join(bad))


def split_target_labels(y: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Positions (into ``y``, the few labelled target examples) of those that train and those that select.

    Per class, a seeded random half (rounded down) trains and the rest selects and judges, so the
    two sets never overlap; a class with a single example only selects.
    """
    rng = np.random.default_rng(seed)
    train: list[int] = []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        train.extend(idx[: len(idx) // 2].tolist())
    train_idx = np.sort(np.array(train, dtype=np.int64))
    return train_idx, np.setdiff1d(np.arange(len(y)), train_idx)


def _data(source: Any, target: Any, target_test: Any, target_labels: int,
          seed: int = 0) -> tuple[Dataset, Dataset, Dataset, np.ndarray | None]:
    """Source, the target adaptation pool, the target test rows, and the pool rows of the few labelled target
    examples (drawn with the base ``seed``)."""
    src = load_dataset(source)
    tgt = load_dataset(target)
    src.require_labels(2)
    if target_test is not None:
        test = load_dataset(target_test)
        pool = tgt
    else:
        tgt.require_labels(2)
        pool_idx, test_idx = stratified_indices(tgt.y, len(tgt), (0.7, 0.3), seed)[:2]
        pool, test = tgt.subset(pool_idx, f"{tgt.name}[adapt]"), tgt.subset(test_idx, f"{tgt.name}[test]")
    test.require_labels(2)
    val = None
    if target_labels > 0:
        pool.require_labels(2)
        val = per_class_indices(pool.y, target_labels, seed=seed)  # the rows label_budget(pool, target_labels, seed) keeps
    return src, pool, test, val


def run_adapt(
    source: str | Dataset,
    target: str | Dataset,
    method: str = "dann",
    *,
    target_labels: int = 0,
    train_on_target_labels: bool = True,
    seeds: int = 3,
    seed: int = 0,
    workers: int = 0,
    target_test: str | Dataset | None = None,
    backbone: str | None = None,
    steps: int = 1000,
    batch_size: int = 64,
    lr: float = 0.01,
    run_dir: str | Path | Callable[[], Path] | None = None,
    save: str | Path | None = None,
    resume: bool = False,
    on_update: Callable[[dict[str, Any]], None] | None = None,
    on_progress: Callable[[Any], None] | None = None,
) -> dict[str, Any]:
    """Adapt from ``source`` to ``target`` with ``method``; source-only beside it, a verdict, the results dict.

    Args:
        source: labelled source data (a named set, a path or a ``Dataset``).
        target: target data; its labels are only read for the held-out test accuracy and the
            ``target_labels`` examples.
        method: an adaptation method, shallow (feature tables) or deep.
        target_labels: labelled target examples per class (0: none): for selection and the verdict,
            and (``train_on_target_labels``) for training too.
        train_on_target_labels: with ``target_labels``, split them per class (:func:`split_target_labels`,
            seeded with ``seed``): one half trains every model beside the source (semi-supervised DA), the
            other half selects and judges; off: all of them select and judge, none trains.
        seeds: how many runs: seeds ``seed, seed + 1, ..., seed + seeds - 1`` (each its own source split and
            initialisation).
        seed: the base seed; it also draws the held-out target rows and the ``target_labels`` examples
            (0: the run of earlier versions).
        workers: DataLoader worker processes of the frozen-encoder feature extraction (shallow methods on
            raw images or text); no effect on the figures.
        target_test: a separate labelled target test set (default: a stratified 30 % of ``target``).
        backbone, steps, batch_size, lr: deep methods only.
        run_dir: the run folder (or a function that makes it, called once the options and data are
            checked): cells are journaled in ``run_dir/checkpoint`` and the recommended model ships to
            ``run_dir/model``.
        save: also copy the shipped model folder here.
        resume: continue the run in ``run_dir`` (finished cells are read back, not fitted again).
        on_update: called with the results so far after every cell (and once more, marked
            interrupted, on Ctrl-C).
        on_progress: called after every cell with a :class:`~transferkit.experiments.fit.RunProgress`.
    """
    from transferkit._io import new_results
    from transferkit.adaptation.deep import DeepConfig
    from transferkit.experiments.progress import CellClock, status

    check_options(seeds, target_labels, steps, batch_size, lr, seed, workers)
    src, pool, test, labelled_rows = _data(source, target, target_test, target_labels, seed)
    val, train, use = _target_label_parts(pool, labelled_rows, train_on_target_labels, seed)
    y_test = source_labels(test, src)
    folder = run_dir() if callable(run_dir) else (Path(run_dir) if run_dir is not None else None)
    settings = _settings(source, target, method, target_labels, seeds, target_test, backbone, steps, batch_size, lr,
                         save, seed)
    if settings is not None:
        settings["train_on_target_labels"] = train_on_target_labels
    seed_values = list(range(seed, seed + seeds))
    journal = _journal(folder, resume, settings, {"source": src.fingerprint(), "target": pool.fingerprint(),
                                                  "target_test": test.fingerprint()})
    results = new_results("adapt", seeds=seed_values, data={
        "source": src.describe(), "target": pool.describe(), "target_test": test.describe(),
        "target_val": None if val is None else val.describe(),
        "target_train": None if train is None else train.describe()})
    results["config"] = {k: v for k, v in settings.items() if k != "save"} if settings else {"seed": seed}
    clock = CellClock(seeds * (1 + (len(DEFAULT_CANDIDATES) if method == "auto" else 1)))
    hint = f"transferkit adapt --resume {folder}" if folder else ""
    done_rows: list[dict[str, Any]] = []
    latest: list[dict[str, Any]] = []  # the last results written (replaced in one step: Ctrl-C never sees it empty)

    def cell(c: AdaptCell) -> None:
        acc = float(np.mean(c.proba(test.x).argmax(1) == y_test))  # same figure evaluate() gives at the end
        done_rows.append({**c.row, "target_accuracy": acc})
        p = clock.tick(f"{c.model_name}, seed {c.seed}", c.restored)
        if on_progress is not None:
            on_progress(p)
        if on_update is not None:
            res = copy.deepcopy(results)
            res["sections"]["adaptation"] = {"method": method, "rows": [_row(r) for r in done_rows],
                                             "verdict": "", "advice": "the verdict comes once every cell is done"}
            res["status"] = status(clock.done, clock.total, hint)
            latest[:] = [res]
            on_update(res)

    try:
        result = adapt(src, pool.x, method, target_val=None if val is None else (val.x, source_labels(val, src)),
                       target_train=None if train is None else (train.x, source_labels(train, src)),
                       seeds=seed_values, backbone=backbone, workers=workers,
                       deep_config=DeepConfig(steps=steps, batch_size=batch_size, lr=lr), journal=journal,
                       on_cell=cell)
    except KeyboardInterrupt:
        if on_update is not None and latest:
            on_update({**latest[0], "status": {**latest[0]["status"], "state": "interrupted (Ctrl-C)"}})
        raise
    rows = result.evaluate(test.x, y_test)  # target test labels: read only to evaluate, after every choice
    results["sections"]["adaptation"] = adaptation_section(result, rows, target_labels)
    if labelled_rows is not None:  # the few labels on their own (all of them): is adapting worth more?
        results["sections"]["adaptation"]["target_labels_use"] = use
        every = pool.subset(labelled_rows)
        results["sections"]["adaptation"]["target_only"] = target_only_comparison(
            result, (every.x, source_labels(every, src)), test.x, y_test)
    if folder is not None or save is not None:
        from transferkit.adaptation.ship import ship_adapted

        ship_adapted(folder / "model" if folder is not None else Path(save), result, rows, src, pool, results,
                     save=save)
    return results


def _target_label_parts(pool: Dataset, rows: np.ndarray | None, train_on: bool,
                        seed: int = 0) -> tuple[Dataset | None, Dataset | None, dict[str, Any] | None]:
    """The labelled target examples that select and judge, those that train (None: none), and the record of
    the split for results.json (``rows``: their pool positions)."""
    if rows is None:
        return None, None, None
    train_pos, select_pos = split_target_labels(pool.y[rows], seed=seed) if train_on else (np.array([], int), None)
    select_rows = rows if select_pos is None else rows[select_pos]
    train_rows = rows[train_pos]
    record = {
        "train_on_target_labels": bool(train_on and len(train_rows) > 0),
        "train_rows": train_rows.tolist(), "select_rows": select_rows.tolist(),
        "split": f"per class, a seeded (seed {seed}) random half rounded down trains, the rest selects and judges; "
                 "the two never overlap" if train_on else "off: every labelled example selects and judges",
        "training": "every model, source-only included, trains on the train half beside the source (deep: its "
                    "cross-entropy, weight 1, joins the loss; shallow: its rows join the classifier's, each "
                    "weighing 0.5 x source rows / labelled rows, at least 1)" if train_on else "none",
        "target_only": "trained on every labelled example (both halves), compared on the test rows only",
    }
    if train_on and len(train_rows) == 0:
        record["why_not_trained"] = "one labelled example per class: all of them select (use --target-labels 2 or more)"
    train = pool.subset(train_rows, f"{pool.name}[target-train]") if len(train_rows) else None
    return pool.subset(select_rows, f"{pool.name}[target-select]"), train, record


def _settings(source: Any, target: Any, method: str, target_labels: int, seeds: int, target_test: Any,
              backbone: Any, steps: int, batch_size: int, lr: float, save: Any, seed: int = 0) -> dict[str, Any] | None:
    """The arguments that decide a run's figures, as JSON (None when data were given as objects)."""
    if any(d is not None and not isinstance(d, str) for d in (source, target, target_test)) or not (
            backbone is None or isinstance(backbone, str)):
        return None
    return {"source": source, "target": target, "method": method, "target_labels": target_labels, "seeds": seeds,
            "target_test": target_test, "backbone": backbone, "steps": steps, "batch_size": batch_size, "lr": lr,
            "save": str(save) if save is not None else None, "seed": seed}


def _journal(folder: Path | None, resume: bool, settings: dict[str, Any] | None, fingerprints: dict[str, str]) -> Any:
    from transferkit.experiments.journal import RunJournal

    if folder is None:
        return None
    journal = RunJournal(folder)
    if resume:
        journal.check_fingerprints(fingerprints, "adapt")
    else:
        journal.start("adapt", settings or {}, fingerprints)
    return journal


def resume_adapt(run_dir: str | Path, seed: int | None = None, workers: int = 0, **callbacks: Any) -> dict[str, Any]:
    """Continue the adapt run in ``run_dir`` where it stopped, with the settings it was started with.

    ``callbacks``: ``on_update`` and ``on_progress`` as in :func:`run_adapt`. The figures equal an
    uninterrupted run's. ``seed``: the base seed the caller asked for (None: any); another seed than
    the run's is refused. ``workers`` does not change the figures.
    """
    from transferkit.experiments.journal import ResumeError, RunJournal, check_resume_seed

    settings = RunJournal.read_settings(run_dir, "adapt")["settings"]
    if not settings:
        raise ResumeError(f"{run_dir} cannot be resumed: its data were given as Dataset objects, not names or paths")
    check_resume_seed(run_dir, "adapt", settings.get("seed", 0), seed)
    settings.setdefault("train_on_target_labels", False)  # runs started before the option trained on none
    return run_adapt(**settings, run_dir=Path(run_dir), resume=True, workers=workers, **callbacks)


__all__ = ["adaptation_section", "check_options", "resume_adapt", "run_adapt", "source_labels", "split_target_labels"]
