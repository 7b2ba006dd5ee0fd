"""The backbone registry and its info record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from transferkit._registry import Registry
from transferkit.backbones.base import Backbone


@dataclass(frozen=True)
class BackboneInfo:
    """What a backbone provider reads and whether it needs anything from outside."""

    input_kind: str  # image / text / table / signal, or "any" for providers such as timm/zoo
    description: str
    takes_argument: bool = False  # provider:<argument>, e.g. timm:resnet18
    offline: bool = True  # works with no network and no extra files


Factory = Callable[..., Backbone]
BACKBONES: Registry[Factory] = Registry("backbone")
