"""``timm:<model>``: any timm image model as a backbone.

Weights: ``weights=<file.safetensors>`` loads a local file; otherwise hub weights are downloaded
(``pretrained=true``, the default) and a failure is an error, never a silent random start.
``pretrained=false`` asks for a random initialisation explicitly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from transferkit.backbones._catalog import PROVIDERS
from transferkit.backbones._info import BACKBONES
from transferkit.backbones._prep import finish_uint8, image_batch
from transferkit.backbones.base import Backbone, load_backbone_weights
from transferkit.errors import BackboneError, BackboneSpecError


class _ParamGroup(nn.Module):
    """A view of some parameters of a model (shared, not copied) forming one layer group."""

    def __init__(self, params: list[nn.Parameter]) -> None:
        super().__init__()
        self.params = nn.ParameterList(params)


class NormalizedImageBackbone(Backbone):
    """Base of the pre-trained image models (timm, torchvision): resize to ``size`` and normalise with
    ``mean``/``std``; 8-bit images already at the input size stay uint8 in :meth:`prepare` and are
    normalised on the device in :meth:`finish`. Layer groups are computed once, into ``_groups``."""

    input_kind = "image"
    in_chans: int
    size: tuple[int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    _groups: list[nn.Module]

    def prepare(self, batch: Any) -> torch.Tensor:
        """Input size and normalisation (grey images repeated to the input channels)."""
        return image_batch(batch, self.size, self.in_chans, self.mean, self.std, keep_uint8=True)

    def finish(self, inputs: torch.Tensor) -> torch.Tensor:
        """uint8 batches are scaled and normalised here, on the device."""
        return finish_uint8(inputs, self.mean, self.std)

    def layer_groups(self) -> list[nn.Module]:
        """The groups found when the model was created, input to output."""
        return self._groups

    def preprocess_config(self) -> dict[str, Any]:
        """Input size and normalisation."""
        return {"size": list(self.size), "in_chans": self.in_chans, "mean": list(self.mean), "std": list(self.std)}


class TimmBackbone(NormalizedImageBackbone):
    """A timm model with its classifier removed (``num_classes=0``) and timm's data config; layer groups from
    timm's coarse group matcher (stem, stages...), or top-level children."""

    def __init__(self, model_name: str, model: nn.Module, weights: str | None, image_size: int | None = None) -> None:
        super().__init__()
        import timm.data

        self.model_name, self.model, self.weights = model_name, model, weights
        self.spec = f"timm:{model_name}"
        self.num_features = int(model.num_features)
        cfg = timm.data.resolve_data_config({}, model=model)
        c, h, w = cfg["input_size"]
        if image_size:
            h = w = int(image_size)
        self.in_chans, self.size = int(c), (int(h), int(w))
        self.mean, self.std = tuple(cfg["mean"]), tuple(cfg["std"])
        self._groups = self._make_groups()

    def _make_groups(self) -> list[nn.Module]:
        from timm.models import group_parameters

        params = dict(self.model.named_parameters())
        try:
            grouped = group_parameters(self.model, self.model.group_matcher(coarse=True))
        except (AttributeError, NotImplementedError, TypeError):
            grouped = {}
        groups: list[nn.Module] = [_ParamGroup([params[n] for n in names]) for _, names in sorted(grouped.items())
                                   if names]
        covered = [id(p) for g in groups for p in g.parameters()]
        if not groups or len(covered) != len(set(covered)) or set(covered) != {id(p) for p in params.values()}:
            groups = [m for m in self.model.children() if any(True for _ in m.parameters())]
        return groups

    def forward_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """Pooled pre-logits features."""
        x = self.finish(inputs)
        return self.model.forward_head(self.model.forward_features(x), pre_logits=True)

    def config(self) -> dict[str, Any]:
        """Model name and weight source."""
        return {"spec": self.spec, "weights": self.weights}


@BACKBONES.register("timm", info=PROVIDERS["timm"])
def timm_backbone(name: str | None = None, weights: str | None = None, pretrained: Any = True,
                  image_size: int | None = None) -> Backbone:
    """Create ``timm:<name>`` from a local safetensors file, hub weights, or (explicitly) random."""
    import timm

    if not name:
        raise BackboneSpecError("timm needs a model name, e.g. timm:resnet18 (see `timm.list_models()`)")
    pretrained = str(pretrained).lower() not in ("false", "0", "no")
    try:
        model = timm.create_model(name, pretrained=False, num_classes=0)
    except RuntimeError as exc:
        raise BackboneSpecError(f"unknown timm model {name!r}: {exc}") from exc
    if weights:
        path = Path(weights)
        load_backbone_weights(model, path, f"timm:{name}", ("fc.", "head.", "classifier."))
        source = str(path)
    elif pretrained:
        try:
            model = timm.create_model(name, pretrained=True, num_classes=0)
        except Exception as exc:  # network, hub or file errors: never fall back to random weights
            raise BackboneError(
                f"could not get pretrained weights for timm:{name} ({type(exc).__name__}: {exc}). Go online, pass "
                f"timm:{name}?weights=FILE.safetensors, or ask for random weights with timm:{name}?pretrained=false"
            ) from exc
        source = "hub"
    else:
        source = "random"
    model.eval()
    return TimmBackbone(name, model, source, image_size)
