"""Shipped model folders: round trips, refusal of tampered folders, predict, and ``model:PATH`` backbones."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from transferkit.backbones import TransferModel, create_backbone
from transferkit.backbones.shipped import CARD_FILE, README_FILE, WEIGHTS_FILE, load_model_folder, save_model
from transferkit.data import Dataset
from transferkit.errors import BackboneError, DataError
from transferkit.experiments.predict import load_model, run_predict
from transferkit.training import TrainConfig, predict, train


def _table(n: int = 80, d: int = 5, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32) * 3 + 1
    return Dataset(x=x, y=(x[:, 0] > 1).astype(np.int64), kind="table", class_names=("low", "high"),
                   feature_names=tuple(f"f{i}" for i in range(d)))


@pytest.mark.parametrize("spec,head", [("tabmlp?hidden=8", "mlp"), ("smallcnn?image_size=8&width=4&num_features=8",
                                                                     "linear"), ("signalcnn?in_channels=2&width=4", "linear")])
def test_round_trip_gives_the_same_outputs(tmp_path: Path, spec: str, head: str, images) -> None:
    torch.manual_seed(0)
    data = {"tabmlp": _table(), "smallcnn": images(12, 3),
            "signalcnn": Dataset(x=np.random.default_rng(0).normal(size=(12, 2, 32)).astype(np.float32), y=None,
                                 kind="signal")}[spec.split("?")[0]]
    bb = create_backbone(spec, data=data if data.kind == "table" else None)
    bb.fit_preprocessing(data.x)
    m = TransferModel(bb, 3, head=head, class_names=("a", "b", "c"))
    card = save_model(tmp_path / "m", m, {"name": "t"})
    assert {p.name for p in (tmp_path / "m").iterdir()} == {WEIGHTS_FILE, CARD_FILE, README_FILE}
    m2, card2 = load_model_folder(tmp_path / "m")
    np.testing.assert_array_equal(predict(m, data), predict(m2, data))
    assert card2["class_names"] == ["a", "b", "c"] and card2["model_fingerprint"] == card["model_fingerprint"]
    assert "labels in output order: a, b, c" in (tmp_path / "m" / README_FILE).read_text()


def test_tampered_folders_are_refused(tmp_path: Path) -> None:
    data = _table()
    m = TransferModel(create_backbone("tabmlp?hidden=8", data=data), 2, class_names=data.class_names)
    save_model(tmp_path / "m", m)
    good = tmp_path / "m"
    # a changed weights file
    bad = tmp_path / "w"
    bad.mkdir()
    for f in good.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    raw = bytearray((bad / WEIGHTS_FILE).read_bytes())
    raw[-3] ^= 0xFF
    (bad / WEIGHTS_FILE).write_bytes(bytes(raw))
    with pytest.raises(BackboneError, match="does not match its card.*refusing to load"):
        load_model(bad)
    # an edited card: the label names swapped (the weights untouched)
    card = json.loads((good / CARD_FILE).read_text())
    card["class_names"] = ["high", "low"]
    (bad / WEIGHTS_FILE).write_bytes((good / WEIGHTS_FILE).read_bytes())
    (bad / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(BackboneError, match="the card was edited"):
        load_model(bad)
    (bad / WEIGHTS_FILE).unlink()
    with pytest.raises(BackboneError, match="missing"):
        load_model(bad)
    with pytest.raises(BackboneError, match="not a transferkit model folder"):
        load_model(tmp_path)
    with pytest.raises(BackboneError, match="not found"):
        load_model(tmp_path / "nope")


def test_predict_refuses_data_it_cannot_read(tmp_path: Path, images) -> None:
    data = _table()
    m = TransferModel(create_backbone("tabmlp?hidden=8", data=data), 2, class_names=data.class_names)
    save_model(tmp_path / "m", m, {"input": {"kind": "table", "shape": [5], "feature_names": list(data.feature_names)}})
    sm = load_model(tmp_path / "m")
    with pytest.raises(DataError, match="is image data but this model reads table inputs"):
        sm.predict(images(6))
    with pytest.raises(DataError, match="has 4 columns but this model reads 5.*f0, f1"):
        sm.predict(np.zeros((3, 4), dtype=np.float32))
    assert sm.predict(np.zeros(5, dtype=np.float32)).shape == (1,)  # one example
    with pytest.raises(DataError, match="needs a classification model"):
        reg = TransferModel(create_backbone("tabmlp?hidden=8", data=data), 1, task="regression")
        save_model(tmp_path / "r", reg)
        load_model(tmp_path / "r").predict_proba(data.x)


def test_predictions_csv_from_a_table_file_without_labels(tmp_path: Path) -> None:
    import pandas as pd

    data = _table()
    m = TransferModel(create_backbone("tabmlp?hidden=8", data=data), 2, class_names=data.class_names)
    m.backbone.fit_preprocessing(data.x)
    train(m, data, None, TrainConfig(epochs=5, progress=False))
    save_model(tmp_path / "m", m, {"input": {"kind": "table", "shape": [5], "feature_names": list(data.feature_names)}})
    df = pd.DataFrame(data.x, columns=list(data.feature_names))
    df = df[["f4", "f3", "f2", "f1", "f0"]]  # columns in another order: read by name
    df.to_csv(tmp_path / "new.csv", index=False)
    seen = []
    summary = run_predict(tmp_path / "m", str(tmp_path / "new.csv"), tmp_path / "p.csv", batch_size=32,
                          progress=lambda d, n: seen.append((d, n)))
    out = pd.read_csv(tmp_path / "p.csv")
    assert list(out.columns) == ["row_id", "label", "p_low", "p_high"] and len(out) == 80 and "accuracy" not in summary
    sm = load_model(tmp_path / "m")
    np.testing.assert_array_equal(out["label"].to_numpy(), sm.predict(data))
    np.testing.assert_allclose(out[["p_low", "p_high"]].to_numpy(), sm.predict_proba(data), rtol=1e-5)
    assert sm.embed(data).shape == (80, 8) and seen[-1] == (80, 80)


def test_text_model_round_trip_is_self_contained(tmp_path: Path) -> None:
    pytest.importorskip("peft")
    from transferkit.strategies import LoRA

    try:
        bb = create_backbone("minilm?max_length=16")
    except BackboneError as exc:
        pytest.skip(f"minilm not available: {exc}")
    texts = np.array(["win a free prize now", "call me later", "free cash, text WIN", "see you at lunch"], dtype=object)
    data = Dataset(x=texts, y=np.array([1, 0, 1, 0]), kind="text", class_names=("ham", "spam"))
    m = TransferModel(bb, 2, class_names=data.class_names)
    LoRA(r=2).setup(m)
    with torch.no_grad():  # non-zero adapters, so merging them matters
        for n, p in m.backbone.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.05)
    save_model(tmp_path / "m", copy.deepcopy(m))
    assert (tmp_path / "m" / "encoder" / "config.json").is_file()
    sm = load_model(tmp_path / "m")
    assert not any("lora_" in n for n, _ in sm.model.named_parameters())
    np.testing.assert_allclose(sm.outputs(texts), predict(m, data), atol=1e-4)
    assert list(sm.predict(list(texts))) == list(np.array(["ham", "spam"], dtype=object)[predict(m, data).argmax(1)])


def test_estimators_save_and_load_without_pickle(tmp_path: Path) -> None:
    from transferkit.estimators import TransferClassifier, TransferRegressor

    data = _table(120)
    labels = np.array(["no", "yes"])[data.y]
    clf = TransferClassifier(backbone="tabmlp?hidden=8", epochs=3).fit(data.x, labels)
    clf.save(tmp_path / "clf")
    back = TransferClassifier.load(tmp_path / "clf")
    np.testing.assert_array_equal(back.predict(data.x), clf.predict(data.x))
    np.testing.assert_allclose(back.predict_proba(data.x), clf.predict_proba(data.x), rtol=1e-6)
    assert list(back.classes_) == ["no", "yes"] and back.get_params()["epochs"] == 3
    assert list(load_model(tmp_path / "clf").predict(data.x[:5])) == list(clf.predict(data.x[:5]))
    y = data.x[:, 1] * 3.0
    reg = TransferRegressor(backbone="tabmlp?hidden=8", epochs=3).fit(data.x, y)
    reg.save(tmp_path / "reg")
    np.testing.assert_allclose(TransferRegressor.load(tmp_path / "reg").predict(data.x), reg.predict(data.x), rtol=1e-6)
    np.testing.assert_allclose(load_model(tmp_path / "reg").predict(data.x), reg.predict(data.x), atol=1e-5)
    with pytest.raises(ValueError, match="not a saved TransferRegressor"):
        TransferRegressor.load(tmp_path / "clf")
    assert not any(p.suffix in (".pkl", ".pt", ".bin") for p in (tmp_path / "clf").rglob("*"))
