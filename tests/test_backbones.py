"""Backbone contract over every offline provider, weight loading, and errors."""

import numpy as np
import pytest
import torch

from transferkit.backbones import BACKBONES, Backbone, create_backbone, parse_backbone_spec
from transferkit.data import Dataset, load_dataset
from transferkit.errors import BackboneError, UnknownName

RNG = np.random.default_rng(0)
SAMPLES = {
    "image": RNG.random((4, 1, 20, 20)).astype(np.float32),
    "signal": RNG.normal(size=(4, 9, 64)).astype(np.float32),
    "table": RNG.normal(size=(4, 7)).astype(np.float32),
    "text": np.array(["free prize now", "see you at 5", "ok", "call me"], dtype=object),
}
OFFLINE_SPECS = ["smallcnn", "signalcnn", "tabmlp?in_features=7", "minilm", "timm:test_resnet?pretrained=false",
                 "timm:test_vit?pretrained=false", "torchvision:resnet18?pretrained=false&image_size=32",
                 "torchvision:vit_b_16?pretrained=false&image_size=32"]


@pytest.fixture(scope="module", params=OFFLINE_SPECS)
def backbone(request) -> Backbone:
    return create_backbone(request.param)


def test_contract_features_groups_fingerprint(backbone):
    x = SAMPLES[backbone.input_kind]
    backbone.eval()
    with torch.no_grad():
        f = backbone.forward_features(backbone.prepare(x))
    assert f.shape == (4, backbone.num_features) and torch.isfinite(f).all()
    # layer groups: ordered, and together they hold every parameter exactly once
    ids = [id(p) for g in backbone.layer_groups() for p in g.parameters()]
    assert len(ids) == len(set(ids)) and set(ids) == {id(p) for p in backbone.parameters()}
    assert len(backbone.layer_groups()) >= 2
    fp = backbone.fingerprint()
    assert fp == backbone.fingerprint() and len(fp) == 64
    assert isinstance(backbone.preprocess_config(), dict) and backbone.config()["spec"]


def test_fingerprint_changes_with_weights():
    b = create_backbone("smallcnn")
    fp = b.fingerprint()
    with torch.no_grad():
        next(b.parameters()).add_(1e-3)
    assert b.fingerprint() != fp


def test_every_registered_provider_is_listed():
    assert {"smallcnn", "signalcnn", "tabmlp", "timm", "torchvision", "hf", "minilm"} <= set(BACKBONES.names())


def test_spec_parsing_and_data_fills_shapes():
    assert parse_backbone_spec("timm:resnet18?weights=a.safetensors&image_size=64") == (
        "timm", "resnet18", {"weights": "a.safetensors", "image_size": "64"})
    heart = Dataset(x=SAMPLES["table"], y=np.array([0, 1, 0, 1]), kind="table", class_names=("a", "b"))
    assert create_backbone("tabmlp", heart).in_features == 7
    with pytest.raises(BackboneError, match="reads image inputs"):
        create_backbone("smallcnn", heart)
    with pytest.raises(UnknownName, match=r"unknown backbone 'resnet9000'.*known: .*tabmlp.*transferkit models"):
        create_backbone("resnet9000")
    with pytest.raises(UnknownName, match="did you mean 'tabmlp'"):
        create_backbone("tabmpl?hidden=8")
    with pytest.raises(BackboneError, match="in_features"):
        create_backbone("tabmlp")


def test_minilm_is_the_real_pretrained_encoder():
    m = create_backbone("minilm")
    with torch.no_grad():
        f = m.forward_features(m.prepare(["A man is eating food.", "A man is eating a meal.",
                                          "The stock market fell sharply today."]))
    f = torch.nn.functional.normalize(f, dim=1)
    sim = f @ f.T
    assert sim[0, 1] > 0.7 and sim[0, 2] < 0.3  # paraphrases close, unrelated far: real weights


