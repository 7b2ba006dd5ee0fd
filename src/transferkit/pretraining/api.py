"""``pretrain``: train a backbone on a source data set and save it as a zoo entry."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from transferkit._io import atomic_write_text
from transferkit.backbones import Backbone, create_backbone
from transferkit.backbones.zoo import check_name, save_entry
from transferkit.data.dataset import Dataset
from transferkit.data.splits import stratified_indices, train_val_test_split
from transferkit.errors import DataArgumentError, DataError, TransferkitError
from transferkit.pretraining._info import OBJECTIVES, ObjectiveRun, PretrainSettings


@dataclass
class PretrainResult:
    """Where the entry was written, its card, and the training history."""

    entry: Path
    card: dict[str, Any]
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, Any]:
        """The source metrics on the card."""
        return self.card["metrics"]


def default_zoo_dir() -> Path:
    """Where new entries go without ``zoo_dir``: the first ``$TRANSFERKIT_ZOO`` folder, else ``./zoo``."""
    env = [p for p in os.environ.get("TRANSFERKIT_ZOO", "").split(os.pathsep) if p.strip()]
    return Path(env[0]) if env else Path("zoo")


def subsample(ds: Dataset, max_samples: int | None, seed: int) -> tuple[Dataset, str | None]:
    """A class-stratified random subset of ``max_samples`` rows (and a sentence saying so)."""
    if max_samples is None or max_samples >= len(ds):
        return ds, None
    if max_samples < 10:
        raise DataArgumentError("max_samples must be at least 10")
    strat = ds.y is not None and ds.task == "classification"
    frac = max_samples / len(ds)
    (idx, _) = stratified_indices(ds.y if strat else None, len(ds), (frac, 1 - frac), seed, strat)
    note = f"class-stratified random subset of {len(idx)} of {len(ds)} examples (seed {seed})"
    return ds.subset(idx, ds.name), note


def pretrain(backbone: str | Backbone, source: str | Dataset, objective: str = "supervised", *, name: str,
             zoo_dir: str | os.PathLike[str] | None = None, epochs: int = 10, batch_size: int = 64, lr: float = 1e-3,
             weight_decay: float = 1e-4, seed: int = 0, max_samples: int | None = None, val_size: float = 0.1,
             test_size: float = 0.1, resume: bool = True, progress: bool = True, description: str = "",
             rebuild: str | None = None, overwrite: bool = True, workers: int = 0,
             **objective_settings: Any) -> PretrainResult:
    """Pre-train ``backbone`` (a spec such as ``smallcnn?width=16`` or a Backbone) on ``source``.

    The source (a named data set spec or a :class:`Dataset`) is optionally subsampled to
    ``max_samples`` (stratified, seeded), then split train/val/test (stratified, seeded). Data-
    dependent preprocessing (table/signal standardisation) is fitted on the training part and
    saved with the weights. ``objective`` is ``supervised`` (labels), ``simclr`` or ``denoise``
    (labels unused; if present they only give a linear-probe source metric).

    The entry ``<zoo_dir>/<name>/`` gets ``model.safetensors`` and ``card.json``. Checkpoints go
    to ``<zoo_dir>/.partial-<name>/`` after every epoch; with ``resume`` an interrupted run with
    the same settings continues from there (different settings are refused). ``rebuild`` is the
    command that reproduces the entry (written on the card). ``workers``: DataLoader worker processes
    preparing batches (the supervised objective; the self-supervised ones draw their own batches).
    """
    from transferkit.data import load_dataset

    check_name(name)
    entry = OBJECTIVES.entry(objective)
    settings = PretrainSettings(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay, seed=seed,
                                progress=progress, **objective_settings)
    spec = source if isinstance(source, str) else None
    full = load_dataset(source)
    if entry.info.needs_labels and full.y is None:
        unlabelled = " or ".join(n for n in OBJECTIVES.names() if not OBJECTIVES.info(n).needs_labels)
        raise DataError(f"{objective} pre-training needs labels, but {full.name!r} has none: "
                        f"use --objective {unlabelled} for unlabelled sources")
    ds, sub_note = subsample(full, max_samples, seed)
    splits = train_val_test_split(ds, val_size=val_size, test_size=test_size, seed=seed,
                                  stratify=ds.y is not None and ds.task == "classification")
    torch.manual_seed(seed)  # the initial weights are part of what the seed reproduces
    bb = create_backbone(backbone, data=ds) if isinstance(backbone, str) else backbone
    if bb.input_kind != ds.kind:
        raise DataError(f"backbone {bb.spec!r} reads {bb.input_kind} inputs but {ds.name!r} is {ds.kind} data")
    bb.fit_preprocessing(splits.train.x)

    zoo = Path(zoo_dir) if zoo_dir is not None else default_zoo_dir()
    partial = zoo / f".partial-{name}"
    run_key = {"backbone": bb.config(), "source": ds.fingerprint(), "objective": entry.name,
               "settings": {k: v for k, v in asdict(settings).items() if k != "progress"},
               "splits": [val_size, test_size], "max_samples": max_samples}
    _prepare_partial(partial, run_key, resume)
    result = entry.obj(ObjectiveRun(bb, splits.train, splits.val, splits.test, settings, partial / "checkpoints",
                                    resume, workers))

    card_fields = {
        "description": description or f"{bb.spec} pre-trained on {ds.name} ({entry.name})",
        "objective": entry.name,
        "source": {"dataset": full.name, "spec": spec, "kind": ds.kind, "domain": ds.domain,
                   "fingerprint": ds.fingerprint(), "n_used": len(ds), "n_available": len(full), "subsample": sub_note,
                   "splits": splits.sizes(),
                   "split_rule": f"stratified train/val/test {1 - val_size - test_size:g}/{val_size:g}/{test_size:g}, "
                                 f"seed {seed}"},
        "training": {"settings": asdict(settings), "objective": entry.info.description, **result.details,
                     "best_epoch": result.metrics.get("best_epoch"), "resumed": result.resumed,
                     "history": [{k: round(v, 5) for k, v in h.items()} for h in result.history], "rebuild": rebuild},
        "metrics": {k: v for k, v in result.metrics.items() if k != "best_epoch"},
    }
    card = save_entry(zoo / name, bb, head=result.head, class_names=ds.class_names if result.head is not None else None,
                      card_fields=card_fields, overwrite=overwrite)
    shutil.rmtree(partial, ignore_errors=True)
    return PretrainResult(entry=zoo / name, card=card, history=result.history)


def _prepare_partial(partial: Path, run_key: dict[str, Any], resume: bool) -> None:
    key_file = partial / "run.json"
    text = json.dumps(run_key, sort_keys=True, default=str)
    if partial.exists():
        if resume and key_file.exists() and key_file.read_text() != text:
            raise TransferkitError(f"{partial} holds an interrupted run with other settings: rerun with the same "
                                   "settings to resume, or without resume (--no-resume) to start over")
        if not resume:
            shutil.rmtree(partial)
    partial.mkdir(parents=True, exist_ok=True)
    atomic_write_text(key_file, text)


def pretrain_summary(result: PretrainResult) -> dict[str, Any]:
    """The ``results["sections"]["pretrain"]`` record: source, metrics, card."""
    card = result.card
    return {"source": card["source"], "metrics": card["metrics"], "card": card, "entry": str(result.entry),
            "history": result.history}


def run_pretrain(backbone: str | Backbone, source: str | Dataset, objective: str = "supervised", *, name: str,
                 seed: int = 0, **kwargs: Any) -> dict[str, Any]:
    """What ``transferkit pretrain`` runs: :func:`pretrain` (same arguments), as a results dict.

    The ``pretrain`` section holds the source, the metrics, the model card and where the entry is.
    """
    from transferkit._io import new_results

    res = pretrain(backbone, source, objective, name=name, seed=seed, **kwargs)
    card = res.card
    results = new_results(
        "pretrain",
        seeds=[seed],
        data={"source": card["source"]},
        models={
            f"zoo:{name}": {
                "fingerprint": card["backbone_fingerprint"][:16],
                "architecture": card["architecture"],
            }
        },
    )
    results["sections"]["pretrain"] = pretrain_summary(res)
    return results


__all__ = ["PretrainResult", "default_zoo_dir", "pretrain", "pretrain_summary", "run_pretrain", "subsample"]
