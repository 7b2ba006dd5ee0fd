"""Multi-task learning: weightings (known properties), gradient surgery, sampler, missing labels,
Delta-m, config errors, and a tiny end-to-end run on the real heart-disease hospitals."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from transferkit.backbones import create_backbone
from transferkit.errors import DataError, UnknownName
from transferkit.evaluation import METRICS
from transferkit.multitask import (
    WEIGHTINGS,
    HeadSpec,
    MultitaskConfigError,
    MultiTaskModel,
    MultiTaskTrainConfig,
    TaskData,
    TaskSampler,
    allocate,
    compare_tasks,
    config_from_dict,
    delta_m,
    get_weighting,
    load_config,
    run_multitask,
    task_loss,
    task_probabilities,
    train_multitask,
)
from transferkit.multitask.config import CLASS_METRICS, REG_METRICS
from transferkit.multitask.weightings import cagrad_direction, dwa_weights, pcgrad_project
from transferkit.training.callbacks import Callback

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models: one thread is faster than two contended ones (restored afterwards)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _model(tasks: list[TaskData], hidden: str = "16") -> MultiTaskModel:
    torch.manual_seed(0)
    trunk = create_backbone(f"tabmlp?hidden={hidden}&dropout=0", in_features=tasks[0].x.shape[1])
    trunk.fit_preprocessing(np.concatenate([t.x for t in tasks]))
    return MultiTaskModel(trunk, [HeadSpec(t.name, t.num_outputs, t.kind) for t in tasks])


def _regression_pair(noise: tuple[float, float], n: int = 240, seed: int = 0) -> list[TaskData]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    signal = x[:, 0] - 0.5 * x[:, 1]
    return [
        TaskData(f"t{i}", x, (signal + s * rng.normal(size=n)).astype(np.float32), "regression")
        for i, s in enumerate(noise)
    ]


# ----------------------------------------------------------------------------- registry
def test_registry_holds_every_weighting_and_rejects_unknown_names() -> None:
    assert {"equal", "uncertainty", "dwa", "gradnorm", "pcgrad", "cagrad"} <= set(WEIGHTINGS.names())
    assert WEIGHTINGS.info("pcgrad").per_task_backward and WEIGHTINGS.info("equal").kind == "loss"
    with pytest.raises(KeyError, match="known: cagrad"):
        get_weighting("nope")
    with pytest.raises(ValueError, match="already registered"):
        WEIGHTINGS.add("equal", object)
    with pytest.raises(ValueError, match="bad options"):
        get_weighting("dwa", nonsense=1)


# ----------------------------------------------------------------------------- loss weightings
def test_equal_weights_are_ones_and_the_objective_is_the_sum() -> None:
    tasks = _regression_pair((0.1, 0.1))
    w = get_weighting("equal")
    w.setup(_model(tasks), ("t0", "t1"))
    losses = torch.tensor([0.3, 2.0])
    assert torch.isclose(w.combine(losses), torch.tensor(2.3))
    np.testing.assert_array_equal(w.weights(), [1.0, 1.0])


def test_uncertainty_optimum_is_log_loss_so_the_noisier_task_gets_less_weight() -> None:
    tasks = _regression_pair((0.1, 0.1))
    w = get_weighting("uncertainty")
    w.setup(_model(tasks), ("t0", "t1"))
    opt = torch.optim.Adam(w.parameters(), lr=0.1)
    losses = torch.tensor([0.2, 3.0])
    for _ in range(400):
        opt.zero_grad()
        w.combine(losses).backward()
        opt.step()
    np.testing.assert_allclose(w.log_vars.detach().numpy(), np.log([0.2, 3.0]), atol=0.02)
    weights = w.weights()
    assert weights[1] < weights[0]
    np.testing.assert_allclose(weights, [5.0, 1 / 3], rtol=0.05)


def test_uncertainty_weights_move_toward_the_noisier_task_in_training() -> None:
    tasks = _regression_pair((0.05, 1.5))
    w = get_weighting("uncertainty")
    train_multitask(_model(tasks), tasks, None, w, MultiTaskTrainConfig(epochs=15, batch_size=32, lr=0.05, seed=0))
    clean, noisy = w.weights()
    assert noisy < 1.0 < clean  # both started at 1: the noisy task's sigma grew, the clean one's shrank


def test_dwa_weights_sum_to_k_start_at_one_and_favour_the_slowest_task() -> None:
    assert np.allclose(dwa_weights([np.array([1.0, 2.0, 3.0])]), 1.0)
    hist = [np.array([1.0, 1.0, 1.0]), np.array([0.5, 0.9, 1.0])]  # task 0 falls fastest, task 2 not at all
    w = dwa_weights(hist, temperature=2.0)
    assert math.isclose(w.sum(), 3.0) and w[0] < w[1] < w[2]
    ratio = np.array([0.5, 0.9, 1.0]) / 2.0
    np.testing.assert_allclose(w, 3 * np.exp(ratio) / np.exp(ratio).sum())


def test_gradnorm_lowers_the_weight_of_the_task_with_the_larger_gradient() -> None:
    tasks = _regression_pair((0.1, 0.1))
    tasks[1].y = tasks[1].y * 10.0  # same task, 10x the scale: 100x the loss, 10x the gradient
    w = get_weighting("gradnorm", alpha=1.5, lr=0.05)
    train_multitask(_model(tasks), tasks, None, w, MultiTaskTrainConfig(epochs=3, batch_size=32, seed=0))
    weights = w.weights()
    assert math.isclose(weights.sum(), 2.0, rel_tol=1e-5)
    assert weights[1] < 0.5 < 1.5 < weights[0]


# ----------------------------------------------------------------------------- checkpoints and resume
class _StopAfter(Callback):
    """Interrupts the run at the end of epoch ``epoch`` (0-based), after the loop saved its checkpoint."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict, state: dict) -> None:
        if epoch == self.epoch:
            raise KeyboardInterrupt


