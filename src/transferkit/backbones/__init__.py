"""Backbones: one interface (:class:`Backbone`), one registry, many providers.

Spec strings: ``PROVIDER[:ARGUMENT][?key=value&key=value]``, for example ``smallcnn``,
``tabmlp?hidden=64,32``, ``timm:resnet18?weights=resnet18.safetensors``, ``hf:./my-encoder``,
``minilm``, ``zoo:mnist-cnn``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from transferkit.backbones import (  # noqa: F401  (register providers)
    hf_text,
    small_nets,
    timm_backbone,
    torchvision_backbone,
    zoo,
)
from transferkit.backbones._info import BACKBONES, BackboneInfo
from transferkit.backbones.base import Backbone, batch_size_of, to_device
from transferkit.backbones.model import TransferModel, make_head, reinitialize
from transferkit.data.dataset import Dataset
from transferkit.errors import BackboneError


def parse_backbone_spec(spec: str) -> tuple[str, str | None, dict[str, str]]:
    """``"timm:resnet18?weights=w.safetensors"`` -> ``("timm", "resnet18", {"weights": "w.safetensors"})``."""
    query: dict[str, str] = {}
    if "?" in spec:
        spec, q = spec.split("?", 1)
        query = dict(parse_qsl(q, keep_blank_values=True))
    provider, _, arg = spec.partition(":")
    return provider.strip().lower(), (arg or None), query


_DATA_ARGS = {"tabmlp": ("in_features", lambda d: d.x.shape[1]),
              "signalcnn": ("in_channels", lambda d: d.x.shape[1]),
              "smallcnn": ("in_chans", lambda d: d.x.shape[1] if d.x.dtype != object else 3)}


def create_backbone(spec: str | Backbone, data: Dataset | None = None, **options: Any) -> Backbone:
    """Create a backbone from a spec string (or pass a :class:`Backbone` through).

    With ``data``, built-in nets take their input width/channels from it, and the data kind is
    checked against what the backbone reads.
    """
    if isinstance(spec, Backbone):
        backbone = spec
    else:
        provider, arg, query = parse_backbone_spec(spec)
        try:
            entry = BACKBONES.entry(provider)
        except KeyError as exc:
            raise BackboneError(f"{exc.args[0]} (spec {spec!r}; see `transferkit models`)") from None
        kwargs: dict[str, Any] = {**query, **options}
        if data is not None and provider in _DATA_ARGS:
            key, fn = _DATA_ARGS[provider]
            kwargs.setdefault(key, fn(data))
        if entry.info.takes_argument:
            kwargs["name"] = arg
        elif arg:
            raise BackboneError(f"backbone {provider!r} takes no ':argument' (got {spec!r})")
        try:
            backbone = entry.obj(**kwargs)
        except TypeError as exc:
            raise BackboneError(f"bad options for backbone {spec!r}: {exc}") from exc
    if data is not None and backbone.input_kind != data.kind:
        raise BackboneError(f"backbone {backbone.spec!r} reads {backbone.input_kind} inputs but {data.name!r} is "
                            f"{data.kind} data: pick a {data.kind} backbone (see `transferkit models`)")
    return backbone


def list_backbones() -> list[dict[str, Any]]:
    """Registered providers with what they read and whether they work offline."""
    return [{"name": e.name, "input": e.info.input_kind, "offline": e.info.offline,
             "description": e.info.description} for e in BACKBONES]


__all__ = [
    "BACKBONES",
    "Backbone",
    "BackboneInfo",
    "TransferModel",
    "batch_size_of",
    "create_backbone",
    "list_backbones",
    "make_head",
    "parse_backbone_spec",
    "reinitialize",
    "to_device",
]
