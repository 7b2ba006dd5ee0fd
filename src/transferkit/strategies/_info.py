"""The strategy registry and its info record."""

from __future__ import annotations

from dataclasses import dataclass

from transferkit._registry import Registry


@dataclass(frozen=True)
class StrategyInfo:
    """What a transfer strategy needs and does.

    Attributes:
        description: one line for ``transferkit models``-style listings.
        needs_layer_groups: uses ``backbone.layer_groups()`` (freeze the first k, layer-wise LRs).
        uses_backbone_training: back-propagates into the backbone (False: frozen features only).
        needs_pretrained: only meaningful with pre-trained weights (False for ``scratch``).
        transformer_only: needs attention layers (LoRA).
        torch_loop: trains through :func:`transferkit.training.train` (False: scikit-learn on features).
        advice: what to try next when this strategy does not beat training from scratch (a
            short clause such as ``"try lp_ft ..."``), or None.
    """

    description: str
    needs_layer_groups: bool = False
    uses_backbone_training: bool = True
    needs_pretrained: bool = True
    transformer_only: bool = False
    torch_loop: bool = True
    advice: str | None = None


STRATEGIES: Registry[type] = Registry("strategy")


def strategy_advice(name: str) -> str | None:
    """What to try next when strategy ``name`` (or an alias) did not beat scratch; None if it has no advice.

    Raises :class:`~transferkit.errors.UnknownName` for a name that is not registered.
    """
    return STRATEGIES.info(name).advice
