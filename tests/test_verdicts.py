"""Verdicts that hold up: too few test examples, a baseline that never trained, metrics that disagree,
honest budgets and seeds that move the split, and the classical baselines on real data."""

from __future__ import annotations

import numpy as np
import pytest

from transferkit.data import Dataset, TransferTask
from transferkit.data.splits import budget_splits
from transferkit.evaluation.bootstrap import metric_from_predictions
from transferkit.experiments.records import CellResult
from transferkit.experiments.verdicts import cell_difference, disagreement


def _cells(arm: str, y: np.ndarray, preds: list[np.ndarray], **info: float) -> list[CellResult]:
    return [CellResult(arm, s, {"accuracy": metric_from_predictions("accuracy", y, p, 3)}, info.get("val", 0.9),
                       10, 5, info=dict(info), test_y=tuple(y.tolist()), test_pred=tuple(p.tolist()))
            for s, p in enumerate(preds)]


def _digits() -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    return Dataset(x=(d.images[:, None] / 16).astype(np.float32), y=d.target, kind="image",
                   class_names=tuple(str(i) for i in range(10)), name="digits")


def test_too_few_test_examples_in_a_class_is_no_verdict() -> None:
    y = np.array([0] * 30 + [1] * 30 + [2] * 3)  # 3 test examples of class 2
    good, bad = y.copy(), np.where(np.arange(len(y)) % 2 == 0, y, (y + 1) % 3)
    t, s = _cells("transfer", y, [good] * 3), _cells("scratch", y, [bad] * 3)
    assert cell_difference("transfer", "scratch", t, s, "accuracy", True, 3).verdict == "insufficient test data"
    d = cell_difference("transfer", "scratch", t, s, "accuracy", True, 3, min_test_per_class=3)
    assert d.verdict == "positive" and 0 < d.estimate.ci_low <= d.estimate.ci_high <= 1


def test_a_baseline_stuck_at_chance_is_not_a_win_for_transfer() -> None:
    y = np.arange(60) % 3
    t = _cells("transfer", y, [y.copy()] * 3)
    s = _cells("scratch", y, [np.zeros(60, int)] * 3, chance_val=0.34, chance_margin=0.05, val=0.34)
    assert cell_difference("transfer", "scratch", t, s, "accuracy", True, 3,
                           baseline_ok=False).verdict == "baseline failed to train"
    from transferkit.experiments.verdicts import baseline_trained

    assert not baseline_trained(s)
    assert baseline_trained(_cells("scratch", y, [y] * 3, chance_val=0.34, chance_margin=0.05, val=0.8))


def test_disagreeing_metrics_are_named() -> None:
    t = {"macro_f1": 0.90, "accuracy": 0.82, "balanced_accuracy": 0.88}
    s = {"macro_f1": 0.85, "accuracy": 0.92, "balanced_accuracy": 0.86}
    line = disagreement("macro_f1", True, t, s)
    assert "macro_f1 favours transfer" in line and "accuracy 0.820 vs 0.920" in line
    assert "balanced_accuracy" not in line
    assert disagreement("accuracy", True, t, s) == ""


def test_budget_counts_validation_labels_and_seeds_move_the_test_split() -> None:
    ds = _digits()
    a, b = budget_splits(ds, 10, seed=0), budget_splits(ds, 10, seed=1)
    assert len(a.train) + len(a.val) == 100  # 10 labels per class in all, not 10 + 10
    assert np.all(np.bincount(a.val.y, minlength=10) >= 1)
    assert len(a.test) == len(b.test) and not np.array_equal(a.test.x, b.test.x)
    assert budget_splits(ds, "64total", seed=0).train.x.shape[0] + budget_splits(ds, "64total", 0).val.x.shape[0] == 64
    # with an official test split the seed still moves the labelled examples, never the test split
    task = TransferTask(target=ds.subset(np.arange(1500)), target_test=ds.subset(np.arange(1500, 1797)))
    c, d = task.seed_splits(5, 0), task.seed_splits(5, 1)
    assert c.test is d.test and not np.array_equal(c.train.x, d.train.x)


@pytest.mark.parametrize("kind", ["image", "table"])
def test_classical_baselines_learn_real_data(kind: str) -> None:
    from sklearn.datasets import load_wine

    from transferkit.experiments.arms import classical_arm

    if kind == "image":
        ds = _digits()
    else:
        w = load_wine()
        ds = Dataset(x=w.data.astype(np.float32), y=w.target, kind="table", class_names=tuple(w.target_names))
    sp = budget_splits(ds, 20, seed=0)
    arm = classical_arm(kind, "classification", ds.num_classes)
    assert arm is not None and arm.role == "reference"
    f = arm.fit(sp.train, sp.val, 0)
    acc = metric_from_predictions("accuracy", sp.test.y, f.predict(sp.test).argmax(1), ds.num_classes)
    assert acc > 0.8, acc  # far above chance (0.1 digits, 0.4 wine)


def test_classical_text_baseline_on_sms(data_root) -> None:  # type: ignore[no-untyped-def]
    from transferkit.data import load_dataset
    from transferkit.experiments.arms import classical_arm

    ds = load_dataset("sms-spam", root=data_root)
    sp = budget_splits(ds.subset(np.arange(1500)), 200, seed=0)
    f = classical_arm("text", "classification", 2).fit(sp.train, sp.val, 0)  # type: ignore[union-attr]
    pred = f.predict(sp.test).argmax(1)
    assert metric_from_predictions("balanced_accuracy", sp.test.y, pred, 2) > 0.85
    assert classical_arm("signal", "classification", 2) is None


def test_the_report_names_the_method_and_a_no_call_verdict() -> None:
    from transferkit.reports._compare import parse_comparison

    sec = {"metric": "accuracy", "seeds": [0, 1], "verdict": "insufficient test data",
           "transfer": {"name": "t", "per_seed": [0.9, 0.8], "mean": 0.85},
           "scratch": {"name": "s", "per_seed": [0.7, 0.6], "mean": 0.65},
           "diff": {"mean": 0.2, "ci_low": -0.1, "ci_high": 0.5, "per_seed": [0.2, 0.2]},
           "interval_method": "hierarchical paired bootstrap (seeds, then test examples within each seed)"}
    c = parse_comparison(sec)
    assert c.sentence.startswith("No verdict (insufficient test data)")
    assert c.method.startswith("hierarchical paired bootstrap")