def _resume_run(name: str, folder: Path | None, resume: bool = False, stop: int | None = None):
    tasks = _regression_pair((0.1, 1.0), n=160)
    tasks.append(TaskData("c", tasks[0].x, (tasks[0].x[:, 2] > 0).astype(np.int64), num_outputs=2))
    train, val = [t.hide_labels(np.arange(160) >= 120) for t in tasks], [t.hide_labels(np.arange(160) < 120) for t in tasks]
    torch.manual_seed(0)
    trunk = create_backbone("tabmlp?hidden=16&dropout=0.2", in_features=4)  # dropout: the torch RNG must resume too
    trunk.fit_preprocessing(tasks[0].x)
    model = MultiTaskModel(trunk, [HeadSpec(t.name, t.num_outputs, t.kind) for t in tasks])
    w = get_weighting(name)
    cfg = MultiTaskTrainConfig(epochs=5, batch_size=32, lr=0.02, seed=3, patience=None, max_grad_norm=1.0,
                               checkpoint_dir=str(folder) if folder else None, resume=resume)
    res = train_multitask(model, train, val, w, cfg, callbacks=[_StopAfter(stop)] if stop is not None else ())
    return model, w, res


@pytest.mark.parametrize("name", ["equal", "uncertainty", "dwa", "gradnorm", "pcgrad"])
def test_a_killed_and_resumed_run_ends_as_an_uninterrupted_one(tmp_path: Path, name: str) -> None:
    full_model, full_w, full = _resume_run(name, None)
    with pytest.raises(KeyboardInterrupt):
        _resume_run(name, tmp_path, stop=1)
    model, w, res = _resume_run(name, tmp_path, resume=True)
    assert res.resumed_from == 2 and [h["epoch"] for h in res.history] == [1, 2, 3, 4, 5]
    drop = lambda h: [{k: v for k, v in e.items() if k != "seconds"} for e in h]  # noqa: E731
    assert drop(res.history) == drop(full.history)
    assert (res.best_epoch, res.best_score) == (full.best_epoch, full.best_score)
    for k, v in full_model.state_dict().items():
        torch.testing.assert_close(model.state_dict()[k], v, rtol=0, atol=0)
    np.testing.assert_array_equal(w.weights(), full_w.weights())
    for k, v in full_w.state_tensors().items():
        torch.testing.assert_close(w.state_tensors()[k], v, rtol=0, atol=0)
    if name in ("uncertainty", "gradnorm"):  # learned task weights moved, and were restored, not re-initialised
        assert not np.allclose(w.weights(), 1.0)


