"""Deep domain adaptation: building blocks, one short run of every method, the loop's contracts."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

from transferkit.adaptation import DEEP_METHODS, MethodInfo
from transferkit.adaptation.deep import (
    AdaptationNetwork,
    DeepConfig,
    LeNet,
    dann_coefficient,
    gradient_reversal,
    predict_outputs,
    train_adaptation,
)
from transferkit.adaptation.deep.dan import mk_mmd
from transferkit.adaptation.deep.deep_coral import coral_loss
from transferkit.adaptation.deep.mcc import class_confusion
from transferkit.errors import DataError

ALL = ("source_only", "dann", "deep_coral", "dan", "cdan", "mcc", "self_training")


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    yield


def digit_like(n: int, shift: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes of 16x16 images: a bright left or right half, plus a domain-wide brightness shift."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = 0.3 * torch.randn(n, 1, 16, 16, generator=g)
    x[y == 0, :, :, :8] += 1.0
    x[y == 1, :, :, 8:] += 1.0
    return x + shift, y


def test_registry_holds_every_deep_method() -> None:
    assert set(ALL) <= set(DEEP_METHODS.names())
    for e in DEEP_METHODS:
        assert isinstance(e.info, MethodInfo) and e.info.needs == "network"


def test_gradient_reversal_is_identity_forward_and_negates_backward() -> None:
    x = torch.randn(4, 3, requires_grad=True)
    y = gradient_reversal(x, 0.7)
    assert torch.equal(y, x)
    y.sum().backward()
    assert torch.allclose(x.grad, torch.full_like(x, -0.7))


def test_dann_schedule_endpoints() -> None:
    assert dann_coefficient(0.0) == 0.0
    assert dann_coefficient(1.0) == pytest.approx(0.9999, abs=1e-4)
    assert dann_coefficient(0.2) < dann_coefficient(0.5) < dann_coefficient(0.9)


def test_discrepancies_vanish_for_equal_samples_and_grow_with_shift() -> None:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(64, 5, generator=g)
    assert coral_loss(a, a) == pytest.approx(0.0, abs=1e-8)
    assert coral_loss(a, 3 * a) > coral_loss(a, 1.5 * a) > 0
    assert mk_mmd(a, a) == pytest.approx(0.0, abs=1e-6)
    assert mk_mmd(a, a + 2.0) > mk_mmd(a, a + 0.5) > 0


def test_class_confusion_is_low_for_confident_distinct_predictions() -> None:
    confident = 10 * torch.eye(4).repeat(8, 1)
    confused = torch.zeros(32, 4)
    assert class_confusion(confident) < class_confusion(confused)


@pytest.mark.parametrize("name", ALL)
def test_every_method_trains_one_short_run(name: str) -> None:
    xs, ys = digit_like(64, 0.0, 0)
    xt, _ = digit_like(64, 0.5, 1)
    net = AdaptationNetwork(LeNet(image_size=16), 2)
    before = [p.detach().clone() for p in net.parameters()]
    method = DEEP_METHODS.get(name)()
    res = train_adaptation(net, method, xs, ys, xt, DeepConfig(steps=6, batch_size=16, log_every=2))
    assert all(np.isfinite(h["loss"]) for h in res.history)
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
    if name in ("dann", "cdan"):
        assert any(p.requires_grad for p in method.parameters())  # its discriminator was created and trained
        assert "domain_acc" in res.history[-1]
    _, probs = predict_outputs(net, xt)
    assert probs.shape == (64, 2) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_dann_still_learns_the_task_while_aligning_domains() -> None:
    """The reversed domain gradient must not wreck the classifier (a broken GRL sign would)."""
    xs, ys = digit_like(256, 0.0, 2)
    xt, yt = digit_like(256, 0.0, 3)
    torch.manual_seed(0)
    net = AdaptationNetwork(LeNet(image_size=16), 2)
    train_adaptation(net, DEEP_METHODS.get("dann")(), xs, ys, xt, DeepConfig(steps=60, batch_size=32))
    _, p = predict_outputs(net, xt)
    assert (p.argmax(1) == yt.numpy()).mean() > 0.9


def test_loop_signature_has_no_place_for_target_labels() -> None:
    params = set(inspect.signature(train_adaptation).parameters)
    assert params == {"network", "method", "source_x", "source_y", "target_x", "config"}


def test_loop_rejects_bad_input() -> None:
    xs, ys = digit_like(16, 0.0, 0)
    net = AdaptationNetwork(LeNet(image_size=16), 2)
    dann = DEEP_METHODS.get("dann")
    with pytest.raises(DataError, match="labels"):
        train_adaptation(net, dann(), xs, ys[:-1], xs, DeepConfig(steps=1))
    with pytest.raises(DataError, match="single class"):
        train_adaptation(net, dann(), xs, torch.zeros(16, dtype=torch.long), xs, DeepConfig(steps=1))
    with pytest.raises(DataError, match="lie in"):
        train_adaptation(net, dann(), xs, ys + 5, xs, DeepConfig(steps=1))
    bad = xs.clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(DataError, match="NaN"):
        train_adaptation(net, dann(), bad, ys, xs, DeepConfig(steps=1))
    with pytest.raises(DataError, match="needs unlabelled target"):
        train_adaptation(net, dann(), xs, ys, None, DeepConfig(steps=1))
    with pytest.raises(DataError, match="shape"):
        train_adaptation(net, dann(), xs, ys, torch.zeros(4, 1, 8, 8), DeepConfig(steps=1))


def test_adapt_api_runs_a_deep_method_with_source_only_beside_it() -> None:
    from transferkit.adaptation.api import adapt

    xs, ys = digit_like(80, 0.0, 4)
    xt, yt = digit_like(80, 0.3, 5)
    to01 = lambda t: ((t - t.min()) / (t.max() - t.min())).numpy()  # noqa: E731  images in [0, 1]
    res = adapt(
        (to01(xs), ys.numpy()),
        to01(xt),
        "mcc",
        target_val=(to01(xt[:10]), yt[:10].numpy()),
        seeds=[0],
        deep_config=DeepConfig(steps=5, batch_size=16),
    )
    assert res.kind == "deep"
    assert [r["model"] for r in res.rows] == ["source-only", "mcc"]
    assert res.verdict.verdict in {"adaptation helped", "negative transfer", "inconclusive"}
    rows = res.evaluate(to01(xt), yt.numpy())
    assert all(0.0 <= r["target_accuracy"] <= 1.0 for r in rows)
