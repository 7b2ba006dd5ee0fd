"""One contract per registry, run over every registered name.

Each test loops over a registry, checks that the entry's info record is complete, and that the
object keeps the promise of its kind on tiny data. A new method registered in its own file is
tested here with no test edit; a new registry fails :func:`test_every_registry_has_a_contract`
until it gets a contract below.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.special import softmax

import transferkit
import transferkit.adaptation.deep  # noqa: F401  (registers the deep methods)
from transferkit._registry import Registry
from transferkit.adaptation import DEEP_METHODS, SHALLOW_METHODS, MethodInfo
from transferkit.adaptation.selection import (
    CAVEATS,
    LABEL_FREE_SCORES,
    SELECTION_SCORES,
    SelectionScoreInfo,
    selection_score,
)
from transferkit.backbones import BACKBONES, BackboneInfo, create_backbone, needs_pretrained_message
from transferkit.data import DATASETS, Dataset, load_dataset
from transferkit.data.public import DatasetInfo
from transferkit.errors import BackboneError, UnknownName
from transferkit.evaluation.metrics import HIGHER_IS_BETTER, METRICS, MetricInfo
from transferkit.multitask import HeadSpec, MultiTaskModel, task_loss, task_probabilities
from transferkit.multitask.sampler import TASK_SAMPLERS, SamplerInfo
from transferkit.multitask.weightings import WEIGHTINGS, Weighting, WeightingInfo, get_weighting
from transferkit.pretraining import OBJECTIVES, ObjectiveInfo, ObjectiveResult, ObjectiveRun, PretrainSettings
from transferkit.similarity import DISTANCES, DistanceInfo
from transferkit.strategies import STRATEGIES, StrategyInfo, get_strategy, strategy_advice
from transferkit.transferability import SCORES, ScoreInfo

KINDS = ("image", "text", "table", "signal")
RNG = np.random.default_rng(0)


def names(registry: Registry) -> list[str]:
    return registry.names()


def tiny_data(kind: str, n: int = 6, classes: int = 2) -> Dataset:
    """A few random rows of a data kind, labelled 0..classes-1."""
    shapes = {"image": (n, 1, 28, 28), "signal": (n, 3, 32), "table": (n, 5)}
    x = RNG.random(shapes[kind]).astype(np.float32)
    return Dataset(x=x, y=np.arange(n) % classes, kind=kind, class_names=tuple("abcdefgh"[:classes]))


# ----------------------------------------------------------------------------- every registry
CONTRACTS = {
    "backbone": BACKBONES,
    "strategy": STRATEGIES,
    "transferability score": SCORES,
    "distance": DISTANCES,
    "deep adaptation method": DEEP_METHODS,
    "shallow adaptation method": SHALLOW_METHODS,
    "multi-task weighting": WEIGHTINGS,
    "multi-task sampler": TASK_SAMPLERS,
    "pre-training objective": OBJECTIVES,
    "metric": METRICS,
    "selection score": SELECTION_SCORES,
    "data set": DATASETS,
}


def test_every_registry_has_a_contract() -> None:
    """Import every module of the package; every Registry found must have a contract here."""
    found: dict[int, Registry] = {}
    for m in pkgutil.walk_packages(transferkit.__path__, "transferkit."):
        try:
            mod = importlib.import_module(m.name)
        except ImportError:  # an optional extra that is not installed
            continue
        found.update({id(v): v for v in vars(mod).values() if isinstance(v, Registry)})
    kinds = sorted(r.kind for r in found.values())
    assert len(kinds) == len(set(kinds)), f"two registries share a kind: {kinds}"
    missing = set(kinds) - set(CONTRACTS)
    assert not missing, f"registries without a contract test in this file: {sorted(missing)}"
    for r in found.values():
        assert len(r) > 0, f"the {r.kind} registry is empty"


@pytest.mark.parametrize("kind", sorted(CONTRACTS))
def test_unknown_names_raise_unknown_name_with_suggestions(kind: str) -> None:
    registry = CONTRACTS[kind]
    first = registry.names()[0]
    typo = first[:-1] + ("x" if first[-1] != "x" else "y")
    with pytest.raises(UnknownName) as info:
        registry.get(typo)
    err = info.value
    assert isinstance(err, KeyError) and err.kind == kind and first in err.known
    assert str(err).startswith(f"unknown {kind} {typo!r}") and "known: " in str(err)
    assert not str(err).startswith('"')  # the plain message, not KeyError's quoted repr
    if len(first) >= 4:
        assert first in err.suggestions


# ----------------------------------------------------------------------------- backbones
@pytest.mark.parametrize("name", names(BACKBONES))
def test_backbone_info_is_complete_and_lightweight_ones_build(name: str) -> None:
    info = BACKBONES.info(name)
    assert isinstance(info, BackboneInfo) and info.description
    assert info.input_kind in (*KINDS, "any")
    assert info.from_data is None or callable(info.from_data)
    # random weights by default <=> there is nothing to transfer without a source
    kind = info.input_kind if info.input_kind != "any" else "image"
    assert (needs_pretrained_message(name, kind) is None) == info.pretrained_by_default
    if not info.lightweight:
        return
    assert info.offline and not info.takes_argument, "a lightweight provider needs no files and no argument"
    data = tiny_data(info.input_kind)
    backbone = create_backbone(name, data)
    assert backbone.input_kind == info.input_kind
    if info.from_data is not None:
        assert info.from_data(data), "from_data must name the options it fills"
    backbone.eval()
    with torch.no_grad():
        f = backbone.forward_features(backbone.prepare(data.x))
    assert f.shape == (len(data), backbone.num_features) and torch.isfinite(f).all()
    other = next(k for k in KINDS if k not in (info.input_kind, "text"))
    with pytest.raises(BackboneError, match="reads"):
        create_backbone(name, tiny_data(other))


# ----------------------------------------------------------------------------- strategies
@pytest.mark.parametrize("name", names(STRATEGIES))
def test_strategy_info_and_param_groups_cover_trainables_exactly_once(name: str) -> None:
    from transferkit.backbones import TransferModel

    info = STRATEGIES.info(name)
    assert isinstance(info, StrategyInfo) and info.description
    assert info.advice is None or (isinstance(info.advice, str) and info.advice.strip())
    assert strategy_advice(name) == info.advice
    for e in STRATEGIES.entry(name).aliases:
        assert strategy_advice(e) == info.advice
    torch.manual_seed(0)
    model = TransferModel(create_backbone("tabmlp?hidden=8&dropout=0", in_features=5), 2, class_names=("a", "b"))
    strategy = get_strategy(name)
    if info.transformer_only:
        return  # needs attention layers: tested on minilm in test_strategies.py
    strategy.setup(model)
    groups = strategy.param_groups(model, 1e-3, 1e-4)
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids)), "a parameter is in two optimiser groups"
    assert {id(p) for p in model.parameters() if p.requires_grad} <= set(ids), "a trainable parameter is in no group"
    assert all(g["lr"] > 0 for g in groups)


# ----------------------------------------------------------------------------- transferability scores
def score_input(info: ScoreInfo, f: np.ndarray) -> np.ndarray:
    probs = softmax(f[:, :4], axis=1)
    return {"features": f, "probs": probs, "preds": probs.argmax(1)}[info.input]


@pytest.mark.parametrize("name", names(SCORES))
def test_score_returns_a_finite_float_invariant_to_row_order(name: str) -> None:
    info = SCORES.info(name)
    assert isinstance(info, ScoreInfo) and info.summary and isinstance(info.higher_is_better, bool)
    rng = np.random.default_rng(1)
    y = np.arange(48) % 3
    f = rng.normal(size=(48, 6)) + y[:, None]
    x = score_input(info, f)
    fn = SCORES.get(name)
    perm = rng.permutation(len(y))
    if info.task != "regression":
        value = fn(x, y)
        assert isinstance(value, float) and math.isfinite(value)
        assert fn(x[perm], y[perm]) == pytest.approx(value, rel=1e-7, abs=1e-9)
    if info.task != "classification":
        t = f[:, 0] + 0.1 * rng.normal(size=len(f))
        value = fn(x, t, regression=True)
        assert isinstance(value, float) and math.isfinite(value)
        assert fn(x[perm], t[perm], regression=True) == pytest.approx(value, rel=1e-7, abs=1e-9)


# ----------------------------------------------------------------------------- distances
@pytest.mark.parametrize("name", names(DISTANCES))
def test_distance_is_about_zero_for_identical_samples(name: str) -> None:
    info = DISTANCES.info(name)
    assert isinstance(info, DistanceInfo) and info.summary and info.value_range
    a = np.random.default_rng(2).normal(size=(40, 5))
    fn = DISTANCES.get(name)
    same, shifted = fn(a, a.copy()), fn(a, 2.0 * a + 3.0)  # moved and stretched
    assert isinstance(same, float) and math.isfinite(same) and math.isfinite(shifted)
    assert abs(same) < 0.05 and shifted > 10 * max(abs(same), 1e-3), (same, shifted)


# ----------------------------------------------------------------------------- adaptation methods
FAMILIES = ("mapping", "subspace", "reweighting", "adversarial", "discrepancy", "target-structure", "baseline")


@pytest.mark.parametrize("name", names(SHALLOW_METHODS))
def test_shallow_method_fits_and_predicts_probabilities(name: str) -> None:
    from transferkit.adaptation.shallow import stack_domains

    info = SHALLOW_METHODS.info(name)
    assert isinstance(info, MethodInfo) and info.summary and info.reference
    assert info.family in FAMILIES and info.needs == "features"
    rng = np.random.default_rng(3)
    ys = np.arange(40) % 2
    xs = rng.normal(size=(40, 4)) + 2.0 * ys[:, None]
    xt = rng.normal(size=(30, 4)) + 2.0 * (np.arange(30) % 2)[:, None] + 0.5
    est = SHALLOW_METHODS.get(name)()
    assert est.fit(*stack_domains(xs, ys, xt)) is est
    p = est.predict_proba(xt)
    assert p.shape == (30, 2) and np.all(np.isfinite(p)) and np.allclose(p.sum(1), 1.0, atol=1e-6)


@pytest.mark.parametrize("name", names(DEEP_METHODS))
def test_deep_method_gives_a_finite_loss_with_gradients(name: str) -> None:
    from transferkit.adaptation.deep import DeepMethod, StepOutputs

    info = DEEP_METHODS.info(name)
    assert isinstance(info, MethodInfo) and info.summary and info.reference
    assert info.family in FAMILIES and info.needs == "network"
    torch.manual_seed(0)
    method = DEEP_METHODS.get(name)()
    assert isinstance(method, DeepMethod)
    method.setup(8, 3)
    fs, ft = torch.randn(12, 8, requires_grad=True), torch.randn(12, 8, requires_grad=True)
    head = torch.nn.Linear(8, 3)
    out = StepOutputs(fs, ft, head(fs), head(ft), torch.arange(12) % 3)
    loss, logs = method(out, 0.5)
    assert torch.is_tensor(loss) and loss.ndim == 0 and torch.isfinite(loss)
    assert all(isinstance(v, float) and math.isfinite(v) for v in logs.values())
    if loss.requires_grad:
        loss.backward()
        grads = [p.grad for p in (fs, ft, *head.parameters()) if p.grad is not None]
        assert all(torch.isfinite(g).all() for g in grads)


# ----------------------------------------------------------------------------- multi-task
@pytest.mark.parametrize("name", names(WEIGHTINGS))
def test_weighting_fills_finite_gradients_of_the_shared_trunk(name: str) -> None:
    info = WEIGHTINGS.info(name)
    assert isinstance(info, WeightingInfo) and info.kind in ("loss", "gradient") and info.description
    torch.manual_seed(0)
    trunk = create_backbone("tabmlp?hidden=8&dropout=0", in_features=5)
    model = MultiTaskModel(trunk, [HeadSpec("a", 2), HeadSpec("b", 1, "regression")])
    w = get_weighting(name)
    assert isinstance(w, Weighting)
    w.setup(model, ("a", "b"))
    w.on_epoch_start(0, [])
    x = torch.randn(16, 5)
    outs = model.forward_tasks({"a": x, "b": x})
    losses = torch.stack([task_loss(outs["a"], torch.arange(16) % 2, "classification"),
                          task_loss(outs["b"], torch.randn(16), "regression")])
    w.backward(losses, model, lambda loss: loss.backward())
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.shared_parameters())
    weights = w.weights()
    assert weights.shape == (2,) and np.all(np.isfinite(weights))


@pytest.mark.parametrize("name", names(TASK_SAMPLERS))
def test_sampler_gives_probabilities_that_follow_the_tasks(name: str) -> None:
    info = TASK_SAMPLERS.info(name)
    assert isinstance(info, SamplerInfo) and info.description
    sizes = np.array([5, 20, 75])
    p = task_probabilities(sizes, name, temperature=2.0)
    assert p.shape == (3,) and np.all(p > 0) and p.sum() == pytest.approx(1.0)
    assert np.all(np.diff(p) >= -1e-12), "a larger task is never sampled less"
    order = np.array([2, 0, 1])
    np.testing.assert_allclose(task_probabilities(sizes[order], name, temperature=2.0), p[order])
    if not info.uses_temperature:
        np.testing.assert_allclose(task_probabilities(sizes, name, temperature=5.0), p)


# ----------------------------------------------------------------------------- pre-training
@pytest.mark.parametrize("name", names(OBJECTIVES))
def test_objective_trains_one_tiny_epoch(name: str, tmp_path: Path) -> None:
    """Unlabelled objectives get a source without labels: they must not need any."""
    info = OBJECTIVES.info(name)
    assert isinstance(info, ObjectiveInfo) and isinstance(info.needs_labels, bool) and info.description
    rng = np.random.default_rng(4)

    def part(n: int, labelled: bool) -> Dataset:
        x = rng.normal(size=(n, 5)).astype(np.float32)
        y = (x[:, 0] > 0).astype(np.int64) if labelled else None
        return Dataset(x=x, y=y, kind="table", class_names=("a", "b") if labelled else None)

    torch.manual_seed(0)
    bb = create_backbone("tabmlp?hidden=8&dropout=0", in_features=5)
    train = part(32, info.needs_labels)
    bb.fit_preprocessing(train.x)
    settings = PretrainSettings(epochs=1, batch_size=8, proj_dim=4, progress=False)
    run = ObjectiveRun(bb, train, part(8, True), part(8, True), settings, tmp_path / "ckpt", False)
    res = OBJECTIVES.get(name)(run)
    assert isinstance(res, ObjectiveResult) and res.history
    assert all(math.isfinite(v) for h in res.history for v in h.values())
    assert res.metrics.get("primary") in res.metrics


# ----------------------------------------------------------------------------- metrics
def metric_case(info: MetricInfo, n: int = 30) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Targets, random outputs and perfect outputs for a metric's task."""
    rng = np.random.default_rng(5)
    if info.task == "regression":
        y = rng.normal(size=n)
        return y, y + rng.normal(size=n), y.copy()
    k = 2 if info.binary_only else 3
    y = np.arange(n) % k
    return y, rng.normal(size=(n, k)), 5.0 * np.eye(k)[y]


