"""Backbones: one interface (:class:`Backbone`), one registry, many providers.

Spec strings: ``PROVIDER[:ARGUMENT][?key=value&key=value]``, for example ``smallcnn``,
``tabmlp?hidden=64,32``, ``timm:resnet18?weights=resnet18.safetensors``, ``hf:./my-encoder``,
``minilm``, ``zoo:mnist-cnn``.

Names load on first use (PEP 562): ``import transferkit.backbones`` does not import torch, and
:data:`BACKBONES` is complete (every provider imported) when it is first read from here.
:mod:`transferkit.backbones._catalog` lists the providers without importing them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from transferkit.backbones._info import BackboneInfo

if TYPE_CHECKING:
    from transferkit.backbones._api import (
        BACKBONES,
        create_backbone,
        list_backbones,
        needs_pretrained_message,
        parse_backbone_spec,
    )
    from transferkit.backbones._catalog import PROVIDERS, list_providers
    from transferkit.backbones.base import Backbone, batch_size_of, to_device
    from transferkit.backbones.model import TransferModel, make_head, reinitialize

_LAZY: dict[str, str] = {
    **dict.fromkeys(("BACKBONES", "create_backbone", "list_backbones", "needs_pretrained_message",
                     "parse_backbone_spec"), "transferkit.backbones._api"),
    **dict.fromkeys(("Backbone", "batch_size_of", "to_device"), "transferkit.backbones.base"),
    **dict.fromkeys(("TransferModel", "make_head", "reinitialize"), "transferkit.backbones.model"),
    **dict.fromkeys(("PROVIDERS", "list_providers"), "transferkit.backbones._catalog"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'transferkit.backbones' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "BACKBONES",
    "PROVIDERS",
    "Backbone",
    "BackboneInfo",
    "TransferModel",
    "batch_size_of",
    "create_backbone",
    "list_backbones",
    "list_providers",
    "make_head",
    "needs_pretrained_message",
    "parse_backbone_spec",
    "reinitialize",
    "to_device",
]
