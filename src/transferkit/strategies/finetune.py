"""``finetune``: train the pre-trained backbone and a head, with an optional freeze spec."""

from __future__ import annotations

from collections.abc import Sequence

from transferkit.strategies._base import Strategy
from transferkit.strategies._info import STRATEGIES, StrategyInfo
from transferkit.training import TransferModel, set_trainable


def freeze_by_spec(model: TransferModel, freeze: str | int | Sequence[str] | None) -> None:
    """Freeze parts of ``model``: ``None``/``"none"`` nothing, ``"backbone"`` all but the head,
    an int ``k`` the first ``k`` backbone layer groups, or a list of module names
    (``"backbone.block1"``; every parameter under that name is frozen)."""
    set_trainable(model, True)
    if freeze is None or freeze == "none":
        return
    if freeze == "backbone":
        set_trainable(model.backbone, False)
        return
    if isinstance(freeze, int) and not isinstance(freeze, bool):
        groups = model.backbone.layer_groups()
        if not 0 <= freeze <= len(groups):
            raise ValueError(f"freeze={freeze}: the backbone has {len(groups)} layer groups")
        set_trainable(list(groups[:freeze]), False)
        return
    if isinstance(freeze, str):
        raise ValueError(f"freeze must be 'none', 'backbone', an int or a list of module names, got {freeze!r}")
    modules = dict(model.named_modules())
    unknown = [n for n in freeze if n not in modules]
    if unknown:
        some = ", ".join(list(n for n in modules if n.count(".") <= 1 and n)[:12])
        raise ValueError(f"unknown module names {unknown}; top-level modules include: {some}")
    set_trainable([modules[n] for n in freeze], False)


@STRATEGIES.register("finetune", info=StrategyInfo("fine-tune the pre-trained backbone and a head (optional freeze "
                                                   "spec: 'backbone', first k layer groups, or module names)",
                                                   advice="try l2sp or lp_ft (they keep closer to the pre-trained "
                                                          "weights), or freeze the first layer groups"),
                     aliases=("fine_tune",))
class FineTune(Strategy):
    """Fine-tune everything except what ``freeze`` names (frozen BatchNorm keeps its statistics).

    Args:
        freeze: ``"none"`` (default), ``"backbone"``, an int ``k`` (first k layer groups) or module names.
    """

    name = "finetune"

    def __init__(self, freeze: str | int | Sequence[str] | None = "none") -> None:
        self.freeze = freeze if isinstance(freeze, (str, int)) or freeze is None else list(freeze)

    def setup(self, model: TransferModel) -> None:
        """Apply the freeze spec."""
        freeze_by_spec(model, self.freeze)
