"""Contract tests for every registered strategy, plus each strategy's own promise."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from transferkit.backbones import create_backbone
from transferkit.data import Dataset
from transferkit.errors import BackboneError, UnknownName
from transferkit.strategies import (
    L2SP,
    STRATEGIES,
    DiscriminativeLR,
    FineTune,
    GradualUnfreeze,
    LinearProbe,
    LoRA,
    Scratch,
    get_strategy,
    reinitialize,
)
from transferkit.training import TrainConfig, TransferModel, apply_batchnorm_policy, predict, train

SPEC = "smallcnn?image_size=8&width=4&num_features=8"


def model() -> TransferModel:
    torch.manual_seed(0)
    return TransferModel(create_backbone(SPEC), 3, class_names=("top", "bottom", "left"))


def bn_stats(m: torch.nn.Module) -> list[torch.Tensor]:
    return [b.running_mean.clone() for b in m.modules() if isinstance(b, torch.nn.BatchNorm2d)]


def test_registry_has_every_strategy_by_name_and_alias() -> None:
    expected = {"linear_probe", "finetune", "gradual_unfreeze", "discriminative_lr", "lp_ft", "l2sp", "lora", "scratch",
                "auto"}
    assert expected <= set(STRATEGIES.names())
    assert isinstance(get_strategy("layer_decay", decay=0.5), DiscriminativeLR)
    obj = FineTune(freeze=1)
    assert get_strategy(obj) is obj
    with pytest.raises(UnknownName, match="unknown strategy 'fine_tunning'; did you mean 'fine_tune'"):
        get_strategy("fine_tunning")
    with pytest.raises(TypeError, match="not a strategy"):
        get_strategy(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", STRATEGIES.names())
def test_param_groups_cover_trainable_parameters_exactly_once(name: str) -> None:
    m = model()
    strat = get_strategy(name)
    if STRATEGIES.info(name).transformer_only:
        with pytest.raises(BackboneError, match="transformer"):
            strat.setup(m)
        return
    strat.setup(m)
    groups = strat.param_groups(m, 1e-3, 1e-4)
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids)), "a parameter appears in two optimiser groups"
    trainable = {id(p) for p in m.parameters() if p.requires_grad}
    assert trainable <= set(ids), "a trainable parameter is in no optimiser group"
    assert all(g["lr"] > 0 for g in groups)


def test_frozen_batchnorm_keeps_its_running_statistics(images) -> None:
    m = model()
    before = bn_stats(m.backbone.block1)
    before_free = bn_stats(m.backbone.block3)
    train(m, images(), None, TrainConfig(epochs=2, batch_size=16, progress=False), FineTune(freeze=1))
    assert all(torch.equal(a, b) for a, b in zip(before, bn_stats(m.backbone.block1), strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(before_free, bn_stats(m.backbone.block3), strict=True))
    # the same policy holds for everything frozen by a strategy during gradual unfreezing
    g = model()
    GradualUnfreeze().setup(g)
    g.train()
    apply_batchnorm_policy(g)
    assert all(not b.training for b in g.backbone.modules() if isinstance(b, torch.nn.BatchNorm2d))


def test_freeze_spec_by_name_and_bad_names() -> None:
    m = model()
    FineTune(freeze=["backbone.block2"]).setup(m)
    assert not any(p.requires_grad for p in m.backbone.block2.parameters())
    assert all(p.requires_grad for p in m.backbone.block1.parameters())
    FineTune(freeze="backbone").setup(m)
    assert not any(p.requires_grad for p in m.backbone.parameters()) and all(p.requires_grad for p in m.head.parameters())
    with pytest.raises(ValueError, match="unknown module names"):
        FineTune(freeze=["backbone.nope"]).setup(m)
    with pytest.raises(ValueError, match="layer groups"):
        FineTune(freeze=7).setup(m)


def test_gradual_unfreezing_goes_from_the_top_down() -> None:
    m = model()
    s = GradualUnfreeze(epochs_per_stage=2)
    s.setup(m)
    groups = m.backbone.layer_groups()
    seen = []
    for epoch in range(8):
        s.on_epoch_start(epoch, m)
        seen.append(tuple(i for i, g in enumerate(groups) if all(p.requires_grad for p in g.parameters())))
        assert all(p.requires_grad for p in m.head.parameters())
        frozen = [i for i, g in enumerate(groups) if not any(p.requires_grad for p in g.parameters())]
        assert sorted(frozen + list(seen[-1])) == [0, 1, 2]
    assert seen == [(), (), (2,), (2,), (1, 2), (1, 2), (0, 1, 2), (0, 1, 2)]


def test_l2sp_penalty_is_zero_at_start_and_grows_with_distance(images) -> None:
    m = model()
    s = L2SP(alpha=0.1)
    s.setup(m)
    assert float(s.penalty().detach()) == 0.0
    p = next(m.backbone.parameters())
    with torch.no_grad():
        p.add_(0.1)
    small = float(s.penalty().detach())
    with torch.no_grad():
        p.add_(0.1)
    assert small > 0 and float(s.penalty().detach()) == pytest.approx(4 * small, rel=1e-4)
    assert float(s.regularizer(m).detach()) == pytest.approx(0.05 * float(s.penalty().detach()), rel=1e-5)
    # and training moves the weights, so the penalty is positive afterwards
    s2 = L2SP(alpha=0.01)
    m2 = model()
    train(m2, images(), None, TrainConfig(epochs=1, batch_size=16, progress=False), s2)
    assert float(s2.penalty().detach()) > 0


def test_discriminative_learning_rates_decrease_toward_the_input() -> None:
    m = model()
    groups = DiscriminativeLR(decay=0.5).param_groups(m, 1.0, 0.0)
    lrs = [g["lr"] for g in groups]
    assert [g["name"] for g in groups][-1] == "head" and lrs[-1] == 1.0
    assert all(a < b for a, b in zip(lrs, lrs[1:], strict=False))
    assert lrs == pytest.approx([0.125, 0.25, 0.5, 1.0])
    flat = [g["lr"] for g in DiscriminativeLR(decay=1.0).param_groups(m, 0.1, 0.0)]
    assert flat == pytest.approx([0.1] * 4)


def test_scratch_reinitialises_weights_and_batchnorm(images) -> None:
    m = model()
    train(m, images(), None, TrainConfig(epochs=1, batch_size=16, progress=False))
    w0 = m.backbone.block1[0].weight.detach().clone()
    assert any(float(b.abs().sum()) > 0 for b in bn_stats(m))
    reinitialize(m, seed=1)
    assert not torch.equal(w0, m.backbone.block1[0].weight)
    assert all(float(b.abs().sum()) == 0 for b in bn_stats(m))
    s = Scratch()
    assert s.default_lr(m) > FineTune().default_lr(m)


def test_linear_probe_head_reproduces_scikit_learn(images) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from transferkit.features import extract_features

    data, val = images(60, 0), images(30, 1)
    m = model()
    w_before = [p.detach().clone() for p in m.backbone.parameters()]
    s = LinearProbe(Cs=(0.5,))
    res = s.fit(m, data, val, TrainConfig(progress=False))
    assert res.best_epoch == 1 and 0 <= res.best_score <= 1
    assert all(torch.equal(a, b) for a, b in zip(w_before, m.backbone.parameters(), strict=True))
    f_tr = extract_features(m.backbone, data, cache=False, progress=False)
    f_va = extract_features(m.backbone, val, cache=False, progress=False)
    sc = StandardScaler().fit(f_tr)
    ref = LogisticRegression(C=0.5, max_iter=2000, class_weight="balanced").fit(sc.transform(f_tr), data.y)
    ours = torch.softmax(torch.as_tensor(s.predict(m, val)), 1).numpy()
    np.testing.assert_allclose(ours, ref.predict_proba(sc.transform(f_va)), atol=1e-4)
    # the probe's predictions equal a full forward pass through the model
    np.testing.assert_allclose(s.predict(m, val), predict(m, val), atol=1e-4)


def test_linear_probe_binary_and_mlp_heads(images) -> None:
    data = images(60)
    keep = data.y < 2
    binary = Dataset(x=data.x[keep], y=data.y[keep], kind="image", class_names=("top", "bottom"))
    for head in ("logistic", "ridge", "mlp"):
        m = TransferModel(create_backbone(SPEC), 2)
        LinearProbe(head=head, Cs=(1.0,)).fit(m, binary, binary, TrainConfig(progress=False))
        out = predict(m, binary)
        assert out.shape == (len(binary), 2)
        assert np.mean(out.argmax(1) == binary.y) > 0.9, head


def test_auto_chooses_on_validation_and_says_why(images) -> None:
    data, val = images(60, 0), images(30, 1)
    cands = [("finetune", {"freeze": "backbone"}, 1e-9), ("linear_probe", {}, None)]
    s = get_strategy("auto", candidates=cands)
    m = model()
    s.fit(m, data, val, TrainConfig(epochs=2, batch_size=16, progress=False))
    assert s.chosen is not None and s.chosen.name == "linear_probe"
    assert "picked linear_probe" in s.reason and "validation" in s.reason
    assert [t["strategy"] for t in s.trials] == ["finetune", "linear_probe"]
    # a second fit reuses the choice (same recipe on every seed)
    s.fit(model(), data, val, TrainConfig(epochs=2, batch_size=16, progress=False))
    assert len(s.trials) == 2


def test_lora_on_minilm_trains_only_adapters_and_head() -> None:
    pytest.importorskip("peft")
    try:
        bb = create_backbone("minilm?max_length=16")
    except BackboneError as exc:
        pytest.skip(f"minilm not available: {exc}")
    texts = np.array(["win a free prize now", "call me later", "free cash, text WIN", "see you at lunch",
                      "claim your reward today", "are we still on for tonight"], dtype=object)
    data = Dataset(x=texts, y=np.array([1, 0, 1, 0, 1, 0]), kind="text", class_names=("ham", "spam"))
    m = TransferModel(bb, 2)
    ref = copy.deepcopy(m)
    s = LoRA(r=4, alpha=8)
    s.setup(m)
    trainable = [n for n, p in m.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n or n.startswith("head.") for n in trainable)
    np.testing.assert_allclose(predict(m, data), predict(ref, data), atol=1e-5)  # B = 0: starts unchanged
    base = {n: p.detach().clone() for n, p in m.named_parameters() if "lora_" not in n and not n.startswith("head.")}
    lora_b = {n: p.detach().clone() for n, p in m.named_parameters() if "lora_B" in n}
    s.fit(m, data, None, TrainConfig(epochs=2, batch_size=6, lr=1e-2, progress=False))
    assert all(torch.equal(base[n], p) for n, p in m.named_parameters() if n in base)
    assert any(not torch.equal(lora_b[n], p) for n, p in m.named_parameters() if n in lora_b)


def test_scratch_really_reinitialises_hugging_face_encoders() -> None:
    """transformers marks loaded weights as initialised and its initialisers skip them: scratch must not."""
    try:
        bb = create_backbone("minilm?max_length=16")
    except BackboneError as exc:
        pytest.skip(f"minilm not available: {exc}")
    before = {k: v.clone() for k, v in bb.state_dict().items()}
    reinitialize(bb, seed=0)
    after = bb.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert len(changed) >= len(before) - 2  # all but zero-initialised biases that were zero already
    q = after["model.encoder.layer.0.attention.self.query.weight"]
    assert abs(float(q.std()) - bb.model.config.initializer_range) < 0.005  # the config's random init


SMS_LIKE = np.array(["WIN a free prize now, text CLAIM to 80080", "call me when you get home", "free cash! txt WIN now",
                     "see you at lunch tomorrow", "claim your £500 reward today, reply YES", "are we still on for tonight",
                     "URGENT! you have won a holiday, call 0906 now", "ok lol, on my way", "Congratulations, free entry "
                     "to our weekly draw, txt GO", "can you pick up some milk", "you are selected for a cash prize, "
                     "call now", "thanks, talk later"], dtype=object)


def _sms() -> Dataset:
    return Dataset(x=SMS_LIKE, y=np.array([1, 0] * 6), kind="text", class_names=("ham", "spam"))


def test_contrastive_pairs_are_balanced_and_correct() -> None:
    from transferkit.errors import DataError
    from transferkit.strategies import contrastive_pairs

    y = np.array([0] * 9 + [1] * 3)
    pairs = contrastive_pairs(y, 200, seed=0)
    assert pairs.shape == (200, 3) and pairs[:, 2].sum() == 100
    same = pairs[pairs[:, 2] == 1]
    diff = pairs[pairs[:, 2] == 0]
    assert np.all(y[same[:, 0]] == y[same[:, 1]]) and np.all(same[:, 0] != same[:, 1])
    assert np.all(y[diff[:, 0]] != y[diff[:, 1]])
    assert np.array_equal(pairs, contrastive_pairs(y, 200, seed=0))
    with pytest.raises(DataError, match="two classes"):
        contrastive_pairs(np.zeros(5, dtype=int), 10, 0)
    with pytest.raises(DataError, match="at least two examples"):
        contrastive_pairs(np.array([0, 1]), 10, 0)


def test_setfit_schedule_warms_up_for_a_tenth_of_the_steps_rounded_down_but_at_least_one() -> None:
    from transferkit.training import lr_factor

    # SetFit's pair stage runs with schedule="linear_warmup", warmup=0.1
    assert [lr_factor("linear_warmup", s, 4, 0.1) for s in range(4)] == [1.0, 1.0, 2 / 3, 1 / 3]
    assert [lr_factor("linear_warmup", s, 26, 0.1) for s in range(3)] == [0.5, 1.0, 24 / 24]
    assert lr_factor("linear_warmup", 25, 26, 0.1) == 1 / 24


def test_setfit_tunes_the_encoder_then_fits_a_head() -> None:
    from transferkit.errors import DataError
    from transferkit.strategies import SetFit

    try:
        bb = create_backbone("minilm?max_length=24")
    except BackboneError as exc:
        pytest.skip(f"minilm not available: {exc}")
    data = _sms()
    m = TransferModel(bb, 2, class_names=data.class_names)
    w0 = m.backbone.model.encoder.layer[0].attention.self.query.weight.detach().clone()
    s = get_strategy("setfit", max_pairs=48, batch_size=8)
    res = s.fit(m, data, None, TrainConfig(progress=False, select_metric="macro_f1"))
    assert not torch.equal(w0, m.backbone.model.encoder.layer[0].attention.self.query.weight)
    assert res.history[0]["pair_loss"] > 0 and res.config["pairs"] == 48
    # the pair stage ran through the engine: its own TrainResult, with SetFit's schedule
    (pair,) = s.pair_results
    assert pair.config["schedule"] == "linear_warmup" and pair.config["warmup"] == 0.1
    assert pair.config["lr"] == 2e-5 and pair.config["weight_decay"] == 0.01 and pair.config["max_grad_norm"] is None
    assert [h["train_loss"] for h in pair.history] == [res.history[0]["pair_loss"]]
    assert res.config["probe"]["selected_on"].startswith("3-fold CV")  # no validation labels: CV inside the labels
    out = s.predict(m, data)
    np.testing.assert_allclose(out, predict(m, data), atol=1e-4)  # the head sits on the tuned encoder
    assert np.mean(out.argmax(1) == data.y) >= 0.9
    assert isinstance(s, SetFit) and s.describe()["probe"]["name"] == "linear_probe"
    reg = TransferModel(create_backbone("minilm?max_length=8"), 1, task="regression")
    with pytest.raises(DataError, match="classification"):
        SetFit().fit(reg, data, None, TrainConfig(progress=False))


def test_linear_probe_self_training_uses_unlabelled_examples_only_as_inputs(images) -> None:
    data, val = images(12, 0), images(30, 1)
    pool = images(90, 2)
    unlabeled = Dataset(x=pool.x, y=None, kind="image")
    m = model()
    s = LinearProbe(Cs=(1.0,), unlabeled=unlabeled, self_training_rounds=2, confidence=0.8)
    res = s.fit(m, data, None, TrainConfig(progress=False))
    info = res.config["self_training"]
    assert info["unlabeled"] == 90 and len(info["rounds"]) == 2 and info["kept"]
    assert 0 < info["rounds"][-1]["pseudo_labels"] <= 90
    assert np.mean(s.predict(m, pool).argmax(1) == pool.y) > 0.8
    # with a validation split, the self-trained head must not lose on validation, else it is dropped
    s2 = LinearProbe(Cs=(1.0,), unlabeled=unlabeled, self_training_rounds=1)
    info2 = s2.fit(model(), data, val, TrainConfig(progress=False)).config["self_training"]
    assert "val_score" in info2 and isinstance(info2["kept"], bool)
    with pytest.raises(ValueError, match="unlabeled"):
        LinearProbe(self_training_rounds=1)
    with pytest.raises(ValueError, match="at least one"):
        LinearProbe(unlabeled=Dataset(x=pool.x[:0], y=None, kind="image"), self_training_rounds=1)
    with pytest.raises(ValueError, match="probabilities"):
        LinearProbe(head="ridge", unlabeled=unlabeled, self_training_rounds=1)


def test_auto_offers_setfit_for_text_classification() -> None:
    from transferkit.strategies.auto import default_candidates

    try:
        bb = create_backbone("minilm?max_length=8")
    except BackboneError as exc:
        pytest.skip(f"minilm not available: {exc}")
    cands, why = default_candidates(TransferModel(bb, 2), 64, cpu=True)
    assert [c[0] for c in cands] == ["linear_probe", "lp_ft", "finetune", "setfit"] and "SetFit" in why
    cands, _ = default_candidates(model(), 64, cpu=True)
    assert "setfit" not in [c[0] for c in cands]


def test_setfit_encoder_self_training_adds_a_contrastive_round_on_pseudo_labels() -> None:
    from transferkit.strategies import SetFit

    try:
        bb = create_backbone("minilm?max_length=24")
    except BackboneError as exc:
        pytest.skip(f"minilm not available: {exc}")
    unlabeled = Dataset(x=np.array(["FREE prize waiting, txt NOW to claim", "running late, see you soon",
                                    "you won a £1000 voucher, call 0800 now", "dinner at 7?"], dtype=object),
                        y=None, kind="text")
    s = SetFit(max_pairs=24, batch_size=8, unlabeled=unlabeled, encoder_rounds=1, self_training_rounds=1,
               confidence=0.5)
    m = TransferModel(bb, 2)
    res = s.fit(m, _sms(), None, TrainConfig(progress=False, select_metric="macro_f1"))
    enc = res.config["encoder_self_training"]
    assert enc["unlabeled"] == 4 and enc["rounds"][0]["pseudo_labels"] == 4  # confidence 0.5 keeps all
    pair_epochs = [h for h in res.history if "pair_loss" in h]
    assert len(pair_epochs) == 2 and res.config["pairs"] == 24 + 24
    assert [len(r.history) for r in s.pair_results] == [1, 1]  # the same pair trainer, run again on pseudo-labels
    assert [r.history[0]["train_loss"] for r in s.pair_results] == [h["pair_loss"] for h in pair_epochs]
    assert [h["epoch"] for h in res.history] == list(range(1, len(res.history) + 1))
    assert res.config["probe"]["self_training"]["unlabeled"] == 4
    with pytest.raises(ValueError, match="unlabeled"):
        SetFit(encoder_rounds=1)


def test_linear_probe_without_validation_chooses_by_cross_validation(images) -> None:
    data = images(30, 0)
    res = LinearProbe().fit(model(), data, None, TrainConfig(progress=False))
    assert res.config["selected_on"] == "3-fold CV on the training data"
    assert len(res.history) == 4 and all("cv_score" in h for h in res.history)
    assert res.best_score == max(h["cv_score"] for h in res.history)
    # regression too (plain folds), and a fixed C when there is too little data to fold
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5)).astype(np.float32)
    reg = Dataset(x=x, y=(2 * x[:, 0]).astype(np.float32), kind="table", task="regression")
    m = TransferModel(create_backbone("tabmlp?hidden=8", reg), 1, task="regression")
    res = LinearProbe().fit(m, reg, None, TrainConfig(progress=False, select_metric="neg_rmse"))
    assert res.config["selected_on"].startswith("3-fold CV")
    tiny = Dataset(x=data.x[:4], y=np.array([0, 1, 2, 0]), kind="image", class_names=("top", "bottom", "left"))
    assert LinearProbe().fit(model(), tiny, None, TrainConfig(progress=False)).config["selected_on"] == "nothing (fixed C)"
