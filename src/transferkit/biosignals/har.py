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
from typing import Any

import numpy as np

from transferkit.biosignals.splits import subject_few_shot_split
from transferkit.data.dataset import Dataset
from transferkit.data.signal_transforms import SIGNAL_NORMS, normalize_dataset
from transferkit.errors import DataError

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


def _by_subject(ds: Dataset, subjects: tuple[int, ...], what: str) -> Dataset:
    if ds.groups is None:
        raise DataError(f"{ds.name}: cross-subject transfer needs subject ids in Dataset.groups")
    missing = sorted(set(subjects) - set(np.unique(ds.groups).tolist()))
    if missing:
        raise DataError(f"{what} subjects {missing} are not in {ds.name}")
    return ds.subset(np.flatnonzero(np.isin(ds.groups, subjects)), f"{ds.name}[{what}]")


def _accuracy(model: Any, ds: Dataset) -> float:
    from transferkit.training import predict

    return float(np.mean(predict(model, ds).argmax(1) == ds.y))


def pretrain_source(source: Dataset, cfg: CrossSubjectConfig) -> tuple[Any, dict[str, Any]]:
    """Pre-train the backbone + head on the (normalised) source subjects; returns the model and a summary."""
    import torch

    from transferkit.backbones import create_backbone
    from transferkit.data.splits import train_val_test_split
    from transferkit.training import TrainConfig, TransferModel, train

    parts = train_val_test_split(source, val_size=0.1, test_size=0.0, seed=0)
    torch.manual_seed(0)
    backbone = create_backbone(cfg.backbone)
    backbone.fit_preprocessing(parts.train.x)
    model = TransferModel(backbone, len(source.class_names or ()), class_names=source.class_names)
    res = train(model, parts.train, parts.val, TrainConfig(epochs=cfg.source_epochs, lr=2e-3, batch_size=64,
                                                           patience=5, seed=0, progress=cfg.progress))
    return model, {"train_windows": len(parts.train), "val_windows": len(parts.val),
                   "best_epoch": res.best_epoch, "val_accuracy": res.best_score, "seconds": res.seconds}


def _fit_target(cfg: CrossSubjectConfig, pre: Any, train_ds: Dataset, val_ds: Dataset,
                seed: int) -> tuple[Any, Any]:
    """Fine-tune a copy of ``pre`` and train the same architecture from scratch; same data and epochs."""
    import torch

    from transferkit.backbones import create_backbone
    from transferkit.training import TrainConfig, TransferModel, train

    base = dict(epochs=cfg.target_epochs, batch_size=cfg.batch_size, patience=cfg.patience, seed=seed,
                progress=cfg.progress)
    tm = copy.deepcopy(pre)
    train(tm, train_ds, val_ds, TrainConfig(lr=cfg.finetune_lr, **base))
    torch.manual_seed(1000 + seed)
    bb = create_backbone(cfg.backbone)
    bb.fit_preprocessing(train_ds.x)
    sm = TransferModel(bb, pre.num_outputs, class_names=pre.class_names)
    train(sm, train_ds, val_ds, TrainConfig(lr=cfg.scratch_lr, **base))
    return tm, sm


