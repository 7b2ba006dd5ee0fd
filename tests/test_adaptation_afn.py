"""AFN: the stepwise norm push, the bottleneck it needs, and a clear stop without one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_adaptation_deep import digit_like  # the same two-domain toy images

from transferkit.adaptation import DEEP_METHODS
from transferkit.adaptation.deep import AdaptationNetwork, DeepConfig, LeNet, predict_outputs, train_adaptation
from transferkit.adaptation.deep._base import StepOutputs
from transferkit.adaptation.deep.afn import AFN, NormBottleneck, adaptive_feature_norm


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    yield


def test_registered_with_the_papers_defaults() -> None:
    entry = DEEP_METHODS.entry("safn")
    assert entry.name == "afn" and entry.info.needs == "network" and "ICCV 2019" in entry.info.reference
    m = DEEP_METHODS.get("afn")()
    assert (m.weight, m.delta, m.entropy_weight) == (0.05, 1.0, 0.0)
    with pytest.raises(ValueError, match="delta"):
        AFN(delta=0.0)


def test_one_gradient_step_grows_every_norm_by_the_same_amount() -> None:
    f = torch.randn(8, 5, generator=torch.Generator().manual_seed(0)) * torch.arange(1, 9).view(8, 1)
    f.requires_grad_(True)
    loss = adaptive_feature_norm(f, delta=1.0)
    assert loss.item() == pytest.approx(1.0)  # the value is always delta^2; only the gradient matters
    loss.backward()
    with torch.no_grad():
        grown = (f - 0.1 * f.grad).norm(dim=1) - f.norm(dim=1)
    # gradient of the mean over 8 rows: -2 delta / 8 along each row's direction
    torch.testing.assert_close(grown, torch.full((8,), 0.1 * 2 * 1.0 / 8))


def test_norms_grow_steadily_behind_the_bottleneck() -> None:
    torch.manual_seed(0)
    net = NormBottleneck(LeNet(image_size=16), dim=32, dropout=0.0)
    net.backbone.eval()  # no dropout noise: the bottleneck's BatchNorm still trains on batch statistics
    xs, _ = digit_like(32, 0.0, 0)
    xt, _ = digit_like(32, 0.5, 1)
    method = AFN()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    norms = []
    for _ in range(20):
        f = net.forward_features(torch.cat([xs, xt]))  # one forward over both domains, as in the loop
        loss, logs = method(StepOutputs(f[:32], f[32:], f[:32], f[32:], torch.zeros(32, dtype=torch.long)), 0.5)
        norms.append(logs["norm_s"] + logs["norm_t"])
        opt.zero_grad()
        loss.backward()
        opt.step()
    norms = np.array(norms)
    assert np.mean(np.diff(norms) > 0) >= 0.75 and norms[-5:].mean() > norms[:5].mean() * 1.05
    assert norms[-1] < 2 * norms[0]  # about linear growth, no runaway


def test_short_run_with_the_bottleneck() -> None:
    xs, ys = digit_like(64, 0.0, 0)
    xt, _ = digit_like(64, 0.5, 1)
    torch.manual_seed(0)
    net = AdaptationNetwork(NormBottleneck(LeNet(image_size=16)), 2)
    groups = net.backbone.layer_groups()
    ids = [id(p) for g in groups for p in g.parameters()]
    assert len(ids) == len(set(ids)) == len(list(net.backbone.parameters()))
    res = train_adaptation(net, AFN(entropy_weight=0.1), xs, ys, xt, DeepConfig(steps=8, batch_size=16, log_every=2))
    assert all(np.isfinite(h["train_loss"]) for h in res.history)
    assert {"norm_s", "norm_t", "target_entropy"} <= set(res.history[-1])
    _, probs = predict_outputs(net, xt)
    assert probs.shape == (64, 2) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_runaway_norms_without_a_normalisation_layer_stop_with_a_clear_error() -> None:
    xs, ys = digit_like(64, 0.0, 0)
    xt, _ = digit_like(64, 0.5, 1)
    torch.manual_seed(0)
    net = AdaptationNetwork(LeNet(image_size=16), 2)  # ends Linear-ReLU-Dropout: no normalisation
    with pytest.raises(FloatingPointError, match="NormBottleneck"):
        train_adaptation(net, AFN(), xs, ys, xt, DeepConfig(steps=300, batch_size=16))


def test_adapt_api_with_the_bottleneck_as_backbone() -> None:
    from transferkit.adaptation.api import adapt

    xs, ys = digit_like(80, 0.0, 4)
    xt, yt = digit_like(80, 0.3, 5)
    to01 = lambda t: ((t - t.min()) / (t.max() - t.min())).numpy()  # noqa: E731  images in [0, 1]
    res = adapt((to01(xs), ys.numpy()), to01(xt), "afn", backbone=NormBottleneck(LeNet(image_size=16)), seeds=[0],
                deep_config=DeepConfig(steps=5, batch_size=16))
    assert [r["model"] for r in res.rows] == ["source-only", "afn"]
    assert all(0.0 <= r["target_accuracy"] <= 1.0 for r in res.evaluate(to01(xt), yt.numpy()))
