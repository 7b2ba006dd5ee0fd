"""The training loop: learns, picks the best validation epoch, early-stops, resumes, freezes BN stats."""

import numpy as np
import pytest
import torch

from transferkit.backbones import create_backbone
from transferkit.data import Dataset, load_dataset, train_val_test_split
from transferkit.errors import DataError, UnknownName
from transferkit.training import (
    Callback,
    TrainConfig,
    TrainStrategy,
    TransferModel,
    apply_batchnorm_policy,
    predict,
    set_trainable,
    train,
)


@pytest.fixture(scope="module")
def cancer():
    d = load_dataset("breast-cancer")
    return train_val_test_split(d, seed=0)


def _mlp(ds):
    b = create_backbone("tabmlp?hidden=32,16", ds)
    b.fit_preprocessing(ds.x)
    return TransferModel(b, 2, class_names=ds.class_names)


def test_learns_and_keeps_best_validation_epoch(cancer):
    torch.manual_seed(0)
    m = _mlp(cancer.train)
    seen = []

    class Rec(Callback):
        def on_epoch_end(self, epoch, logs, state):
            seen.append(logs["val_score"])

    res = train(m, cancer.train, cancer.val, TrainConfig(epochs=15, lr=3e-3, patience=None, progress=False),
                callbacks=[Rec()])
    assert len(res.history) == 15 and seen == [h["val_score"] for h in res.history]
    assert res.best_score == max(seen) and res.history[res.best_epoch - 1]["val_score"] == res.best_score
    # the model holds the best epoch's weights
    out = predict(m, cancer.val)
    assert np.mean(out.argmax(1) == cancer.val.y) == pytest.approx(res.best_score)
    test_acc = np.mean(predict(m, cancer.test).argmax(1) == cancer.test.y)
    assert test_acc > 0.9


def test_worker_processes_give_the_same_run(cancer):
    """prepare() in DataLoader workers changes where the work happens, not the result."""
    runs = []
    for workers in (0, 2):
        torch.manual_seed(0)
        m = _mlp(cancer.train)
        res = train(m, cancer.train, cancer.val, TrainConfig(epochs=3, lr=3e-3, patience=None, progress=False,
                                                             num_workers=workers))
        runs.append(([h["train_loss"] for h in res.history], predict(m, cancer.val)))
    assert runs[0][0] == pytest.approx(runs[1][0], rel=1e-6)
    np.testing.assert_allclose(runs[0][1], runs[1][1], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="num_workers"):
        TrainConfig(num_workers=-1)


def test_early_stopping(cancer):
    m = _mlp(cancer.train)
    res = train(m, cancer.train, cancer.val, TrainConfig(epochs=200, lr=1e-2, patience=2, progress=False))
    assert res.stopped_early and len(res.history) < 200


def test_resume_from_checkpoint_continues(tmp_path, cancer):
    cfg = dict(epochs=6, lr=3e-3, patience=None, progress=False, checkpoint_dir=str(tmp_path), seed=1)
    torch.manual_seed(0)
    m1 = _mlp(cancer.train)
    train(m1, cancer.train, cancer.val, TrainConfig(**{**cfg, "epochs": 3}))
    torch.manual_seed(0)
    m2 = _mlp(cancer.train)
    res = train(m2, cancer.train, cancer.val, TrainConfig(**cfg, resume=True))
    assert [h["epoch"] for h in res.history] == [1, 2, 3, 4, 5, 6]
    assert (tmp_path / "best.safetensors").exists() and (tmp_path / "state.json").exists()


def test_frozen_batchnorm_keeps_running_statistics():
    d = load_dataset("digits").subset(range(128))
    b = create_backbone("smallcnn?image_size=8&width=8")
    model = TransferModel(b, 10)
    set_trainable(b.block1, False)
    model.train()
    apply_batchnorm_policy(model)
    bn = b.block1[1]
    before = bn.running_mean.clone()

    class FreezeFirst(TrainStrategy):
        def setup(self, m):
            set_trainable(m, True)
            set_trainable(m.backbone.block1, False)

    train(model, d, None, TrainConfig(epochs=1, progress=False), strategy=FreezeFirst())
    assert torch.equal(bn.running_mean, before)
    assert not torch.equal(b.block2[1].running_mean, torch.zeros_like(b.block2[1].running_mean))


def test_bad_inputs_are_clear(cancer):
    m = _mlp(cancer.train)
    unlabelled = Dataset(x=cancer.train.x, y=None, kind="table")
    with pytest.raises(DataError, match="no labels"):
        train(m, unlabelled)
    three = Dataset(x=cancer.train.x[:3], y=np.array([0, 1, 2]), kind="table", class_names=("a", "b", "c"))
    with pytest.raises(DataError, match="outputs"):
        train(m, three)
    with pytest.raises(ValueError):
        TrainConfig(epochs=0)
    with pytest.raises(UnknownName, match="did you mean|known"):
        TrainConfig(select_metric="vibes")


