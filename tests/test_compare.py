"""compare / label_efficiency: paired seeds, JSON sections, verdicts, and no selection on the test split."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from transferkit.backbones import create_backbone
from transferkit.data import Dataset, TransferTask
from transferkit.errors import UnknownName
from transferkit.experiments import default_metric, time_to_reach
from transferkit.experiments.compare import compare, label_efficiency, pretrain_source
from transferkit.reports.run import new_results, to_jsonable, write_results
from transferkit.training import TrainConfig, TransferModel

CFG = TrainConfig(epochs=4, batch_size=16, patience=None, progress=False)
COMPARISON_KEYS = {"metric", "higher_is_better", "seeds", "budget", "transfer", "scratch", "others", "diff", "verdict",
                   "advice", "metrics", "time_to_scratch_best"}


@pytest.fixture(scope="module")
def source_model(images, tiny_cnn) -> TransferModel:
    """A small CNN pre-trained on the same three-class image task (same label set as the target)."""
    model, _ = pretrain_source(images(150, 5), tiny_cnn, TrainConfig(epochs=6, lr=3e-3, batch_size=32,
                                                                      progress=False))
    return model


@pytest.fixture
def task(images):
    """A builder of the three-class image target task: ``task(seed=0)``, a fresh one per call."""
    return lambda seed=0: TransferTask(target=images(150, 10 + seed), target_test=images(90, 99), seed=0)


def test_compare_section_has_the_report_keys_and_is_json(source_model: TransferModel, tmp_path, task) -> None:
    comp = compare(task(), source_model, "linear_probe", seeds=3, budget=5, config=CFG, others=["finetune"], scratch_min_steps=0)
    sec = comp.section()
    assert COMPARISON_KEYS <= set(sec)
    assert sec["seeds"] == [0, 1, 2] and len(sec["transfer"]["per_seed"]) == 3 == len(sec["scratch"]["per_seed"])
    d = sec["diff"]
    assert d["per_seed"] == pytest.approx(np.subtract(sec["transfer"]["per_seed"], sec["scratch"]["per_seed"]).tolist())
    assert d["ci_low"] <= d["mean"] <= d["ci_high"]
    expected = "positive" if d["ci_low"] > 0 else "negative" if d["ci_high"] < 0 else "inconclusive"
    # a scratch net held to the transfer arm's 4 epochs on 15 images stays at chance: no win is claimed
    assert sec["verdict"] in (expected, "baseline failed to train") and sec["advice"]
    assert sec["interval_method"].startswith("hierarchical paired bootstrap")
    assert len(sec["examples"]["y"]) == 3 and len(sec["examples"]["pred"]["transfer"][0]) == 90
    assert set(sec["metrics"]) >= {"accuracy", "balanced_accuracy", "macro_f1", "auroc"}
    assert set(sec["metrics"]["accuracy"]) == {"transfer", "scratch", "finetune", "source_only"}
    assert "finetune" in sec["others"]
    # same label set: the source model itself is reported as a zero-label baseline
    assert sec["source_only"]["name"].startswith("source model")
    assert {"transfer", "scratch", "scratch_best_val"} <= set(sec["time_to_scratch_best"][0])
    res = new_results("fit")
    res["sections"].update({"comparison": sec, "curves": comp.curves, "confusion_matrix": comp.confusion_matrix})
    json.loads((write_results(tmp_path, res)).read_text())
    assert np.sum(comp.confusion_matrix["matrix"]) == 90


def _no_time(obj: object) -> object:
    """Everything but wall-clock seconds (which differ between runs)."""
    if isinstance(obj, dict):
        return {k: _no_time(v) for k, v in obj.items() if k != "seconds"}
    if isinstance(obj, list):
        return [_no_time(v) for v in obj]
    return obj


def test_test_split_labels_never_influence_selection(source_model: TransferModel, task) -> None:
    """Shuffling the test labels changes the test scores but not one validation number or choice."""
    t1 = task()
    t2 = task()
    rng = np.random.default_rng(0)
    t2.target_splits.test.y = rng.permutation(t2.target_splits.test.y)
    cands = [("linear_probe", {}, None), ("finetune", {}, 3e-3)]
    from transferkit.strategies import Auto

    a = compare(t1, source_model, Auto(cands), seeds=2, budget=5, config=CFG, scratch_min_steps=0)
    b = compare(t2, source_model, Auto(cands), seeds=2, budget=5, config=CFG, scratch_min_steps=0)
    assert _no_time(a.strategy["trials"]) == _no_time(b.strategy["trials"])
    assert _no_time(a.time_to_scratch_best) == _no_time(b.time_to_scratch_best)
    assert _no_time(a.curves) == _no_time(b.curves)
    assert a.arms["transfer"].scores != b.arms["transfer"].scores


def test_planted_negative_transfer_is_called_negative(task, tiny_cnn) -> None:
    """A source model whose features are dead (constant): its probe is at chance, scratch learns."""
    torch.manual_seed(0)
    bb = create_backbone(tiny_cnn)
    with torch.no_grad():
        last = bb.block3[-2]
        last.weight.zero_()
        last.bias.fill_(-1.0)  # ReLU output is 0 for every input
    comp = compare(task(), bb, "linear_probe", seeds=4, budget=10,
                   config=TrainConfig(epochs=15, batch_size=16, patience=None, progress=False), scratch_lr=1e-2)
    assert comp.verdict == "negative", comp.section()
    assert "Negative transfer" in comp.advice and "Next:" in comp.advice


@pytest.mark.slow
def test_planted_shuffled_label_source_is_negative_on_usps(data_root) -> None:  # type: ignore[no-untyped-def]
    """Real data: a CNN pre-trained on MNIST with shuffled labels, probed on USPS (10 labels per class)."""
    from transferkit.data import label_budget, load_dataset

    spec = "smallcnn?image_size=16&width=16&num_features=64"
    mnist = label_budget(load_dataset("mnist@train"), 3000 / 60000, seed=0)
    mnist.y = np.random.default_rng(0).permutation(mnist.y)  # the plant
    model, _ = pretrain_source(mnist, spec, TrainConfig(epochs=4, lr=2e-3, batch_size=64, patience=None,
                                                        progress=False))
    usps = TransferTask(target=load_dataset("usps@train"), target_test=load_dataset("usps@test"), seed=0)
    comp = compare(usps, model.backbone, "linear_probe", seeds=5, budget=10, metric="accuracy",
                   config=TrainConfig(epochs=15, batch_size=32, patience=None, progress=False))
    assert comp.verdict == "negative", comp.section()
    assert comp.diff.estimate.ci_high < 0
    # the never-worse gate ships the baseline, whose test score is at least the transfer arm's
    assert comp.shipped is not None
    assert comp.shipped.role == "baseline" and comp.shipped.headline.startswith("Negative transfer")
    assert comp.shipped.test.mean >= comp.arms["transfer"].mean


def test_label_efficiency_names_the_crossover(source_model: TransferModel, task) -> None:
    le = label_efficiency(task(), source_model, "linear_probe", budgets=[3, "all"], seeds=2, config=CFG, scratch_min_steps=0)
    sec = le.label_efficiency()
    # "all" has no per-class count: the curve's x axis is the number of labelled examples, validation included
    n = [c.n_labelled for c in le.budgets]
    assert n[0] == 3 * 3 and n[1] > n[0]
    assert sec["budgets"] == n and sec["budget_label"] == "labelled examples (training + validation)"
    assert sec["budget_labels"] == ["3 labels per class", "all labels"]
    assert len(sec["transfer"]["mean"]) == 2 and len(sec["verdicts"]) == 2
    assert {"metric", "diff", "scratch", "crossover", "summary"} <= set(sec)
    first_bad = next((i for i, v in enumerate(sec["verdicts"]) if v in ("inconclusive", "negative")), None)
    assert sec["crossover"] == (None if first_bad is None else n[first_bad])
    assert le.crossover == (None if first_bad is None else [3, "all"][first_bad])
    json.dumps(to_jsonable(sec))


def test_regression_metrics_and_helpers() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4)).astype(np.float32)
    y = (x[:, 0] * 2 + 0.1 * rng.normal(size=120)).astype(np.float32)
    ds = Dataset(x=x, y=y, kind="table", task="regression")
    src, _ = pretrain_source(ds, "tabmlp?hidden=16", TrainConfig(epochs=3, progress=False))
    comp = compare(TransferTask(target=ds), src.backbone, "finetune", seeds=2, budget="all",
                   config=TrainConfig(epochs=3, batch_size=16, progress=False))
    assert comp.metric == "rmse" and comp.higher_is_better is False
    assert set(comp.arms["transfer"].metrics) == {"mae", "rmse", "r2"} and comp.confusion_matrix is None
    assert default_metric(ds) == "rmse"
    imb = Dataset(x=x, y=(np.arange(120) % 10 == 0).astype(np.int64), kind="table", class_names=("a", "b"))
    assert default_metric(imb) == "macro_f1"
    hist = [{"epoch": 1.0, "val_score": 0.5, "seconds": 1.0}, {"epoch": 2.0, "val_score": 0.9, "seconds": 2.0}]
    assert time_to_reach(hist, 0.8) == {"epochs": 2.0, "seconds": 2.0}
    assert time_to_reach(hist, 0.95) == {"epochs": None, "seconds": None}


def test_bad_inputs_get_clear_errors(source_model: TransferModel, task) -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        compare(task(), source_model, "linear_probe", seeds=2, budget=3, metric="acc", config=CFG, scratch_min_steps=0)
    with pytest.raises(ValueError, match="at least one seed"):
        compare(task(), source_model, "linear_probe", seeds=0, budget=3, config=CFG, scratch_min_steps=0)
    with pytest.raises(UnknownName, match="unknown strategy 'nope'"):
        compare(task(), source_model, "nope", seeds=2, budget=3, config=CFG, scratch_min_steps=0)
