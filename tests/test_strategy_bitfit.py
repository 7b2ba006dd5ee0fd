"""BitFit: only the backbone's biases and the head get gradients and change."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from transferkit.backbones import Backbone, create_backbone
from transferkit.data import Dataset
from transferkit.errors import BackboneError
from transferkit.strategies import STRATEGIES, get_strategy
from transferkit.training import TrainConfig, TransferModel, train


def images(n: int = 48, size: int = 8, channels: int = 1, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.uniform(0, 0.3, size=(n, channels, size, size)).astype(np.float32)
    for i, c in enumerate(y):
        x[i, :, : size // 2] += 0.7 * (c == 0)
        x[i, :, size // 2:] += 0.7 * (c == 1)
        x[i, :, :, : size // 2] += 0.7 * (c == 2)
    return Dataset(x=np.clip(x, 0, 1), y=y.astype(np.int64), kind="image", class_names=("a", "b", "c"))


def is_bias(name: str) -> bool:
    return name.rsplit(".", 1)[-1] == "bias"


def check_only_biases_and_head_train(m: TransferModel, data: Dataset) -> None:
    strat = get_strategy("bitfit")
    strat.setup(m)
    trainable = {n for n, p in m.named_parameters() if p.requires_grad}
    expected = {n for n, _ in m.named_parameters() if n.startswith("head.") or (n.startswith("backbone.") and is_bias(n))}
    assert trainable == expected and any(n.startswith("backbone.") for n in trainable)
    groups = strat.param_groups(m, 1e-3, 1e-4)
    assert [g["name"] for g in groups] == ["biases", "head"] and groups[0]["weight_decay"] == 0.0
    assert sorted(id(p) for g in groups for p in g["params"]) == sorted(
        id(p) for p in m.parameters() if p.requires_grad)
    # gradients reach biases and head only
    m.train()
    out = m(m.backbone.prepare(data.x[:8]))
    torch.nn.functional.cross_entropy(out, torch.as_tensor(data.y[:8])).backward()
    with_grad = {n for n, p in m.named_parameters() if p.grad is not None}
    assert with_grad == expected
    m.zero_grad(set_to_none=True)
    # after training: frozen weights bit-identical, some biases moved
    before = {n: p.detach().clone() for n, p in m.named_parameters()}
    strat.fit(m, data, None, TrainConfig(epochs=2, batch_size=16, lr=1e-2, progress=False))
    after = dict(m.named_parameters())
    assert all(torch.equal(before[n], after[n]) for n in before if n not in expected)
    assert any(not torch.equal(before[n], after[n]) for n in expected if n.startswith("backbone."))


def test_registered() -> None:
    info = STRATEGIES.info("bitfit")
    assert info.uses_backbone_training and not info.transformer_only and not info.needs_layer_groups


def test_bitfit_on_smallcnn() -> None:
    torch.manual_seed(0)
    m = TransferModel(create_backbone("smallcnn?image_size=8&width=4&num_features=8"), 3)
    check_only_biases_and_head_train(m, images())


def test_bitfit_on_a_small_vision_transformer() -> None:
    torch.manual_seed(0)
    bb = create_backbone("timm:test_vit?pretrained=false&image_size=32")
    m = TransferModel(bb, 3)
    assert get_strategy("bitfit").default_lr(m) == 1e-3  # not the 5e-5 of full transformer fine-tuning
    check_only_biases_and_head_train(m, images(12, size=32, channels=3))


def test_bitfit_on_minilm() -> None:
    try:
        bb = create_backbone("minilm?max_length=16")
    except BackboneError as exc:
        pytest.skip(f"minilm not available: {exc}")
    texts = np.array(["win a free prize now", "call me later", "free cash, text WIN", "see you at lunch",
                      "claim your reward today", "are we still on for tonight"], dtype=object)
    data = Dataset(x=texts, y=np.array([1, 0, 1, 0, 1, 0]), kind="text", class_names=("ham", "spam"))
    m = TransferModel(bb, 2)
    strat = get_strategy("bitfit")
    strat.setup(m)
    n_bias = sum(p.numel() for p in m.backbone.parameters() if p.requires_grad)
    assert 0 < n_bias < 0.002 * sum(p.numel() for p in m.backbone.parameters())  # about 0.1%, as in the paper
    before = {n: p.detach().clone() for n, p in m.named_parameters()}
    strat.fit(m, data, None, TrainConfig(epochs=1, batch_size=6, progress=False))
    changed = {n for n, p in m.named_parameters() if not torch.equal(before[n], p)}
    assert changed and all(n.startswith("head.") or is_bias(n) for n in changed)


class _NoBias(Backbone):
    input_kind = "table"
    num_features = 4
    spec = "nobias"

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 4, bias=False)

    def prepare(self, batch):
        return torch.as_tensor(np.asarray(batch, dtype=np.float32))

    def forward_features(self, inputs):
        return self.lin(inputs)

    def layer_groups(self):
        return [self.lin]


def test_backbone_without_biases_is_refused() -> None:
    with pytest.raises(BackboneError, match="no bias terms"):
        get_strategy("bitfit").setup(TransferModel(_NoBias(), 2))


def test_batchnorm_gains_frozen_shifts_train_statistics_follow_the_loop_policy() -> None:
    m = TransferModel(create_backbone("smallcnn?image_size=8&width=4&num_features=8"), 3)
    get_strategy("bitfit").setup(m)
    bns = [b for b in m.backbone.modules() if isinstance(b, nn.BatchNorm2d)]
    assert bns and all(b.bias.requires_grad and not b.weight.requires_grad for b in bns)
    gains = [b.weight.detach().clone() for b in bns]
    stats = [b.running_mean.clone() for b in bns]
    train(m, images(), None, TrainConfig(epochs=1, batch_size=16, lr=1e-2, progress=False), get_strategy("bitfit"))
    assert all(torch.equal(g, b.weight) for g, b in zip(gains, bns))
    # a BatchNorm whose shift trains is a training layer: it adapts its running statistics to the target
    assert all(not torch.equal(s, b.running_mean) for s, b in zip(stats, bns))
