"""What ``auto``'s search costs: successive halving vs the full search vs the chosen strategy alone.

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/auto_cost.py                 # every case
    OMP_NUM_THREADS=1 python benchmarks/auto_cost.py --cases zoo-mnist-usps --epochs 10

For each case, in one process, on the same labelled split (seed 0) and the same starting model:
(a) ``auto`` (successive halving, the default), (b) ``auto?search=full`` (every candidate trained
in full), (c) the strategy and learning rate (a) chose, trained alone with the same budget. Each is
timed in CPU seconds of this process (``time.process_time``) and in wall seconds; the frozen
features of the training and validation examples are extracted once, and one epoch of fine-tuning
runs once (torch's one-time start-up), before the three runs, so no run pays for them. Printed per case: the ratios (a)/(c) and (a)/(b) and whether (a) and (b) chose
the same strategy (goal: (a)/(c) <= 2 and the same choice). Selection is on the validation split
only; nothing here reads a test split.

Cases: ``readme-mnist-usps`` is the README's ``fit --strategy auto`` case (smallcnn pre-trained on
6,000 MNIST images for 4 epochs, USPS at 10 and 50 labels per class, 15 epochs); ``zoo-mnist-usps``
is zoo:mnist-cnn on USPS at 10 labels per class; ``sms-minilm`` is MiniLM (max_length 32) on SMS
spam with 64 labels in all.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Case:
    """One target, backbone (or source to pre-train it on), budget and epoch count."""

    name: str
    target: str
    backbone: str
    budget: int | str
    epochs: int
    target_test: str | None = None
    source: str | None = None
    source_max: int = 6000
    source_epochs: int = 4


CASES = {
    "readme-mnist-usps-10": Case("readme-mnist-usps-10", "usps@train", "smallcnn?image_size=16&width=16&num_features=64",
                                 10, 15, "usps@test", "mnist@train"),
    "readme-mnist-usps-50": Case("readme-mnist-usps-50", "usps@train", "smallcnn?image_size=16&width=16&num_features=64",
                                 50, 15, "usps@test", "mnist@train"),
    "zoo-mnist-usps": Case("zoo-mnist-usps", "usps@train", "zoo:mnist-cnn", 10, 20, "usps@test"),
    "sms-minilm": Case("sms-minilm", "sms-spam", "minilm?max_length=32", "64total", 20),
}


_PRETRAINED: dict[tuple[Any, ...], Any] = {}


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c0, time.perf_counter() - w0


def _setup(case: Case, seed: int) -> tuple[Callable[[], Any], Any, Any, Any]:
    """A factory of the starting model, the train and validation splits, and the training config."""
    from transferkit.backbones import TransferModel, create_backbone
    from transferkit.data import TransferTask, load_dataset
    from transferkit.data.splits import parse_budget
    from transferkit.experiments.compare import pretrain_source
    from transferkit.experiments.fit import _subsample
    from transferkit.experiments.runner import default_metric, select_metric
    from transferkit.training import TrainConfig

    tgt = load_dataset(case.target)
    test = load_dataset(case.target_test) if case.target_test else None
    task = TransferTask(target=tgt, target_test=test, seed=0)  # as `fit` builds it
    budget = parse_budget(case.budget) if isinstance(case.budget, str) else case.budget
    sp = task.seed_splits(budget, seed)
    source_model = None
    key = (case.source, case.source_max, case.source_epochs, case.backbone)
    if case.source and key not in _PRETRAINED:  # the README's fit: a seeded subsample, 4 epochs at lr 2e-3
        src = _subsample(load_dataset(case.source), case.source_max)  # as `fit --source-max` draws it
        _PRETRAINED[key] = pretrain_source(src, case.backbone, TrainConfig(epochs=case.source_epochs, lr=2e-3,
                                                                           batch_size=64, patience=3,
                                                                           progress=False))[0]
    source_model = _PRETRAINED.get(key) if case.source else None
    bb = source_model.backbone if source_model is not None else create_backbone(case.backbone, data=sp.train)
    keep_head = source_model is not None and source_model.class_names == sp.train.class_names
    metric = default_metric(sp.train)

    def new_model() -> Any:
        import torch

        torch.manual_seed(seed)
        head = copy.deepcopy(source_model.head) if keep_head and source_model is not None else "linear"
        return TransferModel(copy.deepcopy(bb), sp.train.num_classes, head=head, class_names=sp.train.class_names)

    cfg = TrainConfig(epochs=case.epochs, batch_size=32, patience=None, progress=False, seed=seed,
                      select_metric=select_metric(metric, "classification"))
    return new_model, sp.train, sp.val, cfg


def run_case(case: Case, seed: int = 0) -> dict[str, Any]:
    """Time (a) halving, (b) full search, (c) the chosen strategy alone, on one split and starting model."""
    from transferkit.strategies import Auto, get_strategy, warm_features

    new_model, train, val, cfg = _setup(case, seed)
    warm_features(new_model().backbone, train)  # every run finds the frozen features already extracted
    warm_features(new_model().backbone, val)
    get_strategy("finetune").fit(new_model(), train, val, replace(cfg, epochs=1))  # torch's one-time start-up

    def fit_auto(search: str) -> Auto:
        auto = Auto(search=search)
        model = new_model()
        auto.fit(model, train, val, replace(cfg, lr=auto.default_lr(model)))
        return auto

    halving, cpu_a, wall_a = _timed(lambda: fit_auto("halving"))
    print(f"  {case.name}: halving {cpu_a:.1f} CPU-s, chose {halving.choice}", flush=True)
    full, cpu_b, wall_b = _timed(lambda: fit_auto("full"))
    print(f"  {case.name}: full search {cpu_b:.1f} CPU-s, chose {full.choice}", flush=True)
    choice = halving.choice
    alone = get_strategy(choice["strategy"], **choice["options"])

    def fit_alone() -> float:
        model = new_model()
        return alone.fit(model, train, val, replace(cfg, lr=choice["lr"] or alone.default_lr(model))).best_score

    score_c, cpu_c, wall_c = _timed(fit_alone)
    label = lambda c: c["strategy"] + (f"@{c['lr']:g}" if c["lr"] else "")  # noqa: E731
    return {"case": case.name, "budget": case.budget, "epochs": case.epochs, "n_train": len(train), "n_val": len(val),
            "halving": {"chose": label(halving.choice), "cpu_s": cpu_a, "wall_s": wall_a, "rungs": halving.rungs,
                        "val_score": max(t["val_score"] for t in halving.trials
                                         if t["strategy"] == choice["strategy"] and t["lr"] == choice["lr"])},
            "full": {"chose": label(full.choice), "cpu_s": cpu_b, "wall_s": wall_b,
                     "val_scores": {label(t): t["val_score"] for t in full.trials}},
            "alone": {"strategy": label(choice), "cpu_s": cpu_c, "wall_s": wall_c, "val_score": score_c},
            "a_over_c": cpu_a / cpu_c, "a_over_b": cpu_a / cpu_b, "same_choice": label(halving.choice) == label(full.choice)}


def main() -> None:
    """Run the cases and print one line per case (and the JSON with ``--out``)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, from {', '.join(CASES)}")
    ap.add_argument("--epochs", type=int, default=None, help="override every case's epochs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = ap.parse_args()
    rows = []
    for name in args.cases.split(","):
        case = CASES[name.strip()]
        if args.epochs:
            case = replace(case, epochs=args.epochs)
        r = run_case(case, args.seed)
        rows.append(r)
        print(f"{r['case']}: (a) halving {r['halving']['cpu_s']:.1f} CPU-s chose {r['halving']['chose']}; "
              f"(b) full {r['full']['cpu_s']:.1f} CPU-s chose {r['full']['chose']}; (c) {r['alone']['strategy']} "
              f"alone {r['alone']['cpu_s']:.1f} CPU-s | (a)/(c) = {r['a_over_c']:.2f}, (a)/(b) = {r['a_over_b']:.2f}, "
              f"same choice: {r['same_choice']}", flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows, indent=2, default=str))


if __name__ == "__main__":
    main()
