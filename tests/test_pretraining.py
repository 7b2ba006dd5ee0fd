"""Pre-training: objectives, augmentations, cards, resume, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from transferkit.backbones import create_backbone
from transferkit.backbones.zoo import load_entry, sha256_file
from transferkit.data import Dataset, load_dataset
from transferkit.errors import BackboneError, DataError, TransferkitError
from transferkit.pretraining import OBJECTIVES, ObjectiveRun, PretrainSettings, pretrain
from transferkit.pretraining._augment import augment, corrupt
from transferkit.pretraining._trainer import PretrainTrainer, objective_config
from transferkit.pretraining.denoise import DenoiseTrainer
from transferkit.pretraining.simclr import SimCLRTrainer, nt_xent
from transferkit.training import Callback, TrainResult, fit

TINY_CNN = "smallcnn?image_size=8&width=4&num_features=16"


def _signals(n: int = 64, seed: int = 0) -> Dataset:
    """Two classes of 3-channel signals: sines of different frequency plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(32) / 32
    y = np.arange(n) % 2
    f = np.where(y == 0, 2.0, 5.0)[:, None, None]
    x = np.sin(2 * np.pi * f * t + rng.uniform(0, 6, (n, 3, 1))) * 3 + 10 + rng.normal(0, 0.3, (n, 3, 32))
    return Dataset(x=x.astype(np.float32), y=y, kind="signal", class_names=("slow", "fast"), name="sines")


def test_supervised_card_records_everything(tmp_path: Path) -> None:
    src = load_dataset("digits").subset(np.arange(200), "digits200")
    res = pretrain(TINY_CNN, src, "supervised", name="dg", zoo_dir=tmp_path, epochs=2, progress=False,
                   rebuild="python make.py")
    card = json.loads((tmp_path / "dg" / "card.json").read_text())
    assert card == res.card
    assert card["objective"] == "supervised" and card["labels"]["class_names"] == [str(i) for i in range(10)]
    assert card["head"] == {"kind": "linear", "in_features": 16, "num_outputs": 10}
    assert card["source"]["dataset"] == "digits200" and card["source"]["fingerprint"] == src.fingerprint()
    assert card["source"]["splits"] == {"train": 160, "val": 20, "test": 20}
    assert card["training"]["settings"]["epochs"] == 2 and card["training"]["rebuild"] == "python make.py"
    assert len(card["training"]["history"]) == 2
    assert card["weights"]["sha256"] == sha256_file(tmp_path / "dg" / "model.safetensors")
    assert 0.0 <= card["metrics"]["test_accuracy"] <= 1.0 and card["metrics"]["primary"] == "test_accuracy"
    assert not (tmp_path / ".partial-dg").exists()  # checkpoints are cleaned up after success
    # the saved backbone is the trained one
    assert load_entry("dg", tmp_path).net.fingerprint() == card["backbone_fingerprint"]


def test_supervised_learns_and_is_reproducible(tmp_path: Path) -> None:
    src = _signals(80)
    a = pretrain("signalcnn?in_channels=3&width=4&num_features=8", src, name="a", zoo_dir=tmp_path, epochs=5,
                 lr=1e-2, batch_size=16, progress=False)
    b = pretrain("signalcnn?in_channels=3&width=4&num_features=8", src, name="b", zoo_dir=tmp_path, epochs=5,
                 lr=1e-2, batch_size=16, progress=False)
    assert a.card["metrics"]["test_accuracy"] >= 0.8  # easy task: the sine frequency
    assert a.card["backbone_fingerprint"] == b.card["backbone_fingerprint"]  # same seed, same weights
    # signal standardisation came from the source and is stored with the weights
    z = load_entry("a", tmp_path)
    train_mean = float(z.net.input_mean.mean())
    assert 9.0 < train_mean < 11.0


@pytest.mark.parametrize("objective", ["simclr", "denoise"])
def test_self_supervised_objectives_reduce_their_loss(objective: str, tmp_path: Path) -> None:
    src = _signals(64)
    res = pretrain("signalcnn?in_channels=3&width=4&num_features=8", src, objective, name=objective,
                   zoo_dir=tmp_path, epochs=3, lr=3e-3, batch_size=16, progress=False)
    losses = [h["train_loss"] for h in res.history]
    assert losses[-1] < losses[0]
    card = res.card
    assert card["head"] is None and card["labels"] is None and card["objective"] == objective
    assert card["metrics"]["primary"] == "linear_probe_test_accuracy"
    assert load_entry(objective, tmp_path).source_probs(src) is None


def test_self_supervised_works_without_labels(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 6)).astype(np.float32)
    unl = Dataset(x=x, y=None, kind="table", name="unlabelled")
    res = pretrain("tabmlp?hidden=8,4", unl, "denoise", name="u", zoo_dir=tmp_path, epochs=2, progress=False)
    assert res.card["metrics"]["primary"] == "final_loss"
    with pytest.raises(DataError, match="needs labels"):
        pretrain("tabmlp?hidden=8,4", unl, "supervised", name="v", zoo_dir=tmp_path, epochs=1, progress=False)


