"""Training: the one loop (:func:`fit`), the :class:`Trainer` interface every method implements,
checkpoints, callbacks, and the supervised trainer behind :func:`train`."""

from transferkit.backbones.model import TransferModel, make_head
from transferkit.training.callbacks import Callback
from transferkit.training.loop import TrainConfig, TrainResult, average_gradients, fit, lr_factor, make_accelerator
from transferkit.training.strategy_base import TrainStrategy, set_trainable
from transferkit.training.supervised import SupervisedTrainer, make_loader, predict, train
from transferkit.training.trainer import Trainer, apply_batchnorm_policy

__all__ = [
    "Callback",
    "SupervisedTrainer",
    "TrainConfig",
    "TrainResult",
    "TrainStrategy",
    "Trainer",
    "TransferModel",
    "apply_batchnorm_policy",
    "average_gradients",
    "fit",
    "lr_factor",
    "make_accelerator",
    "make_head",
    "make_loader",
    "predict",
    "set_trainable",
    "train",
]