def test_the_sampler_skips_to_the_batches_of_a_later_epoch() -> None:
    rows = {"a": np.arange(30), "b": np.arange(100, 107)}
    full = TaskSampler(rows, batch_size=8, seed=2)
    epochs = [list(full.epoch()) for _ in range(3)]
    resumed = TaskSampler(rows, batch_size=8, seed=2)
    resumed.skip(2)
    again = list(resumed.epoch())
    assert all(np.array_equal(s[k], t[k]) for s, t in zip(again, epochs[2], strict=True) for k in rows)


# ----------------------------------------------------------------------------- gradient surgery
def test_pcgrad_projects_out_conflicting_components() -> None:
    g = torch.tensor([[1.0, 0.0], [-1.0, 1.0]])  # conflicting: dot = -1
    p = pcgrad_project(g, np.random.default_rng(0))
    torch.testing.assert_close(p[0], torch.tensor([0.5, 0.5]))
    torch.testing.assert_close(p[1], torch.tensor([0.0, 1.0]))
    assert torch.dot(p[0], g[1]).abs() < 1e-6 and torch.dot(p[1], g[0]).abs() < 1e-6
    ok = torch.tensor([[1.0, 0.2], [0.5, 1.0]])  # no conflict: unchanged
    torch.testing.assert_close(pcgrad_project(ok), ok)
    with pytest.raises(ValueError, match=r"\(K, P\)"):
        pcgrad_project(torch.ones(3))


def test_pcgrad_fills_the_trunk_gradient_with_the_projected_sum() -> None:
    tasks = _regression_pair((0.1, 0.1))
    model = _model(tasks)
    x = model.trunk.prepare(tasks[0].x[:32])
    outs = model.forward_tasks({"t0": x, "t1": x})
    losses = torch.stack(
        [
            task_loss(outs["t0"], torch.as_tensor(tasks[0].y[:32]), "regression"),
            -task_loss(outs["t1"], torch.as_tensor(tasks[1].y[:32]), "regression"),
        ]
    )  # opposed
    from transferkit.multitask.weightings import per_task_gradients

    g = per_task_gradients(losses, model.shared_parameters())
    expect = pcgrad_project(g, np.random.default_rng(5)).sum(0)
    w = get_weighting("pcgrad", seed=5)
    w.setup(model, ("t0", "t1"))
    w.backward(losses, model, lambda loss: loss.backward())
    got = torch.cat([p.grad.reshape(-1) for p in model.shared_parameters()])
    torch.testing.assert_close(got, expect)
    assert all(p.grad is not None for p in model.heads.parameters())


def test_cagrad_reduces_to_the_mean_at_c0_and_improves_the_worst_task() -> None:
    g = torch.tensor([[1.0, 0.0], [-0.8, 0.6]], dtype=torch.float64)
    torch.testing.assert_close(cagrad_direction(g, c=0.0), g.mean(0))
    d = cagrad_direction(g, c=0.5, rescale=False)
    g0 = g.mean(0)
    assert (g @ d).min() > (g @ g0).min()  # the worst task's first-order gain is larger
    assert (d - g0).norm() <= 0.5 * g0.norm() + 1e-6  # within the trust region around g0


# ----------------------------------------------------------------------------- sampler
def test_sampler_probabilities_allocation_and_cycling() -> None:
    np.testing.assert_allclose(task_probabilities([300, 100], "proportional"), [0.75, 0.25])
    np.testing.assert_allclose(task_probabilities([300, 100], "uniform"), [0.5, 0.5])
    t = task_probabilities([400, 100], "temperature", temperature=2.0)
    np.testing.assert_allclose(t, [2 / 3, 1 / 3])
    counts = allocate(64, task_probabilities([303, 294, 123, 200]))
    assert counts.sum() == 64 and counts.min() >= 1
    assert allocate(2, np.array([0.98, 0.01, 0.01])).tolist() == [1, 1, 1]
    with pytest.raises(UnknownName, match="unknown multi-task sampler 'random'; known: proportional"):
        task_probabilities([3, 4], "random")
    with pytest.raises(DataError, match="at least one labelled"):
        task_probabilities([3, 0])
    s = TaskSampler({"a": np.arange(30), "b": np.arange(100, 110)}, batch_size=8, mode="uniform", seed=0)
    steps = list(s.epoch())
    assert len(steps) == math.ceil(40 / 8) and all(len(st["a"]) == 4 and len(st["b"]) == 4 for st in steps)
    a = np.concatenate([st["a"] for st in steps])
    assert len(set(a.tolist())) == len(a) == 20  # no repeats before the cycle ends
    b = np.concatenate([st["b"] for st in steps])  # 20 draws from 10 rows: each row exactly twice
    assert np.bincount(b - 100).tolist() == [2] * 10


