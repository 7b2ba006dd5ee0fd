"""ONNX export of shipped models: onnxruntime's outputs equal PyTorch's within 1e-4 on 100 inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from transferkit.backbones import TransferModel, create_backbone  # noqa: E402
from transferkit.backbones.shipped import save_model  # noqa: E402
from transferkit.data import Dataset  # noqa: E402
from transferkit.errors import BackboneError  # noqa: E402
from transferkit.experiments.export import export_model  # noqa: E402
from transferkit.experiments.predict import load_model  # noqa: E402

CASES = {
    "image": ("smallcnn?image_size=12&width=4&num_features=16", (1, 12, 12)),
    "table": ("tabmlp?hidden=16,8", (7,)),
    "signal": ("signalcnn?in_channels=3&width=4&num_features=8", (3, 40)),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_onnx_outputs_equal_pytorch(tmp_path: Path, kind: str) -> None:
    spec, shape = CASES[kind]
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(100, *shape)).astype(np.float32) if kind == "image" else \
        (rng.normal(size=(100, *shape)) * 4 + 2).astype(np.float32)
    data = Dataset(x=x, y=None, kind=kind)  # type: ignore[arg-type]
    torch.manual_seed(0)
    bb = create_backbone(spec, data=data if kind == "table" else None)
    bb.fit_preprocessing(x)
    m = TransferModel(bb, 4, head="mlp", class_names=("a", "b", "c", "d"))
    with torch.no_grad():  # BatchNorm statistics that are not the identity
        for mod in m.modules():
            if isinstance(mod, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
    save_model(tmp_path / "m", m, {"input": {"kind": kind, "shape": list(shape)}})
    info = export_model(tmp_path / "m")
    assert Path(info["file"]) == tmp_path / "m" / "model.onnx"
    side = json.loads((tmp_path / "m" / "model.json").read_text())
    assert side["class_names"] == ["a", "b", "c", "d"] and side["input_kind"] == kind
    sess = ort.InferenceSession(info["file"], providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input": x})[0]
    want = load_model(tmp_path / "m").outputs(data)
    assert got.shape == (100, 4)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)
    assert np.abs(want).max() > 1e-2  # not trivially zero


@pytest.mark.slow  # about 40 s on 2 CPU cores: tracing and exporting a 6-layer transformer
def test_onnx_text_model_with_its_tokenizer(tmp_path: Path) -> None:
    try:
        bb = create_backbone("minilm?max_length=16")
    except BackboneError as exc:
        pytest.skip(f"minilm not available: {exc}")
    from transformers import AutoTokenizer

    torch.manual_seed(0)
    m = TransferModel(bb, 2, class_names=("ham", "spam"))
    save_model(tmp_path / "m", m, {"input": {"kind": "text", "shape": []}})
    info = export_model(tmp_path / "m", tmp_path / "out" / "spam.onnx")
    tok = AutoTokenizer.from_pretrained(info["tokenizer"])
    texts = [f"message number {i}: " + "win a prize " * (i % 5) + "see you later" for i in range(100)]
    enc = tok(texts, padding=True, truncation=True, max_length=16, return_tensors="np")
    sess = ort.InferenceSession(info["file"], providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input_ids": enc["input_ids"].astype(np.int64),
                          "attention_mask": enc["attention_mask"].astype(np.int64)})[0]
    want = load_model(tmp_path / "m").outputs(texts)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    from transferkit.errors import TransferkitError

    data = Dataset(x=np.zeros((4, 3), dtype=np.float32), y=None, kind="table")
    save_model(tmp_path / "m", TransferModel(create_backbone("tabmlp?hidden=4", data=data), 2))
    with pytest.raises(TransferkitError, match="unknown export format 'tflite'"):
        export_model(tmp_path / "m", fmt="tflite")
