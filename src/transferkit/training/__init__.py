"""Training: the model wrapper, the strategy interface, callbacks and the one training loop."""

from transferkit.backbones.model import TransferModel, make_head
from transferkit.training.callbacks import Callback
from transferkit.training.loop import (
    SCORERS,
    TrainConfig,
    TrainResult,
    apply_batchnorm_policy,
    clone_model,
    predict,
    train,
)
from transferkit.training.strategy_base import TrainStrategy, set_trainable

__all__ = [
    "SCORERS",
    "Callback",
    "TrainConfig",
    "TrainResult",
    "TrainStrategy",
    "TransferModel",
    "apply_batchnorm_policy",
    "clone_model",
    "make_head",
    "predict",
    "set_trainable",
    "train",
]