def test_timm_local_safetensors_weights(tmp_path):
    from safetensors.torch import save_file

    src = create_backbone("timm:test_resnet?pretrained=false")
    path = tmp_path / "w.safetensors"
    save_file({k: v.contiguous() for k, v in src.model.state_dict().items()}, str(path))
    loaded = create_backbone(f"timm:test_resnet?weights={path}")
    assert loaded.fingerprint() != create_backbone("timm:test_resnet?pretrained=false").fingerprint()
    assert torch.equal(next(loaded.model.parameters()), next(src.model.parameters()))
    # a file that is not what it claims
    (tmp_path / "fake.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(BackboneError, match="not a readable safetensors"):
        create_backbone(f"timm:test_resnet?weights={tmp_path / 'fake.safetensors'}")
    save_file({"conv.weight": torch.zeros(2, 2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(BackboneError, match="does not match"):
        create_backbone(f"timm:test_resnet?weights={tmp_path / 'other.safetensors'}")


def test_pretrained_weights_that_cannot_be_had_are_an_error_not_random(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BackboneError, match="could not get pretrained weights"):
        create_backbone("timm:test_resnet")
    with pytest.raises(BackboneError, match="could not load the text encoder"):
        create_backbone("hf:no-such-org/no-such-model")


def test_hf_local_folder_loads_offline():
    from transferkit.backbones.hf_text import minilm_path

    b = create_backbone(f"hf:{minilm_path()}")
    assert b.num_features == 384 and b.input_kind == "text"


def test_images_are_resized_and_channel_matched():
    usps_like = RNG.random((2, 1, 16, 16)).astype(np.float32)
    cnn = create_backbone("smallcnn?in_chans=3&image_size=32")
    assert cnn.prepare(usps_like).shape == (2, 3, 32, 32)
    digits = load_dataset("digits")
    assert create_backbone("smallcnn").prepare(digits.x[:3]).shape == (3, 1, 28, 28)
    with pytest.raises(Exception, match="expects inputs of shape"):
        create_backbone("signalcnn").prepare(RNG.normal(size=(2, 3, 50)))


def test_uint8_images_travel_as_uint8_and_match_the_float_path():
    """Image models take 8-bit batches as uint8 and normalise on the device: same features as floats."""
    imgs = RNG.integers(0, 256, (3, 3, 32, 32), dtype=np.uint8)
    for spec in ("torchvision:resnet18?pretrained=false&image_size=32", "timm:test_resnet?pretrained=false&image_size=32"):
        b = create_backbone(spec).eval()
        raw = b.prepare(imgs)
        assert raw.dtype == torch.uint8  # a quarter of the bytes of float32 to copy
        with torch.no_grad():
            f_u8 = b.forward_features(raw)
            f_float = b.forward_features(b.prepare(imgs.astype(np.float32) / 255.0))
        assert b.prepare(imgs.astype(np.float32) / 255.0).dtype == torch.float32
        torch.testing.assert_close(f_u8, f_float, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(b.finish(raw), b.prepare(imgs.astype(np.float32) / 255.0), rtol=1e-5, atol=1e-5)
    # uint8 images of another size are resized on the CPU as before
    b = create_backbone("torchvision:resnet18?pretrained=false&image_size=32")
    assert b.prepare(RNG.integers(0, 256, (2, 3, 20, 20), dtype=np.uint8)).dtype == torch.float32


def test_torchvision_models_lose_their_classifier_and_load_local_weights(tmp_path):
    from safetensors.torch import save_file
    from torchvision import models

    b = create_backbone("torchvision:resnet18?pretrained=false&image_size=32")
    assert b.num_features == 512 and isinstance(b.model.fc, torch.nn.Identity)
    assert [type(g).__name__ for g in b.layer_groups()][:2] == ["Conv2d", "BatchNorm2d"]
    vit = create_backbone("torchvision:vit_b_16?pretrained=false&image_size=32")
    assert vit.num_features == 768 and len(vit.layer_groups()) == 16  # tokens, patch conv, positions, 12 blocks, norm
    src = models.get_model("resnet18", weights=None)
    path = tmp_path / "r18.safetensors"
    save_file({k: v.contiguous() for k, v in src.state_dict().items()}, str(path))  # with its fc: dropped on load
    loaded = create_backbone(f"torchvision:resnet18?weights={path}&image_size=32")
    assert loaded.weights == str(path)
    assert torch.equal(loaded.model.conv1.weight, src.conv1.weight)
    save_file({"conv.weight": torch.zeros(2, 2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(BackboneError, match="does not match"):
        create_backbone(f"torchvision:resnet18?weights={tmp_path / 'other.safetensors'}")
    with pytest.raises(BackboneError, match="unknown torchvision"):
        create_backbone("torchvision:resnet9000")


def test_minilm_random_weights_on_request():
    pre = create_backbone("minilm?max_length=16")
    rnd = create_backbone("minilm?max_length=16&pretrained=false")
    assert rnd.fingerprint() != pre.fingerprint() and rnd.spec.endswith("pretrained=false")
    assert rnd.fingerprint() == create_backbone("minilm?max_length=16&pretrained=false").fingerprint()  # seeded
    q = rnd.model.encoder.layer[0].attention.self.query.weight
    assert not torch.equal(q, pre.model.encoder.layer[0].attention.self.query.weight)