def test_resumed_runs_see_the_batches_of_an_uninterrupted_run(cancer):
    from transferkit.training.supervised import _SeededShuffle

    full = _SeededShuffle(50, seed=3)
    epochs = [list(full) for _ in range(4)]
    resumed = _SeededShuffle(50, seed=3)
    resumed.skip(2)
    assert [list(resumed) for _ in range(2)] == epochs[2:]
    assert epochs[0] != epochs[1]


class _Stop(Callback):
    """Simulates a killed run: raises after ``at`` epochs (the loop saved that epoch's checkpoint first)."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_epoch_end(self, epoch, logs, state):
        if epoch + 1 == self.at:
            raise KeyboardInterrupt


def test_killed_and_resumed_run_equals_an_uninterrupted_one(tmp_path, cancer):
    """Weights, history and best epoch after kill + resume are those of a run that was never stopped
    (model weights, optimiser state, batch order and the dropout RNG are all in the checkpoint)."""
    spec = "tabmlp?hidden=32,16&dropout=0.3"
    cfg = TrainConfig(epochs=6, lr=3e-3, patience=None, progress=False, seed=1)

    def model():
        torch.manual_seed(0)
        b = create_backbone(spec, cancer.train)
        b.fit_preprocessing(cancer.train.x)
        return TransferModel(b, 2, head="mlp")

    full = model()
    ref = train(full, cancer.train, cancer.val, cfg)
    killed = model()
    ck = TrainConfig(**{**cfg.__dict__, "checkpoint_dir": str(tmp_path)})
    with pytest.raises(KeyboardInterrupt):
        train(killed, cancer.train, cancer.val, ck, callbacks=[_Stop(3)])
    resumed = model()
    res = train(resumed, cancer.train, cancer.val, TrainConfig(**{**ck.__dict__, "resume": True}))
    assert res.resumed_from == 3
    assert [h["train_loss"] for h in res.history] == [h["train_loss"] for h in ref.history]
    assert res.best_epoch == ref.best_epoch
    for k, v in full.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k


def test_checkpoint_every_saves_every_kth_epoch_and_the_last(tmp_path, cancer):
    import json

    from transferkit.training import Callback

    saved: list[int | None] = []

    class Watch(Callback):
        def on_epoch_end(self, epoch, logs, state):
            f = tmp_path / "state.json"
            saved.append(json.loads(f.read_text())["epoch"] if f.exists() else None)

    cfg = TrainConfig(epochs=5, progress=False, patience=None, checkpoint_dir=str(tmp_path), checkpoint_every=2)
    train(_mlp(cancer.train), cancer.train, cancer.val, cfg, callbacks=[Watch()])
    assert saved == [None, 2, 2, 4, 5]
    with pytest.raises(ValueError, match="checkpoint_every"):
        TrainConfig(checkpoint_every=0)


def test_checkpoint_of_another_run_is_refused(tmp_path, cancer):
    from transferkit.training import Trainer, fit

    train(_mlp(cancer.train), cancer.train, None, TrainConfig(epochs=1, progress=False, checkpoint_dir=str(tmp_path)))

    class Other(Trainer):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(2, 1)

        def modules(self):
            return {"net": self.net}

        def num_steps(self, epoch):
            return 1

        def batches(self, epoch):
            return [torch.ones(4, 2)]

        def step(self, batch):
            return self.net(batch).pow(2).mean(), {"n": 4}

    with pytest.raises(DataError, match="resume with the same settings"):
        fit(Other(), TrainConfig(epochs=2, progress=False, checkpoint_dir=str(tmp_path), resume=True))


def test_learning_rate_schedules():
    from transferkit.training import lr_factor

    assert lr_factor("constant", 50, 100) == 1.0
    assert lr_factor("dann", 0, 100) == 1.0
    assert lr_factor("dann", 50, 100) == pytest.approx((1 + 10 * 0.5) ** -0.75)
    assert lr_factor("linear_warmup", 0, 100, 0.1) == pytest.approx(0.1)
    assert lr_factor("linear_warmup", 9, 100, 0.1) == pytest.approx(1.0)
    assert lr_factor("linear_warmup", 55, 100, 0.1) == pytest.approx(0.5)
    assert lr_factor("cosine", 10, 100, 0.1) == pytest.approx(1.0)
    assert lr_factor("cosine", 100, 100, 0.1) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="step")


def test_a_nan_loss_stops_the_run_with_a_clear_error(cancer):
    bad = cancer.train.subset(range(64))
    bad.x = bad.x.copy()
    m = _mlp(cancer.train)
    with pytest.raises(DataError, match="training loss became nan"):
        train(m, bad, None, TrainConfig(epochs=1, lr=1e30, max_grad_norm=None, progress=False))