# ----------------------------------------------------------------------------- missing labels
def test_missing_labels_are_masked_out_of_the_loss() -> None:
    out = torch.tensor([[2.0, 0.0], [0.0, 3.0], [1.0, 1.0], [5.0, 0.0]])
    y = torch.tensor([0, -1, 1, -1])
    expect = torch.nn.functional.cross_entropy(out[[0, 2]], y[[0, 2]])
    torch.testing.assert_close(task_loss(out, y, "classification"), expect)
    assert torch.isnan(task_loss(out, torch.full((4,), -1), "classification"))
    r = task_loss(torch.tensor([[1.0], [2.0], [4.0]]), torch.tensor([0.0, float("nan"), 1.0]), "regression")
    torch.testing.assert_close(r, torch.tensor((1.0 + 9.0) / 2))


def test_taskdata_missing_labels_and_bad_input_errors() -> None:
    t = TaskData("a", np.zeros((4, 2)), np.array([0.0, np.nan, 1.0, 2.0]), "classification", 3)
    assert t.y.tolist() == [0, -1, 1, 2] and t.n_labelled == 3
    assert t.hide_labels(np.array([1, 1, 0, 0], bool)).n_labelled == 1
    with pytest.raises(DataError, match="4 inputs but labels"):
        TaskData("a", np.zeros((4, 2)), np.array([0, 1]))
    with pytest.raises(DataError, match="NaN"):
        TaskData("a", np.array([[np.nan, 1.0]]), np.array([0]))
    with pytest.raises(DataError, match="task has 2 classes"):
        TaskData("a", np.zeros((2, 2)), np.array([0, 2]), num_outputs=2)
    with pytest.raises(DataError, match="no labelled rows"):
        TaskData("a", np.zeros((2, 2)), np.array([-1, -1]), num_outputs=2).require_trainable()
    with pytest.raises(DataError, match="at least two classes"):
        TaskData("a", np.zeros((3, 2)), np.array([1, 1, -1]), num_outputs=2).require_trainable()


def test_training_with_missing_labels_ignores_the_unlabelled_rows() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    poisoned = 1 - y  # wrong labels, hidden: if they leaked into the loss the task could not be learnt
    keep = np.arange(200) < 60
    a = TaskData("a", x, np.where(keep, y, -1), num_outputs=2)
    b = TaskData("b", x, np.where(keep, y, poisoned), num_outputs=2).hide_labels(keep)
    model = _model([a, b])
    train_multitask(model, [a, b], None, "equal", MultiTaskTrainConfig(epochs=12, batch_size=32, lr=0.02))
    from transferkit.multitask import predict_task

    for name in ("a", "b"):
        acc = np.mean(predict_task(model, name, x).argmax(1) == y)
        assert acc > 0.85, (name, acc)


def test_model_heads_and_shared_forward() -> None:
    tasks = _regression_pair((0.1, 0.1))
    model = _model(tasks).eval()
    x = model.trunk.prepare(tasks[0].x[:5])
    both = model.forward_tasks({"t0": x, "t1": x[:3]})
    torch.testing.assert_close(both["t1"], model(x[:3], "t1"))
    assert both["t0"].shape == (5, 1)
    with pytest.raises(DataError, match="unique"):
        MultiTaskModel(model.trunk, [HeadSpec("a", 2), HeadSpec("a", 2)])
    with pytest.raises(DataError, match="letters"):
        HeadSpec("a.b", 2)
    with pytest.raises(DataError, match="unknown task"):
        model(x, "zzz")


# ----------------------------------------------------------------------------- Delta-m and comparison
def test_delta_m_is_sign_aware_and_lower_is_better() -> None:
    hib = {"acc": True, "err": False}
    assert math.isclose(delta_m({"acc": 0.88, "err": 1.0}, {"acc": 0.8, "err": 1.0}, hib), -5.0)
    assert math.isclose(delta_m({"acc": 0.8, "err": 1.1}, {"acc": 0.8, "err": 1.0}, hib), 5.0)
    with pytest.raises(DataError, match="non-zero"):
        delta_m({"acc": 0.5}, {"acc": 0.0}, {"acc": True})
    with pytest.raises(DataError, match="same tasks"):
        delta_m({"acc": 0.5}, {"b": 0.5}, {"acc": True})


