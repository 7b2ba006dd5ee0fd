"""Deep domain adaptation: building blocks, one short run of every method, the trainer's contracts."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

from transferkit.adaptation import DEEP_METHODS, MethodInfo
from transferkit.adaptation.deep import (
    AdaptationNetwork,
    DeepConfig,
    DeepMethod,
    LeNet,
    StepOutputs,
    dann_coefficient,
    gradient_reversal,
    predict_outputs,
    train_adaptation,
)
from transferkit.adaptation.deep._loop import AdaptationTrainer
from transferkit.adaptation.deep.dan import mk_mmd
from transferkit.adaptation.deep.deep_coral import coral_loss
from transferkit.adaptation.deep.mcc import class_confusion
from transferkit.errors import DataError
from transferkit.training.callbacks import Callback
from transferkit.training.loop import fit

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
    assert all(np.isfinite(h["train_loss"]) for h in res.history)
    assert [h["step"] for h in res.history] == [2, 4, 6]
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


def test_loop_takes_target_labels_only_as_the_explicit_labelled_stream() -> None:
    params = set(inspect.signature(train_adaptation).parameters)
    assert params == {"network", "method", "source_x", "source_y", "target_x", "config", "labelled_target"}
    assert inspect.signature(train_adaptation).parameters["labelled_target"].default is None


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


def test_adapt_api_runs_a_deep_method_with_source_only_beside_it(tmp_path) -> None:
    from transferkit.adaptation.api import adapt

    xs, ys = digit_like(80, 0.0, 4)
    xt, yt = digit_like(80, 0.3, 5)
    to01 = lambda t: ((t - t.min()) / (t.max() - t.min())).numpy()  # noqa: E731  images in [0, 1]

    def run(**kw: object) -> object:
        return adapt(
            (to01(xs), ys.numpy()),
            to01(xt),
            "mcc",
            target_val=(to01(xt[:10]), yt[:10].numpy()),
            seeds=[0],
            deep_config=DeepConfig(steps=5, batch_size=16, checkpoint_dir=str(tmp_path), **kw),
        )

    res = run()
    assert res.kind == "deep"
    assert [r["model"] for r in res.rows] == ["source-only", "mcc"]
    assert res.verdict.verdict in {"adaptation helped", "negative transfer", "inconclusive"}
    rows = res.evaluate(to01(xt), yt.numpy())
    assert all(0.0 <= r["target_accuracy"] <= 1.0 for r in rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mcc-seed0", "source_only-seed0"]
    assert run(resume=True).rows == res.rows  # finished runs are loaded from their checkpoints


class _Progress(DeepMethod):
    """Records the progress the trainer hands over; no loss of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[float] = []

    def forward(self, out: StepOutputs, progress: float) -> tuple[torch.Tensor, dict[str, float]]:
        self.seen.append(progress)
        return out.logits_s.new_zeros(()), {}


def test_history_is_one_entry_per_log_every_steps_and_the_lr_is_annealed() -> None:
    xs, ys = digit_like(32, 0.0, 0)
    xt, _ = digit_like(32, 0.5, 1)
    method = _Progress()
    cfg = DeepConfig(steps=7, batch_size=8, lr=0.05, log_every=3, device="cpu")
    res = train_adaptation(AdaptationNetwork(LeNet(image_size=16), 2), method, xs, ys, xt, cfg)
    assert method.seen == [s / 7 for s in range(7)]  # progress = step / steps, as the method papers use it
    assert [h["step"] for h in res.history] == [3, 6, 7]  # the last entry covers the one remaining step
    for h in res.history:  # the lr of the entry's last step, 0-based step = h["step"] - 1
        assert h["lr"] == pytest.approx(0.05 / (1 + 10 * (h["step"] - 1) / 7) ** 0.75, rel=1e-12)
    flat = train_adaptation(AdaptationNetwork(LeNet(image_size=16), 2), _Progress(), xs, ys, xt,
                            DeepConfig(steps=4, batch_size=8, lr=0.05, log_every=2, anneal_lr=False, device="cpu"))
    assert [h["lr"] for h in flat.history] == [0.05, 0.05]


class _StopAt(Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict, state: dict) -> None:
        if epoch == self.epoch:
            raise KeyboardInterrupt  # the loop has checkpointed this epoch already


@pytest.mark.parametrize("name", ["dann", "source_only"])
def test_killed_and_resumed_run_matches_an_uninterrupted_one(name: str, tmp_path) -> None:
    xs, ys = digit_like(40, 0.0, 0)  # 40 rows, batches of 16: both streams reshuffle mid-run
    xt, _ = digit_like(40, 0.5, 1)

    def run(cfg: DeepConfig, stop: int | None = None) -> tuple[AdaptationNetwork, DeepMethod, list[dict]]:
        torch.manual_seed(0)
        net, method = AdaptationNetwork(LeNet(image_size=16), 2), DEEP_METHODS.get(name)()
        if stop is None:
            return net, method, train_adaptation(net, method, xs, ys, xt, cfg).history
        with pytest.raises(KeyboardInterrupt):
            fit(AdaptationTrainer(net, method, xs, ys, xt if method.uses_target else None, cfg),
                cfg.train_config(), [_StopAt(stop)])
        return net, method, []

    cfg = DeepConfig(steps=10, batch_size=16, log_every=3, seed=3, device="cpu")
    net_a, method_a, hist_a = run(cfg)
    ck = DeepConfig(**{**cfg.__dict__, "checkpoint_dir": str(tmp_path / "ck")})
    run(ck, stop=0)  # killed after 3 of 10 steps, mid-way through both streams' permutations
    net_b, method_b, hist_b = run(DeepConfig(**{**ck.__dict__, "resume": True}))
    for a, b in ((net_a, net_b), (method_a, method_b)):
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    drop = lambda h: [{k: v for k, v in e.items() if k != "seconds"} for e in h]  # noqa: E731
    assert drop(hist_a) == drop(hist_b) and len(hist_b) == 4


def test_bf16_autocast_runs_on_cpu() -> None:
    from accelerate.state import AcceleratorState

    xs, ys = digit_like(32, 0.0, 0)
    xt, _ = digit_like(32, 0.5, 1)
    net = AdaptationNetwork(LeNet(image_size=16), 2)
    AcceleratorState._reset_state(True)  # Accelerate fixes the precision once per process
    try:
        res = train_adaptation(net, DEEP_METHODS.get("cdan")(), xs, ys, xt,
                               DeepConfig(steps=4, batch_size=16, log_every=2, mixed_precision="bf16", device="cpu"))
    finally:
        AcceleratorState._reset_state(True)
    assert all(np.isfinite(h["train_loss"]) for h in res.history)
    _, probs = predict_outputs(net, xt)
    assert probs.dtype == np.float32 and np.isfinite(probs).all()
