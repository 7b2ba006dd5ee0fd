"""``lenet``: the LeNet-style CNN of the digit-adaptation literature (DANN, ADDA, CDAN report MNIST/USPS with it).

Registered as a backbone so that a deep adaptation run's model ships as a model folder and is
rebuilt from its card (``transferkit adapt`` trains it by default on images).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from transferkit.backbones._catalog import PROVIDERS
from transferkit.backbones._info import BACKBONES
from transferkit.backbones._prep import image_batch
from transferkit.backbones.base import Backbone
from transferkit.errors import BackboneError


class LeNet(Backbone):
    """LeNet-style CNN (conv 5x5 x20, pool, conv 5x5 x50, dropout, pool, fc 500) for 28x28 digits.

    About 2.3 M multiply-adds per image, cheap enough for CPU runs.
    """

    input_kind = "image"

    def __init__(self, in_chans: int = 1, image_size: int = 28, num_features: int = 500) -> None:
        super().__init__()
        if image_size < 16:
            raise BackboneError("lenet needs images of at least 16x16")
        self.in_chans, self.image_size, self.num_features = in_chans, image_size, num_features
        self.spec = "lenet"
        side = ((image_size - 4) // 2 - 4) // 2
        self.conv = nn.Sequential(nn.Conv2d(in_chans, 20, 5), nn.MaxPool2d(2), nn.ReLU(inplace=True),
                                  nn.Conv2d(20, 50, 5), nn.Dropout2d(0.5), nn.MaxPool2d(2), nn.ReLU(inplace=True))
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(50 * side * side, num_features), nn.ReLU(inplace=True),
                                nn.Dropout(0.5))

    def prepare(self, batch: Any) -> torch.Tensor:
        """Resize to ``image_size``, match channels, scale [0, 1] to [-1, 1]."""
        return image_batch(batch, (self.image_size, self.image_size), self.in_chans, (0.5,) * self.in_chans,
                           (0.5,) * self.in_chans)

    def forward_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """Images -> ``(N, num_features)``."""
        return self.fc(self.conv(inputs))

    def layer_groups(self) -> list[nn.Module]:
        """Convolutions, then the fully connected layer."""
        return [self.conv, self.fc]

    def preprocess_config(self) -> dict[str, Any]:
        """Resize + [-1, 1] scaling."""
        return {"image_size": self.image_size, "in_chans": self.in_chans, "mean": 0.5, "std": 0.5}

    def config(self) -> dict[str, Any]:
        """Architecture settings."""
        return {"spec": self.spec, "in_chans": self.in_chans, "image_size": self.image_size,
                "num_features": self.num_features}


@BACKBONES.register("lenet", info=PROVIDERS["lenet"])
def lenet(in_chans: int = 1, image_size: int = 28, num_features: int = 500) -> Backbone:
    """Create a :class:`LeNet` (random initialisation)."""
    return LeNet(int(in_chans), int(image_size), int(num_features))
