"""The backbone registry and its info record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from transferkit._registry import Registry

if TYPE_CHECKING:  # this module stays free of torch: `transferkit models` reads the records without it
    from transferkit.backbones.base import Backbone
    from transferkit.data.dataset import Dataset


@dataclass(frozen=True)
class BackboneInfo:
    """What a backbone provider reads and whether it needs anything from outside.

    Attributes:
        input_kind: ``image`` / ``text`` / ``table`` / ``signal``, or ``any`` (timm, zoo).
        description: one line for ``transferkit models``.
        takes_argument: the spec has a ``provider:<argument>`` part (``timm:resnet18``).
        offline: works with no network and no extra files.
        pretrained_by_default: the weights are pre-trained unless asked otherwise (False: a
            built-in net with random weights unless ``?weights=`` is given, so nothing to transfer).
        from_data: options taken from a data set when one is given (input width or channels),
            ``data -> {option: value}``; an explicit option wins.
        lightweight: built from code alone in well under a second on a CPU (no files, no
            downloads, no ``:argument``); contract tests build every lightweight provider.
        size: parameters and weights size, for ``transferkit models`` ("" when it depends on options).
        weights: where the weights come from, for ``transferkit models`` ("": said from the other fields).
    """

    input_kind: str
    description: str
    takes_argument: bool = False
    offline: bool = True
    pretrained_by_default: bool = True
    from_data: Callable[[Dataset], dict[str, Any]] | None = None
    lightweight: bool = False
    size: str = ""
    weights: str = ""


Factory = Callable[..., "Backbone"]
BACKBONES: Registry[Factory] = Registry("backbone", hint="see `transferkit models`")