def test_augmentations_keep_shape_are_seeded_and_differ() -> None:
    cases = {"image": torch.rand(4, 1, 12, 12), "signal": torch.randn(4, 3, 40), "table": torch.randn(4, 7)}
    for kind, x in cases.items():
        g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
        v1, v1b = augment(x, kind, g1), augment(x, kind, g2)
        assert v1.shape == x.shape and torch.equal(v1, v1b)
        assert not torch.allclose(v1, augment(x, kind, g1))
        c = corrupt(x, kind, torch.Generator().manual_seed(0), mask_ratio=0.5, noise=0.0)
        assert c.shape == x.shape and 0.2 < float((c == 0).float().mean()) < 0.9
    with pytest.raises(DataError):
        augment(torch.randn(2, 3), "text", torch.Generator())


def test_nt_xent_prefers_matching_views() -> None:
    torch.manual_seed(0)
    z = torch.randn(16, 8)
    aligned = nt_xent(z, z + 0.01 * torch.randn(16, 8), 0.5)
    shuffled = nt_xent(z, z[torch.randperm(16)], 0.5)
    assert aligned < shuffled


@pytest.mark.parametrize("objective", ["simclr", "denoise"])
def test_interrupted_run_resumes_to_the_same_weights(objective: str, tmp_path: Path) -> None:
    ds = _signals(32)
    settings = {"batch_size": 16, "lr": 3e-3, "progress": False}

    def run(epochs: int, ckpt: Path, resume: bool) -> tuple[torch.nn.Module, list]:
        torch.manual_seed(0)
        bb = create_backbone("signalcnn?in_channels=3&width=4&num_features=8")
        bb.fit_preprocessing(ds.x)
        out = OBJECTIVES.get(objective)(ObjectiveRun(bb, ds, ds.subset([]), ds.subset([]),
                                                     PretrainSettings(epochs=epochs, **settings), ckpt, resume))
        return bb, out

    straight, first = run(3, tmp_path / "a", True)  # resume with nothing to resume from: a fresh run
    assert not first.resumed
    run(1, tmp_path / "b", False)  # "interrupted" after one epoch
    resumed, out = run(3, tmp_path / "b", True)
    assert out.resumed and [h["epoch"] for h in out.history] == [1.0, 2.0, 3.0]
    for (k, v), w in zip(straight.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(v, w, msg=k)


class _Kill(Callback):
    """Stops the run after epoch ``at`` (0-based) is done and checkpointed, like Ctrl-C would."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_epoch_end(self, epoch: int, logs: dict, state: dict) -> None:
        if epoch == self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("trainer_cls", [SimCLRTrainer, DenoiseTrainer])
def test_killed_run_resumes_to_identical_weights_and_history(trainer_cls: type, tmp_path: Path) -> None:
    """Through the engine's checkpoint: modules, optimiser, torch RNG (the MLP's dropout) and the epoch."""
    rng = np.random.default_rng(0)
    ds = Dataset(x=rng.normal(size=(40, 6)).astype(np.float32), y=None, kind="table", name="rows")
    settings = PretrainSettings(epochs=4, batch_size=16, lr=3e-3, seed=2, progress=False)

    def run(ckpt: Path, resume: bool, callbacks: tuple = ()) -> tuple[PretrainTrainer, TrainResult]:
        torch.manual_seed(0)
        bb = create_backbone("tabmlp?hidden=8,4", data=ds)  # has dropout: resume must restore the RNG
        bb.fit_preprocessing(ds.x)
        trainer = trainer_cls(bb, ds, settings)
        return trainer, fit(trainer, objective_config(settings, ckpt, resume), callbacks)

    straight, res = run(tmp_path / "a", False)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "b", False, (_Kill(1),))
    assert json.loads((tmp_path / "b" / "state.json").read_text())["epoch"] == 2
    resumed, res2 = run(tmp_path / "b", True)
    assert res2.resumed_from == 2 and len(res2.history) == 4
    assert [{k: v for k, v in h.items() if k != "seconds"} for h in res.history] == \
        [{k: v for k, v in h.items() if k != "seconds"} for h in res2.history]
    for name, module in straight.modules().items():
        other = resumed.modules()[name].state_dict()
        for k, v in module.state_dict().items():
            assert torch.equal(v, other[k]), f"{name}.{k}"


def test_resume_with_other_settings_is_refused(tmp_path: Path) -> None:
    src = load_dataset("digits").subset(np.arange(100))
    partial = tmp_path / ".partial-x"
    partial.mkdir(parents=True)
    (partial / "run.json").write_text('{"other": 1}')
    with pytest.raises(TransferkitError, match="other settings"):
        pretrain(TINY_CNN, src, name="x", zoo_dir=tmp_path, epochs=1, progress=False, resume=True)
    res = pretrain(TINY_CNN, src, name="x", zoo_dir=tmp_path, epochs=1, progress=False, resume=False)
    assert res.entry.is_dir()


def test_bad_requests_get_clear_errors(tmp_path: Path) -> None:
    src = load_dataset("digits").subset(np.arange(100))
    with pytest.raises(BackboneError, match="not valid"):
        pretrain(TINY_CNN, src, name="Bad Name", zoo_dir=tmp_path, progress=False)
    with pytest.raises(KeyError, match="known: denoise, simclr, supervised"):
        pretrain(TINY_CNN, src, "byol", name="ok", zoo_dir=tmp_path, progress=False)
    with pytest.raises(BackboneError, match="table inputs"):
        pretrain("tabmlp?in_features=64", src, name="ok", zoo_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="epochs"):
        pretrain(TINY_CNN, src, name="ok", zoo_dir=tmp_path, epochs=0, progress=False)
