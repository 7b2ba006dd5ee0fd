"""Multi-task loss weightings and gradient surgery, one file each, in one registry ``WEIGHTINGS``."""

from transferkit.multitask.weightings import cagrad, dwa, equal, gradnorm, pcgrad, uncertainty  # noqa: F401
from transferkit.multitask.weightings._base import (
    WEIGHTINGS,
    GradientSurgery,
    Weighting,
    WeightingInfo,
    get_weighting,
    per_task_gradients,
    set_flat_gradient,
)
from transferkit.multitask.weightings.cagrad import cagrad_direction
from transferkit.multitask.weightings.dwa import dwa_weights
from transferkit.multitask.weightings.gradnorm import gradnorm_objective
from transferkit.multitask.weightings.pcgrad import pcgrad_project

__all__ = [
    "WEIGHTINGS",
    "GradientSurgery",
    "Weighting",
    "WeightingInfo",
    "cagrad_direction",
    "dwa_weights",
    "get_weighting",
    "gradnorm_objective",
    "pcgrad_project",
    "per_task_gradients",
    "set_flat_gradient",
]