@pytest.mark.parametrize("name", names(METRICS))
def test_metric_stays_in_its_range_and_perfect_outputs_reach_the_best_end(name: str) -> None:
    info = METRICS.info(name)
    assert isinstance(info, MetricInfo) and info.summary and HIGHER_IS_BETTER[name] == info.higher_is_better
    lo, hi = info.value_range
    fn = METRICS.get(name)
    y, out, perfect = metric_case(info)
    value = fn(y, out)
    assert isinstance(value, float) and math.isfinite(value) and lo <= value <= hi
    perm = np.random.default_rng(6).permutation(len(y))
    assert fn(y[perm], out[perm]) == pytest.approx(value, rel=1e-9, abs=1e-12)
    best = fn(y, perfect)
    assert best == pytest.approx(hi if info.higher_is_better else lo, abs=1e-9)
    assert (best > value) if info.higher_is_better else (best < value)


# ----------------------------------------------------------------------------- selection scores
@pytest.mark.parametrize("name", names(SELECTION_SCORES))
def test_selection_score_is_finite_and_invariant_to_row_order(name: str) -> None:
    info = SELECTION_SCORES.info(name)
    assert isinstance(info, SelectionScoreInfo) and info.caveat and info.summary
    assert CAVEATS[name] == info.caveat and (name in LABEL_FREE_SCORES) == info.label_free
    rng = np.random.default_rng(7)
    inputs = {
        "y_val": np.arange(20) % 3,
        "proba_val": softmax(rng.normal(size=(20, 3)), axis=1),
        "weights": rng.uniform(0.5, 2.0, size=20),
        "feature_weights": rng.uniform(0.3, 3.0, size=20),
        "domain_gap": 0.7,
        "proba_target": softmax(rng.normal(size=(25, 3)), axis=1),
        "y_target_val": np.arange(12) % 3,
        "proba_target_val": softmax(rng.normal(size=(12, 3)), axis=1),
    }
    value = selection_score(name, **inputs)
    assert isinstance(value, float) and math.isfinite(value)
    perms = {n: np.random.default_rng(8).permutation(n) for n in (20, 25, 12)}
    shuffled = {k: v[perms[len(v)]] if np.ndim(v) else v for k, v in inputs.items()}
    assert selection_score(name, **shuffled) == pytest.approx(value, rel=1e-9, abs=1e-12)


# ----------------------------------------------------------------------------- data sets
@pytest.mark.parametrize("name", names(DATASETS))
def test_data_set_info_is_complete_and_embedded_sets_load(name: str) -> None:
    info = DATASETS.info(name)
    assert isinstance(info, DatasetInfo) and info.description and info.kind in KINDS
    assert info.splits and "all" in info.splits
    assert (info.folder is None) == (not info.files), "files live in a folder; embedded sets need none"
    if info.folder is None:
        ds = load_dataset(name)
        assert ds.kind == info.kind and len(ds) > 0 and ds.y is not None
