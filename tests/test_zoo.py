"""Zoo entries: round trip, refusal of tampered entries, zoo: through create_backbone, starter zoo."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from transferkit.backbones import create_backbone
from transferkit.backbones.zoo import (
    builtin_zoo_dir,
    list_zoo,
    load_entry,
    load_zoo_model,
    save_entry,
    sha256_file,
)
from transferkit.data import Dataset, load_dataset
from transferkit.errors import BackboneError
from transferkit.features import extract_features
from transferkit.training import TransferModel

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
STARTER = ("mnist-cnn", "har-cnn", "heart-mlp")


def _table(n: int = 60, d: int = 5, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(n, d)) * [1, 10, 100, 0.1, 5] + [0, 50, -3, 1, 7]).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    return Dataset(x=x, y=y, kind="table", class_names=("a", "b"), name="toy")


def _entry(tmp_path: Path, name: str = "tiny", head: bool = True) -> tuple[Path, object, torch.nn.Module | None]:
    torch.manual_seed(0)
    ds = _table()
    bb = create_backbone("tabmlp?hidden=8,4", data=ds)
    bb.fit_preprocessing(ds.x)
    h = torch.nn.Linear(4, 2) if head else None
    save_entry(tmp_path / name, bb, head=h, class_names=("a", "b") if head else None,
               card_fields={"objective": "supervised" if head else "simclr", "source": {"dataset": "toy"}})
    return tmp_path / name, bb, h


def test_round_trip_features_head_and_preprocessing(tmp_path: Path) -> None:
    folder, bb, head = _entry(tmp_path)
    ds = _table(seed=1)
    z = create_backbone(f"zoo:tiny?dir={tmp_path}", data=ds)
    assert z.spec == "zoo:tiny" and z.input_kind == "table" and z.num_features == 4
    want = extract_features(bb, ds, cache=False, progress=False)
    got = extract_features(z, ds, cache=False, progress=False)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    # the source standardisation is part of the weights and is kept when a command fits preprocessing
    z.fit_preprocessing(ds.x * 3 + 1)
    np.testing.assert_allclose(extract_features(z, ds, cache=False, progress=False), want, rtol=1e-6, atol=1e-6)
    with torch.no_grad():
        probs = torch.softmax(head(torch.from_numpy(want)), 1).numpy()
    np.testing.assert_allclose(z.source_probs(ds), probs, rtol=1e-5, atol=1e-6)
    assert z.source_classes == ("a", "b")
    card = json.loads((folder / "card.json").read_text())
    assert card["weights"]["sha256"] == sha256_file(folder / "model.safetensors")
    assert card["architecture"]["config"]["hidden"] == [8, 4]
    assert card["preprocessing"] == {"standardize": True}
    assert {"python", "torch"} <= set(card["versions"])


def test_refit_preprocessing_option_changes_statistics(tmp_path: Path) -> None:
    _entry(tmp_path)
    ds = _table(seed=2)
    z = create_backbone(f"zoo:tiny?dir={tmp_path}&refit_preprocessing=1", data=ds)
    before = z.net.input_mean.clone()
    z.fit_preprocessing(ds.x + 100)
    assert not torch.allclose(before, z.net.input_mean)


def test_env_var_lookup_and_listing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _entry(tmp_path)
    monkeypatch.setenv("TRANSFERKIT_ZOO", str(tmp_path))
    assert create_backbone("zoo:tiny").num_features == 4
    names = {e["name"] for e in list_zoo()}
    assert "tiny" in names
    assert load_entry(str(tmp_path / "tiny")).spec == "zoo:tiny"  # an entry folder path works too


def test_changed_weights_are_refused(tmp_path: Path) -> None:
    folder, _, _ = _entry(tmp_path)
    data = bytearray((folder / "model.safetensors").read_bytes())
    data[-3] ^= 0xFF  # flip bits in a stored weight
    (folder / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(BackboneError, match="does not match its card"):
        create_backbone(f"zoo:tiny?dir={tmp_path}")


def test_weights_of_another_entry_are_refused(tmp_path: Path) -> None:
    a, _, _ = _entry(tmp_path, "aa")
    torch.manual_seed(5)
    b, _, _ = _entry(tmp_path, "bb")
    shutil.copy(b / "model.safetensors", a / "model.safetensors")
    with pytest.raises(BackboneError, match="sha256"):
        load_entry("aa", tmp_path)


def test_card_that_lies_about_architecture_is_refused(tmp_path: Path) -> None:
    folder, _, _ = _entry(tmp_path)
    card = json.loads((folder / "card.json").read_text())
    card["architecture"]["config"]["hidden"] = [16, 4]
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(BackboneError, match="do not fit the architecture"):
        load_entry("tiny", tmp_path)


def test_card_with_edited_preprocessing_is_refused(tmp_path: Path) -> None:
    torch.manual_seed(0)
    bb = create_backbone("smallcnn?image_size=16&width=4&num_features=8")
    save_entry(tmp_path / "img", bb, card_fields={"objective": "simclr"})
    card = json.loads((tmp_path / "img" / "card.json").read_text())
    card["architecture"]["config"]["image_size"] = 28  # same weight shapes, different preprocessing
    (tmp_path / "img" / "card.json").write_text(json.dumps(card))
    with pytest.raises(BackboneError, match="fingerprint"):
        load_entry("img", tmp_path)


def test_moved_card_and_bad_cards_are_refused(tmp_path: Path) -> None:
    folder, _, _ = _entry(tmp_path)
    shutil.copytree(folder, tmp_path / "other")
    with pytest.raises(BackboneError, match="folder is 'other'"):
        load_entry("other", tmp_path)
    (folder / "card.json").write_text(json.dumps({"schema": "transferkit.zoo-card/1", "name": "tiny"}))
    with pytest.raises(BackboneError, match="missing"):
        load_entry("tiny", tmp_path)
    (folder / "card.json").write_text("{not json")
    with pytest.raises(BackboneError, match="not valid JSON"):
        load_entry("tiny", tmp_path)


def test_pickle_disguised_as_weights_is_never_unpickled(tmp_path: Path) -> None:
    folder, bb, _ = _entry(tmp_path)
    (folder / "model.safetensors").write_bytes(pickle.dumps(bb.state_dict()))
    card = json.loads((folder / "card.json").read_text())
    card["weights"]["sha256"] = sha256_file(folder / "model.safetensors")  # even with a matching checksum
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(BackboneError, match="safetensors"):
        load_entry("tiny", tmp_path)


def test_unknown_entry_and_kind_mismatch(tmp_path: Path) -> None:
    _entry(tmp_path)
    with pytest.raises(BackboneError, match="known entries: .*tiny"):
        create_backbone(f"zoo:nope?dir={tmp_path}")
    with pytest.raises(BackboneError, match="valid"):
        create_backbone("zoo:Bad Name!")
    with pytest.raises(BackboneError, match="not a zoo entry folder"):
        create_backbone("zoo:../etc")
    img = load_dataset("digits")
    with pytest.raises(BackboneError, match="table inputs"):
        create_backbone(f"zoo:tiny?dir={tmp_path}", data=img)


def test_load_zoo_model_keeps_source_head(tmp_path: Path) -> None:
    _entry(tmp_path)
    ds = _table(seed=3)
    model = load_zoo_model("tiny", tmp_path)
    assert isinstance(model, TransferModel) and model.class_names == ("a", "b")
    bb = model.backbone
    with torch.no_grad():
        logits = model(bb.prepare(ds.x)).softmax(1).numpy()
    np.testing.assert_allclose(logits, bb.source_probs(ds), rtol=1e-5, atol=1e-6)
    _entry(tmp_path, "nohead", head=False)
    with pytest.raises(BackboneError, match="no source classifier"):
        load_zoo_model("nohead", tmp_path)
    assert load_entry("nohead", tmp_path).source_probs(ds) is None


# --------------------------------------------------------------------------- starter zoo
@pytest.mark.parametrize("name", STARTER)
def test_starter_entry_is_small_complete_and_loads(name: str) -> None:
    folder = builtin_zoo_dir() / name
    assert (folder / "card.json").is_file(), f"starter entry {name} is missing: python scripts/build_zoo.py {name}"
    assert (folder / "model.safetensors").stat().st_size < 5_000_000
    bb = create_backbone(f"zoo:{name}")
    card = bb.card
    assert card["source"]["fingerprint"] and card["labels"]["class_names"]
    assert card["training"]["rebuild"] == f"python scripts/build_zoo.py {name}"
    primary = card["metrics"]["primary"]
    assert 0.5 < card["metrics"][primary] <= 1.0


@pytest.mark.skipif(not (DATA / "usps").is_dir(), reason="shared data folder with USPS not found")
def test_mnist_entry_transfers_to_usps_features() -> None:
    usps = load_dataset("usps@test", DATA).subset(np.arange(300))
    bb = create_backbone("zoo:mnist-cnn", data=usps)
    f = extract_features(bb, usps, cache=False, progress=False)
    assert f.shape == (300, bb.num_features) and np.isfinite(f).all()
    # the MNIST head already recognises many USPS digits (same label set): far above chance (0.1)
    acc = float(np.mean(bb.source_probs(usps).argmax(1) == usps.y))
    assert acc > 0.3


@pytest.mark.slow
@pytest.mark.parametrize("name", STARTER)
def test_build_script_reproduces_card_metric(name: str, tmp_path: Path) -> None:
    if not DATA.is_dir():
        pytest.skip("shared data folder not found")
    card = json.loads((builtin_zoo_dir() / name / "card.json").read_text())
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_zoo.py"), name, "--out", str(tmp_path), "--quiet"],
                   check=True, cwd=REPO)
    new = json.loads((tmp_path / name / "card.json").read_text())
    key = card["metrics"]["primary"]
    assert new["source"]["fingerprint"] == card["source"]["fingerprint"]
    assert abs(new["metrics"][key] - card["metrics"][key]) <= 0.03
