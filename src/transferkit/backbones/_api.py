"""The backbone API behind :mod:`transferkit.backbones`: spec parsing, creation, listing (imports every provider)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from transferkit.backbones import (  # noqa: F401  (register providers)
    efficientnet_lite,
    hf_text,
    lenet,
    shipped,
    small_nets,
    timm_backbone,
    torchvision_backbone,
    zoo,
)
from transferkit.backbones._info import BACKBONES
from transferkit.backbones.base import Backbone
from transferkit.data.dataset import Dataset
from transferkit.errors import BackboneSpecError


def parse_backbone_spec(spec: str) -> tuple[str, str | None, dict[str, str]]:
    """``"timm:resnet18?weights=w.safetensors"`` -> ``("timm", "resnet18", {"weights": "w.safetensors"})``."""
    query: dict[str, str] = {}
    if "?" in spec:
        spec, q = spec.split("?", 1)
        query = dict(parse_qsl(q, keep_blank_values=True))
    provider, _, arg = spec.partition(":")
    return provider.strip().lower(), (arg or None), query


def create_backbone(spec: str | Backbone, data: Dataset | None = None, **options: Any) -> Backbone:
    """Create a backbone from a spec string (or pass a :class:`Backbone` through).

    With ``data``, built-in nets take their input width/channels from it (``BackboneInfo.from_data``),
    and the data kind is checked against what the backbone reads. An unknown provider raises
    :class:`~transferkit.errors.UnknownName`.
    """
    if isinstance(spec, Backbone):
        backbone = spec
    else:
        provider, arg, query = parse_backbone_spec(spec)
        entry = BACKBONES.entry(BACKBONES.canonical(provider, context=f"spec {spec!r}; see `transferkit models`"))
        kwargs: dict[str, Any] = {**query, **options}
        if data is not None and entry.info.from_data is not None:
            for key, value in entry.info.from_data(data).items():
                kwargs.setdefault(key, value)
        if entry.info.takes_argument:
            kwargs["name"] = arg
        elif arg:
            raise BackboneSpecError(f"backbone {provider!r} takes no ':argument' (got {spec!r})")
        try:
            backbone = entry.obj(**kwargs)
        except TypeError as exc:
            raise BackboneSpecError(f"bad options for backbone {spec!r}: {exc}") from exc
    if data is not None and backbone.input_kind != data.kind:
        raise BackboneSpecError(f"backbone {backbone.spec!r} reads {backbone.input_kind} inputs but {data.name!r} is "
                            f"{data.kind} data: pick a {data.kind} backbone (see `transferkit models`)")
    return backbone


def needs_pretrained_message(spec: str, kind: str) -> str | None:
    """Why ``spec`` cannot be transferred as it is (None when it can).

    A provider that is not pre-trained by default (``BackboneInfo.pretrained_by_default``, the
    built-in nets) has random weights unless ``?weights=`` is given: there is nothing to transfer
    until it is pre-trained on a source. ``kind`` is the data kind, for the message.
    """
    provider, _, query = parse_backbone_spec(spec)
    if provider not in BACKBONES or BACKBONES.info(provider).pretrained_by_default or "weights" in query:
        return None
    return (f"{spec!r} is a built-in {kind} network with random weights, so there is nothing to transfer: "
            "a pre-trained backbone is needed. Pass --source DATA to pre-train it on a labelled source data set "
            "first, or use a pre-trained model such as zoo:NAME (see `transferkit models`).")


def list_backbones() -> list[dict[str, Any]]:
    """Registered providers with what they read and whether they work offline."""
    from transferkit.backbones._catalog import weights_source

    return [{"name": e.name, "input": e.info.input_kind, "offline": e.info.offline,
             "description": e.info.description, "size": e.info.size, "weights": weights_source(e.info)}
            for e in BACKBONES]
