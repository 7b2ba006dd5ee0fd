"""Deep domain adaptation: one training loop, one file per method (needs torch).

Importing this package registers every method in :data:`DEEP_METHODS`.
"""

from __future__ import annotations

from transferkit.adaptation.deep import (  # noqa: F401  (register every method)
    afn,
    cdan,
    dan,
    dann,
    deep_coral,
    mcc,
    self_training,
    source_only,
)
from transferkit.adaptation.deep._base import DeepMethod, StepOutputs, dann_coefficient, gradient_reversal
from transferkit.adaptation.deep._loop import DeepConfig, DeepResult, predict_outputs, train_adaptation
from transferkit.adaptation.deep._nets import AdaptationNetwork, LeNet

__all__ = [
    "AdaptationNetwork",
    "DeepConfig",
    "DeepMethod",
    "DeepResult",
    "LeNet",
    "StepOutputs",
    "dann_coefficient",
    "gradient_reversal",
    "predict_outputs",
    "train_adaptation",
]
