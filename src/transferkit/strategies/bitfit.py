"""``bitfit``: train only the backbone's bias terms and the new head.

Ben Zaken, Ravfogel & Goldberg, "BitFit: Simple Parameter-efficient Fine-tuning for
Transformer-based Masked Language-models", ACL 2022. Every weight matrix, embedding and
normalisation gain stays at its pre-trained value; the biases (of linear, convolution and
normalisation layers alike, about 0.1% of a BERT's parameters) and the head train. The biases get
no weight decay (the authors' code uses AdamW without it); the head gets the usual one. Their
examples train BitFit at a learning rate of 1e-3 (full fine-tuning at 1e-5), so the default
learning rate is 1e-3 for every backbone, transformers included.

BatchNorm layers whose bias trains follow the training loop's one policy for layers that train:
they normalise with batch statistics and update their running statistics on the target data.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from transferkit.errors import BackboneError
from transferkit.strategies._base import Strategy
from transferkit.strategies._info import STRATEGIES, StrategyInfo
from transferkit.training import TransferModel, set_trainable


def bias_parameters(module: nn.Module) -> list[nn.Parameter]:
    """Every parameter registered under the name ``bias`` in ``module`` (each once)."""
    return [p for name, p in module.named_parameters() if name.rsplit(".", 1)[-1] == "bias"]


@STRATEGIES.register("bitfit", info=StrategyInfo(
    "train only the backbone's bias terms and the head (BitFit)",
    advice="try finetune or l2sp when the target needs more than shifted activations (BitFit is strongest "
           "with little data; full fine-tuning overtakes it as the data grow)"))
class BitFit(Strategy):
    """Freeze every backbone parameter except its biases; the head trains fully."""

    name = "bitfit"

    def setup(self, model: TransferModel) -> None:
        """Biases and head trainable, everything else frozen."""
        biases = bias_parameters(model.backbone)
        if not biases:
            raise BackboneError(f"bitfit: backbone {model.backbone.spec!r} has no bias terms; use linear_probe "
                                "(head only) or lora instead")
        set_trainable(model.backbone, False)
        for p in biases:
            p.requires_grad_(True)
        set_trainable(model.head, True)

    def param_groups(self, model: TransferModel, lr: float, weight_decay: float) -> list[dict[str, Any]]:
        """Backbone biases without weight decay; the head with it."""
        return [{"params": bias_parameters(model.backbone), "lr": lr, "weight_decay": 0.0, "name": "biases"},
                {"params": list(model.head.parameters()), "lr": lr, "weight_decay": weight_decay, "name": "head"}]

    def default_lr(self, model: TransferModel) -> float:
        """1e-3, also for transformers (biases alone need larger steps than full fine-tuning)."""
        return 1e-3