def test_compare_tasks_flags_negative_transfer_per_task() -> None:
    single = {"a": [0.80, 0.82, 0.81, 0.79], "b": [0.60, 0.62, 0.58, 0.61]}
    multi = {"equal": {"a": [0.70, 0.71, 0.69, 0.72], "b": [0.61, 0.60, 0.63, 0.60]}}
    sec = compare_tasks(single, multi, "accuracy")
    a, b = sec["rows"]
    assert a["negative"]["equal"] and not b["negative"]["equal"]
    lo, hi = a["diff_ci"]["equal"]
    assert lo < a["diff"]["equal"] < hi < 0
    assert math.isclose(a["multi_equal"], np.mean(multi["equal"]["a"]))
    expect = np.mean([-(0.705 - 0.805) / 0.805, -(0.61 - 0.6025) / 0.6025]) * 100
    assert math.isclose(sec["delta_m"]["equal"], expect, rel_tol=1e-9)
    rmse = compare_tasks({"r": [1.0, 1.1, 0.9]}, {"w": {"r": [0.5, 0.6, 0.4]}}, "rmse")
    assert math.isclose(rmse["rows"][0]["diff"]["w"], 0.5)  # lower RMSE: a positive (better) difference
    assert math.isclose(rmse["delta_m"]["w"], -50.0)  # and a negative (better) Delta-m


# ----------------------------------------------------------------------------- config
_GOOD = {
    "backbone": "tabmlp",
    "tasks": [{"name": "a", "data": "heart-disease:va"}, {"name": "b", "data": "heart-disease:switzerland"}],
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bogus": 1}, r"config: unknown key\(s\) \['bogus'\]"),
        ({"tasks": [{"name": "a", "data": "heart-disease:va"}]}, "at least 2 tasks"),
        ({"tasks": [{"name": "a"}, {"name": "b", "data": "x"}]}, r"tasks\[0\]: missing 'data'"),
        ({"tasks": [{"name": "a", "data": "d", "colour": 1}, {"name": "b", "data": "d"}]}, "unknown key"),
        ({"tasks": [{"name": "a", "data": "d"}, {"name": "a", "data": "d"}]}, "unique"),
        ({"tasks": [{"name": "a b", "data": "d"}, {"name": "c", "data": "d"}]}, "letters, digits"),
        ({"tasks": [{"name": "a", "data": "d", "budget": 0}, {"name": "b", "data": "d"}]}, "budget must be"),
        ({"tasks": [{"name": "a", "data": "d", "max_rows": 5}, {"name": "b", "data": "d"}]}, "max_rows must be"),
        ({"weightings": ["equal", "equal"]}, "listed twice"),
        ({"seeds": 1}, "at least 2 seeds"),
        ({"seeds": "many"}, "'seeds' must be a count"),
        ({"epochs": 0}, "epochs must be an integer >= 1"),
        ({"lr": "fast"}, "lr must be a number"),
        ({"val_size": 0.5, "test_size": 0.6}, "sum below 1"),
    ],
)
def test_bad_configs_get_clear_errors(change: dict, message: str) -> None:
    with pytest.raises(MultitaskConfigError, match=message):
        config_from_dict({**_GOOD, **change})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weightings": ["equal", "magic"]}, r"unknown multi-task weighting 'magic'; known: cagrad.* \(weightings\)"),
        ({"sampler": "random"}, r"unknown multi-task sampler 'random'; known: proportional, temperature, uniform"),
        ({"metric": "f2"}, r"unknown multi-task metric 'f2'; known: accuracy, auroc"),
        ({"metric": "f1"}, r"unknown multi-task metric 'f1'; known: .*macro_f1"),  # binary-only: not for multitask
        ({"report_metrics": ["accuracy", "auc"]}, r"did you mean 'auroc'.*\(report_metrics\)"),
        ({"tasks": [{"name": "a", "data": "d", "metric": "rsme"}, {"name": "b", "data": "d"}]},
         r"did you mean 'rmse'.*task 'a'"),
    ],
)
def test_unknown_names_in_configs_say_what_exists(change: dict, message: str) -> None:
    with pytest.raises(UnknownName, match=message):
        config_from_dict({**_GOOD, **change})


