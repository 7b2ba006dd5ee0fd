"""Equal weighting (linear scalarisation): the sum of the task losses."""

from __future__ import annotations

from transferkit.multitask.weightings._base import WEIGHTINGS, Weighting, WeightingInfo


@WEIGHTINGS.register("equal", aliases=("ls", "ew"), info=WeightingInfo(
    "loss", "sum of the task losses, every weight 1 (the baseline to beat)", "linear scalarisation"))
class Equal(Weighting):
    """``L = sum_k L_k`` (every weight stays 1)."""

    name = "equal"
