"""The never-worse gate: which model a run ships, chosen on validation only, and how reports show it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from transferkit.backbones import create_backbone
from transferkit.data import TransferTask
from transferkit.experiments.compare import compare
from transferkit.experiments.records import ArmResult, BudgetResult, Difference, Shipped, choose_shipped
from transferkit.training import TrainConfig


def _budget(val: dict[str, list[float]], test: dict[str, list[float]], roles: dict[str, str]) -> BudgetResult:
    arms = {k: ArmResult(k, f"{k} arm", roles[k], tuple(test[k]), {"accuracy": float(np.mean(test[k]))},
                         val_scores=tuple(val[k])) for k in val}
    t, b = arms.get("transfer"), arms.get("scratch")
    diff = Difference.paired("transfer", "scratch", list(t.scores), list(b.scores)) if t and b else None
    return BudgetResult(10, "10 labels per class", "accuracy", True, [0, 1, 2], arms, diff)


ROLES = {"transfer": "transfer", "scratch": "baseline", "source_only": "source_only"}


def test_gate_chooses_on_validation_and_ships_the_best_validation_seed() -> None:
    b = _budget({"transfer": [0.8, 0.9, 0.85], "scratch": [0.7, 0.72, 0.71]},
                {"transfer": [0.5, 0.6, 0.55], "scratch": [0.9, 0.2, 0.95]}, ROLES)
    s = choose_shipped(b, "accuracy")
    assert s.arm == "transfer" and s.seed == 1 and s.test_seed == 0.6  # seed 1: best validation, not best test
    assert "transfer 0.850 vs scratch 0.710" in s.reason and s.test.mean == pytest.approx(0.55)
    b = _budget({"transfer": [0.6, 0.6, 0.6], "scratch": [0.7, 0.9, 0.8], "source_only": [0.95, 0.95, 0.95]},
                {"transfer": [0.5, 0.5, 0.6], "scratch": [0.5, 0.6, 0.5], "source_only": [0.4, 0.4, 0.4]}, ROLES)
    s = choose_shipped(b, "accuracy")
    assert s.arm == "source_only" and s.role == "source_only"  # validation decides, not test
    tie = _budget({"transfer": [0.8] * 3, "scratch": [0.8] * 3}, {"transfer": [0.5, 0.6, 0.55], "scratch": [0.6, 0.5, 0.55]},
                  ROLES)
    assert choose_shipped(tie, "accuracy").arm == "transfer"  # ties prefer transfer, then the baseline


def test_negative_verdict_ships_the_baseline_and_says_so() -> None:
    b = _budget({"transfer": [0.9, 0.9, 0.9], "scratch": [0.8, 0.8, 0.8]},
                {"transfer": [0.5, 0.52, 0.51], "scratch": [0.8, 0.81, 0.79]}, ROLES)
    assert b.verdict == "negative"
    s = choose_shipped(b, "accuracy")
    assert s.arm == "scratch" and s.by_test_verdict and s.headline.startswith("Negative transfer")
    assert "validation preferred transfer" in s.reason
    again = Shipped.from_dict(json.loads(json.dumps(s.to_dict())))
    assert again == s


def test_planted_negative_transfer_ships_the_baseline(images, tiny_cnn) -> None:
    """Dead source features: the probe is at chance; the baseline ships and scores at least as well on test."""
    torch.manual_seed(0)
    bb = create_backbone(tiny_cnn)
    with torch.no_grad():
        last = bb.block3[-2]
        last.weight.zero_()
        last.bias.fill_(-1.0)
    task = TransferTask(target=images(150, 10), target_test=images(90, 99), seed=0)
    comp = compare(task, bb, "linear_probe", seeds=4, budget=10,
                   config=TrainConfig(epochs=15, batch_size=16, patience=None, progress=False), scratch_lr=1e-2)
    s = comp.shipped
    assert s is not None and s.role == "baseline" and comp.shipped_model is not None
    assert s.test.mean >= comp.arms["transfer"].mean
    assert comp.section()["shipped"]["headline"] == s.headline
    # the kept model is the one of the best-validation seed: its test score is the one recorded
    from transferkit.training import predict

    out = predict(comp.shipped_model, task.target_splits.test)
    assert float((out.argmax(1) == task.target_splits.test.y).mean()) == pytest.approx(s.test_seed)


def test_report_and_terminal_lead_with_the_shipped_model(tmp_path: Path) -> None:
    from rich.console import Console

    from transferkit.reports.html import render_report
    from transferkit.reports.run import new_results
    from transferkit.reports.terminal import shipped_lines

    b = _budget({"transfer": [0.9, 0.9, 0.9], "scratch": [0.8, 0.8, 0.8]},
                {"transfer": [0.5, 0.52, 0.51], "scratch": [0.8, 0.81, 0.79]}, ROLES)
    res = new_results("fit")
    res["sections"]["comparison"] = b.section()
    res["sections"]["shipped"] = choose_shipped(b, "accuracy").to_dict()
    page = render_report(res)
    main = page[page.index("<main>"):]
    assert main.index("Negative transfer at 10 labels per class") < main.index("Did transfer help?")
    console = Console(record=True, width=200)
    for r in shipped_lines(res):
        console.print(r)
    assert console.export_text().startswith("Negative transfer at 10 labels per class: this run ships")
    res["status"] = {"complete": False, "cells_done": 3, "cells_total": 8, "state": "stopped",
                     "resume": "transferkit fit --resume runs/x"}
    page = render_report(res)
    assert page[page.index("<main>"):].index("Incomplete run (stopped): 3 of 8 cells") < 60