def test_config_names_are_canonical_and_metrics_come_from_the_registry() -> None:
    cfg = config_from_dict({**_GOOD, "sampler": "Uniform", "metric": "Balanced_Accuracy"})
    assert cfg.sampler == "uniform" and cfg.metric == "balanced_accuracy"
    assert CLASS_METRICS == ("accuracy", "balanced_accuracy", "macro_f1", "auroc")
    assert REG_METRICS == ("mae", "rmse", "r2")
    assert all(METRICS.info(m).task == "classification" for m in CLASS_METRICS)


def test_config_from_yaml_and_overrides(tmp_path: Path) -> None:
    cfg = load_config(EXAMPLES / "multitask_heart.yaml", seeds=2, weightings="equal,pcgrad")
    assert [t.name for t in cfg.tasks] == ["cleveland", "hungarian", "switzerland", "va"]
    assert cfg.seeds == (0, 1) and [w.name for w in cfg.weightings] == ["equal", "pcgrad"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("backbone: [unclosed\n")
    with pytest.raises(MultitaskConfigError, match="not valid YAML"):
        load_config(bad)
    bad.write_text("")
    with pytest.raises(MultitaskConfigError, match="empty"):
        load_config(bad)
    with pytest.raises(MultitaskConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    d = {**_GOOD, "weightings": [{"name": "dwa", "temperature": 3.0}]}
    assert config_from_dict(d).weightings[0].create().temperature == 3.0


# ----------------------------------------------------------------------------- real data, end to end
def test_tiny_end_to_end_run_on_the_heart_disease_hospitals() -> None:
    if not (DATA / "uci_heart_disease").is_dir():
        pytest.skip(f"UCI heart disease data not found under {DATA}")
    cfg = config_from_dict(
        {
            "backbone": "tabmlp?hidden=16",
            "data_root": str(DATA),
            "seeds": 2,
            "epochs": 3,
            "patience": None,
            "tasks": [
                {"name": "cleveland", "data": "heart-disease:cleveland"},
                {"name": "switzerland", "data": "heart-disease:switzerland", "budget": 0.5},
            ],
            "weightings": ["equal", "pcgrad", "cagrad", "gradnorm", "dwa", "uncertainty"],
            "metric": "balanced_accuracy",
            "class_weight": "balanced",
        }
    )
    res = run_multitask(cfg)
    cfg_ws = [w.name for w in cfg.weightings]
    mt = res["sections"]["multitask"]
    assert res["command"] == "multitask" and mt["tasks"] == ["cleveland", "switzerland"]
    assert mt["metric"] == "balanced_accuracy" and list(mt["delta_m"]) == cfg_ws
    for row in mt["rows"]:
        assert {"task", "single", "multi_equal", "multi_pcgrad", "diff_ci", "negative"} <= set(row)
        assert len(row["per_seed"]["single"]) == 2
        for w in cfg_ws:
            assert all(np.isfinite(row["per_seed"][w]))
            lo, hi = row["diff_ci"][w]
            assert lo <= row["diff"][w] <= hi and isinstance(row["negative"][w], bool)
            assert 0.0 <= row[f"multi_{w}"] <= 1.0
    # Switzerland: 123 rows, 30% test, 50% of its training labels hidden
    sizes = mt["sizes"]["switzerland"]
    assert abs(sizes["test"] - 0.3 * 123) <= 2 and sizes["train_labelled"] < sizes["train"]
    assert {r["metric"] for r in res["sections"]["multitask_metrics"]} == {"accuracy", "balanced_accuracy", "auroc"}
    assert len(res["sections"]["curves"]["multi equal (seed 0)"]["epoch"]) == 3


def test_tasks_must_fit_one_trunk() -> None:
    if not (DATA / "uci_heart_disease").is_dir():
        pytest.skip(f"UCI heart disease data not found under {DATA}")
    cfg = config_from_dict(
        {
            "backbone": "tabmlp",
            "data_root": str(DATA),
            "seeds": 2,
            "epochs": 1,
            "tasks": [{"name": "heart", "data": "heart-disease:va"}, {"name": "cancer", "data": "breast-cancer"}],
        }
    )
    with pytest.raises(DataError, match="do not fit the shared trunk"):
        run_multitask(cfg)
