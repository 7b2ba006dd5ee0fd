"""``torchvision:<model>``: a torchvision classification model (ResNet, ViT, EfficientNet...) as a backbone.

Weights: ``weights=<file.safetensors>`` loads a local file; otherwise torchvision's default
pretrained weights are downloaded (``pretrained=true``, the default) and a failure is an error,
never a silent random start. ``pretrained=false`` asks for a random initialisation explicitly.
The classifier (``fc``, ``heads``, ``classifier`` or ``head``) is replaced by an identity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from transferkit.backbones._catalog import PROVIDERS
from transferkit.backbones._info import BACKBONES
from transferkit.backbones.base import Backbone, load_backbone_weights
from transferkit.backbones.timm_backbone import NormalizedImageBackbone, _ParamGroup
from transferkit.errors import BackboneError, BackboneSpecError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_CLASSIFIERS = ("fc", "heads", "classifier", "head")


def strip_classifier(model: nn.Module) -> int:
    """Replace the model's classifier by ``nn.Identity`` and return the feature width it took."""
    for attr in _CLASSIFIERS:
        head = getattr(model, attr, None)
        if isinstance(head, nn.Module):
            linears = [m for m in head.modules() if isinstance(m, nn.Linear)]
            if linears:
                setattr(model, attr, nn.Identity())
                return int(linears[0].in_features)
    raise BackboneError(f"cannot find the classifier of {type(model).__name__} (looked for {', '.join(_CLASSIFIERS)})")


def block_groups(model: nn.Module) -> list[nn.Module]:
    """Layer groups from input to output: stems, then each block of long Sequential/ModuleList stages.

    Parameters held directly by a container (ViT's class token and position embedding) form
    their own group, so every parameter belongs to exactly one group.
    """
    groups: list[nn.Module] = []

    def has_params(m: nn.Module) -> bool:
        return any(True for _ in m.parameters())

    def long_list(m: nn.Module) -> bool:
        return isinstance(m, (nn.Sequential, nn.ModuleList)) and sum(has_params(c) for c in m.children()) >= 3

    def walk(m: nn.Module) -> None:
        own = list(m.parameters(recurse=False))
        if own:
            groups.append(_ParamGroup(own))
        for child in m.children():
            if not has_params(child):
                continue
            if long_list(child):
                groups.extend(c for c in child.children() if has_params(c))
            elif any(long_list(c) for c in child.children()):
                walk(child)
            else:
                groups.append(child)

    walk(model)
    return groups


class TorchvisionBackbone(NormalizedImageBackbone):
    """A torchvision model without its classifier; ImageNet normalisation at the model's input size; layer
    groups: stem, each block of the long stages, then the rest (final norm)."""

    def __init__(self, model_name: str, model: nn.Module, num_features: int, weights: str, image_size: int) -> None:
        super().__init__()
        self.model_name, self.model, self.weights = model_name, model, weights
        self.spec = f"torchvision:{model_name}"
        self.num_features = int(num_features)
        self.in_chans, self.size = 3, (int(image_size), int(image_size))
        self.mean, self.std = IMAGENET_MEAN, IMAGENET_STD
        self._groups = block_groups(model)

    def forward_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """Pooled features (the classifier's input)."""
        return self.model(self.finish(inputs))

    def config(self) -> dict[str, Any]:
        """Model name and weight source."""
        return {"spec": self.spec, "weights": self.weights, "image_size": self.size[0]}


@BACKBONES.register("torchvision", info=PROVIDERS["torchvision"])
def torchvision_backbone(name: str | None = None, weights: str | None = None, pretrained: Any = True,
                         image_size: int | None = None) -> Backbone:
    """Create ``torchvision:<name>`` from a local safetensors file, torchvision's weights, or (explicitly) random."""
    from torchvision import models

    if not name:
        raise BackboneSpecError("torchvision needs a model name, e.g. torchvision:resnet50 or torchvision:vit_b_16")
    known = models.list_models(module=models)
    if name not in known:
        raise BackboneSpecError(f"unknown torchvision classification model {name!r}; choose from: {', '.join(known)}")
    pretrained = str(pretrained).lower() not in ("false", "0", "no")
    kwargs: dict[str, Any] = {}
    if image_size and name.startswith("vit_"):
        kwargs["image_size"] = int(image_size)
    if weights or not pretrained:
        model = models.get_model(name, weights=None, **kwargs)
        source = "random"
        if weights:
            load_backbone_weights(model, Path(weights), f"torchvision:{name}", tuple(f"{c}." for c in _CLASSIFIERS))
            source = str(weights)
    else:
        try:
            model = models.get_model(name, weights="DEFAULT", **kwargs)
        except Exception as exc:  # network or file errors: never fall back to random weights
            raise BackboneError(
                f"could not get pretrained weights for torchvision:{name} ({type(exc).__name__}: {exc}). Go online, "
                f"pass torchvision:{name}?weights=FILE.safetensors, or ask for random weights with "
                f"torchvision:{name}?pretrained=false") from exc
        source = "torchvision-default"
    num_features = strip_classifier(model)
    size = int(image_size or getattr(model, "image_size", 224))
    model.eval()
    return TorchvisionBackbone(name, model, num_features, source, size)
