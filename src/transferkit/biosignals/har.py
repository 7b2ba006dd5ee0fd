"""Cross-subject transfer on multichannel signals (UCI HAR by default).

Protocol (one call of :func:`run_cross_subject`):

1. Every subject's windows are normalised with its own unlabelled windows (``norm``: none,
   per-subject channel standardisation, Euclidean alignment, or both), the same way for source
   and target subjects.
2. A 1-D CNN is pre-trained on the source subjects (a stratified 10 % of their windows validate).
3. For each held-out subject, seed and ``k``: the subject's windows are split into a ``k``-shot
   train part, a small validation part and a test part (:func:`subject_few_shot_split`). Three arms
   are scored on the same test windows:

   * ``transfer``: the pre-trained CNN with its head (the label sets match), fine-tuned on the k shots;
   * ``scratch``: the same architecture from random initialisation, same data, epochs and selection;
   * ``source_only``: the pre-trained CNN as is, zero target labels.

4. Per subject and ``k`` the paired difference transfer - scratch over seeds gives a 95 % CI and
   the negative-transfer verdict; the summary counts subjects per verdict.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from transferkit.biosignals.splits import subject_few_shot_split
from transferkit.data.dataset import Dataset
from transferkit.data.signal_transforms import SIGNAL_NORMS, normalize_dataset
from transferkit.errors import DataError
from transferkit.experiments import (
    Arm,
    ArmResult,
    BudgetResult,
    Difference,
    Estimate,
    Split,
    label_efficiency_section,
    run_experiment,
)
from transferkit.experiments.arms import source_arm, trained_arm
from transferkit.training.loop import torch_threads

DEFAULT_BACKBONE = "signalcnn?width=16&num_features=64"


@dataclass(frozen=True)
class CrossSubjectConfig:
    """Settings of a cross-subject transfer run (defaults: about 10-15 CPU minutes on 2 cores)."""

    source_subjects: tuple[int, ...] = tuple(range(1, 21))
    target_subjects: tuple[int, ...] = tuple(range(21, 31))
    shots: tuple[int, ...] = (1, 5, 10, 20)
    seeds: int = 3
    norm: str = "channel"
    backbone: str = DEFAULT_BACKBONE
    source_epochs: int = 15
    target_epochs: int = 20
    patience: int = 8
    finetune_lr: float = 1e-3
    scratch_lr: float = 3e-3
    batch_size: int = 16
    test_fraction: float = 0.3
    val_per_class: int = 5
    progress: bool = False
    torch_threads: int | None = 1  # small nets: one thread per process is fastest on shared CPUs
    seed: int = 0  # base seed: the seeds are seed..seed+seeds-1, each its own few-shot split and initialisation
    workers: int = 0  # DataLoader worker processes of target training

    def __post_init__(self) -> None:
        if self.norm not in SIGNAL_NORMS:
            raise DataError(f"norm must be one of {', '.join(SIGNAL_NORMS)}, got {self.norm!r}")
        if not self.source_subjects or not self.target_subjects:
            raise DataError("need at least one source and one target subject")
        overlap = sorted(set(self.source_subjects) & set(self.target_subjects))
        if overlap:
            raise DataError(f"subjects {overlap} are both source and target: held-out subjects must be "
                            "unseen")
        if not self.shots or min(self.shots) < 1:
            raise DataError("shots must be labelled windows per class, each >= 1")
        if self.seeds < 1:
            raise DataError("seeds must be >= 1 (>= 2 for a confidence interval)")
        if not 0 <= self.seed < 2**32 or self.batch_size < 1 or self.workers < 0:
            raise DataError("need 0 <= seed < 2**32, batch_size >= 1 and workers >= 0")

    @property
    def seed_values(self) -> list[int]:
        """The seeds run: ``seed, seed + 1, ..., seed + seeds - 1``."""
        return list(range(self.seed, self.seed + self.seeds))


def _by_subject(ds: Dataset, subjects: tuple[int, ...], what: str) -> Dataset:
    if ds.groups is None:
        raise DataError(f"{ds.name}: cross-subject transfer needs subject ids in Dataset.groups")
    missing = sorted(set(subjects) - set(np.unique(ds.groups).tolist()))
    if missing:
        raise DataError(f"{what} subjects {missing} are not in {ds.name}")
    return ds.subset(np.flatnonzero(np.isin(ds.groups, subjects)), f"{ds.name}[{what}]")


def pretrain_source(source: Dataset, cfg: CrossSubjectConfig) -> tuple[Any, dict[str, Any]]:
    """Pre-train the backbone + head on the (normalised) source subjects; returns the model and a summary."""
    from transferkit.data import TransferTask
    from transferkit.experiments.compare import pretrain_source as pretrain
    from transferkit.training import TrainConfig

    task = TransferTask(target=source, test_size=0.0, val_size=0.1)
    model, res = pretrain(task, cfg.backbone, TrainConfig(epochs=cfg.source_epochs, lr=2e-3, batch_size=64,
                                                          patience=5, seed=0, progress=cfg.progress))
    return model, {"train_windows": len(task.target_splits.train), "val_windows": len(task.target_splits.val),
                   "best_epoch": res.best_epoch, "val_accuracy": res.best_score, "seconds": res.seconds}


def _arms(cfg: CrossSubjectConfig, pre: Any) -> list[Arm]:
    """Transfer (the pre-trained CNN with its head, fine-tuned), scratch (same net, random init), source-only."""
    import torch

    from transferkit.backbones import TransferModel, create_backbone
    from transferkit.training import TrainConfig

    def tcfg(lr: float) -> Any:
        return lambda seed: TrainConfig(lr=lr, epochs=cfg.target_epochs, batch_size=cfg.batch_size,
                                        patience=cfg.patience, seed=seed, progress=cfg.progress,
                                        num_workers=cfg.workers)

    def scratch(seed: int, train: Dataset) -> Any:
        torch.manual_seed(1000 + seed)
        bb = create_backbone(cfg.backbone)
        bb.fit_preprocessing(train.x)
        return TransferModel(bb, pre.num_outputs, class_names=pre.class_names)

    return [trained_arm("transfer", "pre-trained CNN, fine-tuned", "transfer", lambda seed, tr: copy.deepcopy(pre),
                        tcfg(cfg.finetune_lr)),
            trained_arm("scratch", "same CNN from scratch", "baseline", scratch, tcfg(cfg.scratch_lr)),
            source_arm(pre, "pre-trained CNN as is, zero target labels")]


def run_cross_subject(data: Dataset, cfg: CrossSubjectConfig | None = None,
                      on_step: Callable[[str], None] | None = None,
                      keep: list[tuple[int, BudgetResult, Dataset]] | None = None) -> dict[str, Any]:
    """Run the protocol on a signal :class:`Dataset` with subject ids in ``groups``.

    Returns the ``biosignals`` results section: settings, the source model, per-subject rows and
    a summary per ``k`` (mean accuracy of each arm over subjects, verdict counts). ``keep``: a list
    that receives, per target subject, its id, its result at the largest k (with the never-worse
    gate's choice and that model) and its raw (not normalised) windows: what is shipped.
    """
    cfg = cfg or CrossSubjectConfig()
    say = on_step or (lambda msg: None)
    if data.kind != "signal" or data.y is None:
        raise DataError(f"{data.name}: cross-subject transfer needs labelled signals (N, C, T)")
    with torch_threads(cfg.torch_threads):
        return _run(data, cfg, say, keep)


def _run(data: Dataset, cfg: CrossSubjectConfig, say: Callable[[str], None],
         keep: list[tuple[int, BudgetResult, Dataset]] | None = None) -> dict[str, Any]:
    t0 = time.perf_counter()
    src = normalize_dataset(_by_subject(data, cfg.source_subjects, "source"), cfg.norm)
    tgt = normalize_dataset(_by_subject(data, cfg.target_subjects, "target"), cfg.norm)
    say(f"pre-training {cfg.backbone} on {len(cfg.source_subjects)} source subjects ({len(src)} windows, "
        f"norm={cfg.norm})")
    pre, src_info = pretrain_source(src, cfg)
    say(f"source validation accuracy {src_info['val_accuracy']:.3f} (epoch {src_info['best_epoch']})")

    arms = _arms(cfg, pre)
    per_subject: list[dict[str, Any]] = []
    by_k: dict[int, list[BudgetResult]] = {k: [] for k in cfg.shots}
    for subject in cfg.target_subjects:
        sub = tgt.subset(np.flatnonzero(tgt.groups == subject), f"subject {subject}")

        def splits(k: Any, seed: int, sub: Dataset = sub) -> Split:
            parts = subject_few_shot_split(sub, k, seed, cfg.test_fraction, cfg.val_per_class)
            return Split(parts.train, parts.val, parts.test)

        exp = run_experiment(splits, arms, seeds=cfg.seed_values, budgets=cfg.shots, metric="accuracy",
                             num_outputs=pre.num_outputs)
        for b in exp.budgets:
            by_k[b.budget].append(b)
            per_subject.append(_subject_row(int(subject), len(sub), b))
        if keep is not None:
            raw = data.subset(np.flatnonzero(data.groups == subject), f"{data.name}:{subject}")
            keep.append((int(subject), max(reversed(exp.budgets), key=lambda b: b.n_labelled), raw))
        say(f"subject {subject}: " + ", ".join(
            f"k={b.budget} transfer {b.arms['transfer'].mean:.2f} scratch {b.arms['scratch'].mean:.2f} "
            f"source-only {b.arms['source_only'].mean:.2f} ({b.verdict})" for b in exp.budgets))
    summary = [_summary_row(k, rows, [r["subject"] for r in per_subject if r["k"] == k]) for k, rows in by_k.items()]
    return {
        "dataset": data.name,
        "settings": {**asdict(cfg),
                     "pretrain": {"val_size": 0.1, "lr": 2e-3, "batch_size": 64, "patience": 5},
                     "normalisation_note": "per subject, from that subject's own unlabelled windows "
                                           "(target test windows included, labels never used)"},
        "source": {"subjects": list(cfg.source_subjects), "windows": len(src), **src_info},
        "per_subject": per_subject, "summary": [row for row, _ in summary],
        "label_efficiency": label_efficiency_section([rec for _, rec in summary]), "seconds": time.perf_counter() - t0}


def _subject_row(subject: int, windows: int, b: BudgetResult) -> dict[str, Any]:
    """One held-out subject at one k: each arm per seed, transfer - scratch and transfer - source-only."""
    assert b.diff is not None
    vs = b.versus["source_only"]
    return {"subject": subject, "k": int(b.budget), "windows": windows,
            **{key: {"per_seed": list(a.scores), "mean": a.mean} for key, a in b.arms.items()},
            "diff": b.diff.estimate.to_dict(), "verdict": b.verdict,
            "vs_source_only": {**vs.estimate.to_dict(), "verdict": vs.verdict}}


def _summary_row(k: int, rows: list[BudgetResult], subjects: list[int]) -> tuple[dict[str, Any], BudgetResult]:
    """Over subjects at one k: each arm's mean over subjects, the paired difference with subjects as pairs."""
    means = {key: [r.arms[key].mean for r in rows] for key in ("transfer", "scratch", "source_only")}
    arms = {key: ArmResult(key, key, role, tuple(means[key]), {"accuracy": float(np.mean(means[key]))})
            for key, role in (("transfer", "transfer"), ("scratch", "baseline"), ("source_only", "source_only"))}
    over = Difference.paired("transfer", "scratch", means["transfer"], means["scratch"])
    rec = BudgetResult(k, f"{k} labels per class", "accuracy", True, list(subjects), arms, over,
                       n_labelled=rows[0].n_labelled if rows else 0)
    counts = {v: sum(r.verdict == v for r in rows) for v in ("positive", "inconclusive", "negative")}
    counts["no verdict"] = len(rows) - sum(counts.values())  # too few test windows, or scratch never trained
    row = {"k": int(k), "subjects": len(rows),
           **{key: {f: getattr(Estimate.of(v), f) for f in ("mean", "ci_low", "ci_high")} for key, v in means.items()},
           "diff_over_subjects": {**{f: getattr(over.estimate, f) for f in ("mean", "ci_low", "ci_high")},
                                  "verdict": over.verdict},
           "verdict_counts": counts,
           "negative_subjects": [s for s, r in zip(subjects, rows, strict=True) if r.verdict == "negative"],
           "worse_than_scratch_on_average": [s for s, r in zip(subjects, rows, strict=True)
                                             if r.diff is not None and (r.diff.estimate.mean or 0.0) < 0],
           "advice": over.advice}
    return row, rec


def label_efficiency(section: dict[str, Any]) -> dict[str, Any]:
    """Transfer vs scratch per ``k`` in the report's ``label_efficiency`` format (subjects are the pairs)."""
    return section["label_efficiency"]


def run_har(data: str | Dataset = "uci-har", cfg: CrossSubjectConfig | None = None,
            on_step: Callable[[str], None] | None = None, *, run_dir: str | Path | Callable[[], Path] | None = None,
            save: str | Path | None = None) -> dict[str, Any]:
    """What ``transferkit har`` runs: :func:`run_cross_subject` on ``data``, as a results dict.

    ``data``: a signal data set with subject ids as groups (a named set such as ``"uci-har"``, a
    path, or a ``Dataset``). The results hold the ``biosignals`` section and its label-efficiency curve.
    With ``run_dir`` (or ``save``) every held-out subject's model ships to
    ``run_dir/models/subject-<id>`` (and ``save/subject-<id>``) with that subject's normalisation
    (:mod:`~transferkit.biosignals.ship`); ``results["sections"]["shipped"]`` lists them.
    """
    from transferkit._io import new_results
    from transferkit.data import load_dataset

    cfg = cfg or CrossSubjectConfig()
    ds = load_dataset(data)
    kept: list[tuple[int, BudgetResult, Dataset]] = []
    section = run_cross_subject(ds, cfg, on_step=on_step, keep=kept)
    res = new_results("har", seeds=cfg.seed_values)
    res["config"] = section["settings"]
    res["data"] = {"dataset": ds.describe(), "source_subjects": list(cfg.source_subjects),
                   "target_subjects": list(cfg.target_subjects)}
    res["models"] = {"pretrained": {"spec": cfg.backbone, **section["source"]}}
    res["sections"]["biosignals"] = section
    res["sections"]["label_efficiency"] = label_efficiency(section)
    folder = run_dir() if callable(run_dir) else (Path(run_dir) if run_dir is not None else None)
    if folder is not None or save is not None:
        from transferkit.biosignals.ship import ship_subjects

        res["sections"]["shipped"] = ship_subjects(folder / "models" if folder is not None else Path(save), kept, cfg,
                                                   res, save=save if folder is not None else None)
    return res
