"""``transferkit export MODEL --format onnx``: a shipped model as an ONNX graph, for serving without transferkit.

The graph holds the model's own normalisation, so callers feed plain values:

* image models: ``input`` float32 ``(N, C, H, W)`` in [0, 1] at the model's input size and channels
  (resize and grey/colour conversion stay with the caller: the sidecar file says which);
* table models: ``input`` float32 ``(N, D)`` raw columns in the card's order (standardised inside);
* signal models: ``input`` float32 ``(N, C, T)`` raw samples (standardised per channel inside);
* text models: ``input_ids`` and ``attention_mask`` int64 ``(N, L)`` from the tokenizer whose files
  are written beside the graph (``<name>.tokenizer/``).

The output ``output`` is ``(N, outputs)``: logits (softmax gives the class probabilities, in the order
of ``class_names`` in the sidecar ``<name>.json``) or regression values. The exporter is PyTorch's
TorchScript-based one (``dynamo=False``: it needs only the ``onnx`` package); the batch axis (and the
text length) are dynamic. Needs the ``export`` extra (``onnx``; ``onnxruntime`` to check the result).
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from transferkit._io import atomic_write_text, temp_path
from transferkit.backbones.shipped import inner_backbone
from transferkit.errors import TransferkitError

FORMATS = ("onnx",)


class _Graph(nn.Module):
    """The model with its input normalisation, on plain inputs (what is exported)."""

    def __init__(self, model: nn.Module, kind: str, prep: dict[str, Any]) -> None:
        super().__init__()
        self.model, self.kind = model, kind
        bb = inner_backbone(model.backbone)
        if kind == "image":
            channels = int(prep.get("in_chans", 3))
            mean, std = prep.get("mean", 0.0), prep.get("std", 1.0)
            mean = [float(mean)] * channels if not isinstance(mean, list) else [float(m) for m in mean]
            std = [float(std)] * channels if not isinstance(std, list) else [float(s) for s in std]
            self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
            self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))
        elif kind in ("table", "signal"):
            if not (hasattr(bb, "input_mean") and hasattr(bb, "input_std")):
                raise TransferkitError(f"cannot export {bb.spec}: its {kind} preprocessing is not standardisation")
            self.register_buffer("mean", bb.input_mean.detach().clone())
            self.register_buffer("std", bb.input_std.detach().clone())

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:  # noqa: D102
        if self.kind == "text":
            feats = self.model.backbone.forward_features({"input_ids": x, "attention_mask": attention_mask})
        else:
            feats = self.model.backbone.forward_features((x - self.mean) / self.std)
        return self.model.head(feats)


def example_input(card: dict[str, Any], n: int = 2) -> dict[str, torch.Tensor]:
    """A batch of ``n`` example inputs of the exported graph's shape (random values)."""
    kind = (card.get("input") or {}).get("kind") or card["architecture"].get("input_kind")
    prep = card.get("preprocessing") or {}
    g = torch.Generator().manual_seed(0)
    if kind == "image":
        size = prep.get("size") or [prep.get("image_size"), prep.get("image_size")]
        return {"input": torch.rand(n, int(prep.get("in_chans", 3)), int(size[0]), int(size[1]), generator=g)}
    shape = (card.get("input") or {}).get("shape")
    if kind == "table":
        width = int(shape[0]) if shape else int(card["architecture"]["config"]["in_features"])
        return {"input": torch.randn(n, width, generator=g)}
    if kind == "signal":
        if not shape or len(shape) < 2:
            raise TransferkitError("cannot export a signal model whose card does not record its input shape (C, T)")
        return {"input": torch.randn(n, int(shape[0]), int(shape[1]), generator=g)}
    if kind == "text":
        return {"input_ids": torch.randint(1000, 2000, (n, 8), generator=g), "attention_mask": torch.ones(n, 8,
                                                                                                         dtype=torch.long)}
    raise TransferkitError(f"cannot export a model that reads {kind!r} inputs")


def export_model(model: str | os.PathLike[str], out: str | os.PathLike[str] | None = None,
                 fmt: str = "onnx", opset: int = 17) -> dict[str, Any]:
    """Export the shipped model folder ``model`` to ``out`` (default ``<model>/model.onnx``); returns what was written."""
    if fmt not in FORMATS:
        raise TransferkitError(f"unknown export format {fmt!r}; supported: {', '.join(FORMATS)}")
    try:
        import onnx  # noqa: F401  (the exporter needs it)
    except ImportError as exc:
        raise TransferkitError("ONNX export needs the onnx package: pip install 'transferkit[export]'") from exc
    from transferkit.experiments.predict import ShippedModel, load_model

    sm = load_model(model)
    if not isinstance(sm, ShippedModel) or sm.input_transform is not None:
        what = ("a per-subject signal normalisation" if isinstance(sm, ShippedModel) else
                f"a {sm.card.get('format')} model")
        raise TransferkitError(f"{model} holds {what}, which ONNX export does not cover yet: export works for "
                               "single networks (fit runs, deep adapt runs, --save folders)")
    card = sm.card
    kind = str((card.get("input") or {}).get("kind") or card["architecture"].get("input_kind"))
    graph = _Graph(sm.model, kind, dict(card.get("preprocessing") or {})).eval()
    ex = example_input(card)
    out = Path(out) if out is not None else Path(model) / "model.onnx"
    out.parent.mkdir(parents=True, exist_ok=True)
    names = list(ex)
    axes = {k: ({0: "batch", 1: "length"} if kind == "text" else {0: "batch"}) for k in names}
    axes["output"] = {0: "batch"}
    tmp = temp_path(out)  # unique per writer; never left behind on an error
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer warnings
            torch.onnx.export(graph, tuple(ex.values()), str(tmp), input_names=names, output_names=["output"],
                              dynamic_axes=axes, opset_version=opset, dynamo=False)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    info: dict[str, Any] = {
        "format": "onnx", "file": str(out), "opset": opset, "inputs": {k: [str(d) for d in v.shape[1:]] for k, v in
                                                                       ex.items()},
        "input_kind": kind, "task": card["task"], "class_names": card.get("class_names"),
        "model_fingerprint": card["model_fingerprint"], "preprocessing": card.get("preprocessing"),
        "input_note": _NOTES[kind], "output": "logits (softmax: class probabilities)" if card["task"] ==
        "classification" else "regression values"}
    if kind == "text":
        tok = out.with_name(out.stem + ".tokenizer")
        shutil.copytree(Path(model) / card["architecture"].get("folder", "encoder"), tok, dirs_exist_ok=True)
        info["tokenizer"] = str(tok)
        info["max_length"] = card["architecture"].get("max_length")
    atomic_write_text(out.with_suffix(".json"), json.dumps(info, indent=2) + "\n")
    return info


_NOTES = {
    "image": "float32 (N, C, H, W) in [0, 1] at the size and channels above; normalisation is inside the graph",
    "table": "float32 (N, D): raw columns in the card's feature order; standardisation is inside the graph",
    "signal": "float32 (N, C, T): raw samples; per-channel standardisation is inside the graph",
    "text": "int64 input_ids and attention_mask (N, L) from the tokenizer beside the graph (truncate to max_length)",
}

__all__ = ["FORMATS", "example_input", "export_model"]
