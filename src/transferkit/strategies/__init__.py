"""Transfer strategies: one file each, registered by name, usable by name or as objects.

>>> from transferkit.strategies import get_strategy
>>> get_strategy("discriminative_lr", decay=0.5).decay
0.5
"""

from __future__ import annotations

from typing import Any

from transferkit.backbones.model import reinitialize
from transferkit.errors import UsageError
from transferkit.strategies import (  # noqa: F401  (register every strategy)
    auto,
    bitfit,
    discriminative_lr,
    finetune,
    gradual_unfreeze,
    l2sp,
    linear_probe,
    lora,
    lp_ft,
    scratch,
    setfit,
)
from transferkit.strategies._base import Strategy, is_transformer
from transferkit.strategies._features import clear_memo, features_for, warm_features
from transferkit.strategies._info import STRATEGIES, StrategyInfo, strategy_advice
from transferkit.strategies.auto import Auto
from transferkit.strategies.discriminative_lr import DiscriminativeLR, layerwise_groups
from transferkit.strategies.finetune import FineTune, freeze_by_spec
from transferkit.strategies.gradual_unfreeze import GradualUnfreeze
from transferkit.strategies.l2sp import L2SP
from transferkit.strategies.linear_probe import LinearProbe
from transferkit.strategies.lora import LoRA
from transferkit.strategies.lp_ft import LPFT
from transferkit.strategies.scratch import Scratch
from transferkit.strategies.setfit import SetFit, contrastive_pairs


def _option_value(text: str) -> Any:
    """``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"``/``"false"``/``"none"`` -> True/False/None, else the text."""
    words = {"true": True, "false": False, "none": None}
    if text.lower() in words:
        return words[text.lower()]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_strategy_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"auto?search=full"`` -> ``("auto", {"search": "full"})`` (numbers and true/false/none converted)."""
    from urllib.parse import parse_qsl

    name, _, query = spec.partition("?")
    return name.strip(), {k: _option_value(v) for k, v in parse_qsl(query, keep_blank_values=True)}


def get_strategy(name_or_obj: str | Strategy, **options: Any) -> Strategy:
    """A new strategy object from a registered name (with ``options``), or the object itself.

    A name may carry options after ``?`` (``"auto?search=full"``, ``"l2sp?alpha=0.1"``); keyword
    ``options`` override them. An unknown name raises :class:`~transferkit.errors.UnknownName`; an
    option the strategy does not take, or a value it refuses, raises a
    :class:`~transferkit.errors.UsageError` (a ``ValueError``) that says which.
    """
    if isinstance(name_or_obj, str):
        name, given = parse_strategy_spec(name_or_obj)
        cls = STRATEGIES.get(name)
        given.update(options)
        try:
            return cls(**given)
        except TypeError as exc:
            import inspect

            takes = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
            raise UsageError(f"strategy {name!r} does not take the options {sorted(given)} ({exc}); it takes: "
                             f"{', '.join(takes) or 'no options'}") from exc
        except UsageError:
            raise
        except ValueError as exc:  # a value the strategy refuses: the user's option, not a bug
            raise UsageError(f"strategy {name_or_obj!r}: {exc}") from exc
    if not hasattr(name_or_obj, "fit") or not hasattr(name_or_obj, "param_groups"):
        raise TypeError(f"{name_or_obj!r} is not a strategy: pass a name ({', '.join(STRATEGIES.names())}) or a "
                        "Strategy object")
    return name_or_obj


def list_strategies() -> list[dict[str, Any]]:
    """Registered strategies with their info records."""
    return [{"name": e.name, "aliases": list(e.aliases), **vars(e.info)} for e in STRATEGIES]


__all__ = [
    "L2SP",
    "LPFT",
    "STRATEGIES",
    "Auto",
    "DiscriminativeLR",
    "FineTune",
    "GradualUnfreeze",
    "LinearProbe",
    "LoRA",
    "Scratch",
    "SetFit",
    "Strategy",
    "StrategyInfo",
    "clear_memo",
    "contrastive_pairs",
    "features_for",
    "freeze_by_spec",
    "get_strategy",
    "is_transformer",
    "layerwise_groups",
    "list_strategies",
    "parse_strategy_spec",
    "reinitialize",
    "strategy_advice",
    "warm_features",
]