def run_cross_subject(data: Dataset, cfg: CrossSubjectConfig | None = None,
                      on_step: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the protocol on a signal :class:`Dataset` with subject ids in ``groups``.

    Returns the ``biosignals`` results section: settings, the source model, per-subject rows and
    a summary per ``k`` (mean accuracy of each arm over subjects, verdict counts).
    """
    cfg = cfg or CrossSubjectConfig()
    say = on_step or (lambda msg: None)
    if data.kind != "signal" or data.y is None:
        raise DataError(f"{data.name}: cross-subject transfer needs labelled signals (N, C, T)")
    import torch

    threads = torch.get_num_threads()
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    try:
        return _run(data, cfg, say)
    finally:
        torch.set_num_threads(threads)


def _run(data: Dataset, cfg: CrossSubjectConfig, say: Callable[[str], None]) -> dict[str, Any]:
    from transferkit.evaluation import VERDICT_ADVICE, mean_ci, paired_difference

    t0 = time.perf_counter()
    src = normalize_dataset(_by_subject(data, cfg.source_subjects, "source"), cfg.norm)
    tgt = normalize_dataset(_by_subject(data, cfg.target_subjects, "target"), cfg.norm)
    say(f"pre-training {cfg.backbone} on {len(cfg.source_subjects)} source subjects ({len(src)} windows, "
        f"norm={cfg.norm})")
    pre, src_info = pretrain_source(src, cfg)
    say(f"source validation accuracy {src_info['val_accuracy']:.3f} (epoch {src_info['best_epoch']})")

    per_subject: list[dict[str, Any]] = []
    for subject in cfg.target_subjects:
        sub = tgt.subset(np.flatnonzero(tgt.groups == subject), f"subject {subject}")
        acc: dict[int, dict[str, list[float]]] = {k: {"transfer": [], "scratch": [], "source_only": []}
                                                   for k in cfg.shots}
        for seed in range(cfg.seeds):
            for k in cfg.shots:
                parts = subject_few_shot_split(sub, k, seed, cfg.test_fraction, cfg.val_per_class)
                tm, sm = _fit_target(cfg, pre, parts.train, parts.val, seed)
                acc[k]["transfer"].append(_accuracy(tm, parts.test))
                acc[k]["scratch"].append(_accuracy(sm, parts.test))
                acc[k]["source_only"].append(_accuracy(pre, parts.test))
        for k in cfg.shots:
            a = acc[k]
            d = paired_difference(a["transfer"], a["scratch"])
            vs_src = paired_difference(a["transfer"], a["source_only"])
            per_subject.append({
                "subject": int(subject), "k": int(k), "windows": len(sub),
                **{arm: {"per_seed": v, "mean": float(np.mean(v))} for arm, v in a.items()},
                "diff": {"mean": d.mean, "ci_low": d.ci_low, "ci_high": d.ci_high,
                         "per_seed": list(d.per_seed)},
                "verdict": d.verdict,
                "vs_source_only": {"mean": vs_src.mean, "ci_low": vs_src.ci_low, "ci_high": vs_src.ci_high,
                                   "verdict": vs_src.verdict},
            })
        row = [r for r in per_subject if r["subject"] == subject]
        say(f"subject {subject}: " + ", ".join(
            f"k={r['k']} transfer {r['transfer']['mean']:.2f} scratch {r['scratch']['mean']:.2f} "
            f"source-only {r['source_only']['mean']:.2f} ({r['verdict']})" for r in row))

    summary: list[dict[str, Any]] = []
    for k in cfg.shots:
        rows = [r for r in per_subject if r["k"] == k]
        means = {arm: [r[arm]["mean"] for r in rows] for arm in ("transfer", "scratch", "source_only")}
        over = paired_difference(means["transfer"], means["scratch"])
        counts = {v: sum(r["verdict"] == v for r in rows) for v in ("positive", "inconclusive", "negative")}
        summary.append({
            "k": int(k), "subjects": len(rows),
            **{arm: {"mean": mean_ci(v)[0], "ci_low": mean_ci(v)[1], "ci_high": mean_ci(v)[2]}
               for arm, v in means.items()},
            "diff_over_subjects": {"mean": over.mean, "ci_low": over.ci_low, "ci_high": over.ci_high,
                                   "verdict": over.verdict},
            "verdict_counts": counts,
            "negative_subjects": [r["subject"] for r in rows if r["verdict"] == "negative"],
            "worse_than_scratch_on_average": [r["subject"] for r in rows if r["diff"]["mean"] < 0],
            "advice": VERDICT_ADVICE[over.verdict],
        })
    return {
        "dataset": data.name,
        "settings": {**asdict(cfg),
                     "pretrain": {"val_size": 0.1, "lr": 2e-3, "batch_size": 64, "patience": 5},
                     "normalisation_note": "per subject, from that subject's own unlabelled windows "
                                           "(target test windows included, labels never used)"},
        "source": {"subjects": list(cfg.source_subjects), "windows": len(src), **src_info},
        "per_subject": per_subject,
        "summary": summary,
        "seconds": time.perf_counter() - t0,
    }


def label_efficiency(section: dict[str, Any]) -> dict[str, Any]:
    """Transfer vs scratch per ``k`` in the report's ``label_efficiency`` format (subjects are the pairs)."""
    from transferkit.demo import label_efficiency_section

    per_budget = []
    for s in section["summary"]:
        rows = [r for r in section["per_subject"] if r["k"] == s["k"]]
        d = s["diff_over_subjects"]
        per_budget.append({"metric": "accuracy", "budget": s["k"], "verdict": d["verdict"],
                           "transfer": {"per_seed": [r["transfer"]["mean"] for r in rows]},
                           "scratch": {"per_seed": [r["scratch"]["mean"] for r in rows]},
                           "diff": {k: d[k] for k in ("mean", "ci_low", "ci_high")}})
    return label_efficiency_section(per_budget)
