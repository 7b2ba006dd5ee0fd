"""Built-in small networks for small images, 1-D signals and tables (random initialisation).

They are the architectures our own pre-trained zoo uses (``transferkit pretrain``) and the
from-scratch baselines. Table and signal nets carry their input standardisation as buffers, so a
pre-trained net keeps the statistics of its source data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from transferkit.backbones._catalog import PROVIDERS
from transferkit.backbones._info import BACKBONES
from transferkit.backbones._prep import check_array, image_batch, standardize
from transferkit.backbones.base import Backbone
from transferkit.errors import BackboneSpecError


def _conv_block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.MaxPool2d(2))


class _ThreeBlocks(Backbone):
    """A CNN made of ``block1``, ``block2``, ``block3`` (the last one pools to ``num_features``)."""

    def forward_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """Inputs -> ``(N, num_features)``."""
        return self.block3(self.block2(self.block1(inputs)))

    def layer_groups(self) -> list[nn.Module]:
        """The three conv blocks, input to output."""
        return [self.block1, self.block2, self.block3]


class SmallCNN(_ThreeBlocks):
    """A 3-block CNN (BatchNorm, ReLU) for small grey or colour images, e.g. digits at 28x28."""

    input_kind = "image"

    def __init__(self, in_chans: int = 1, image_size: int = 28, width: int = 32, num_features: int = 128) -> None:
        super().__init__()
        if in_chans < 1 or image_size < 8 or width < 1 or num_features < 1:
            raise BackboneSpecError("smallcnn needs in_chans >= 1, image_size >= 8, width >= 1, num_features >= 1")
        self.in_chans, self.image_size, self.width, self.num_features = in_chans, image_size, width, num_features
        self.spec = "smallcnn"
        self.block1 = _conv_block(in_chans, width)
        self.block2 = _conv_block(width, 2 * width)
        self.block3 = nn.Sequential(_conv_block(2 * width, 4 * width), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                    nn.Linear(4 * width, num_features), nn.ReLU(inplace=True))

    def prepare(self, batch: Any) -> torch.Tensor:
        """Resize to ``image_size``, match channels, scale [0, 1] to [-1, 1]."""
        return image_batch(batch, (self.image_size, self.image_size), self.in_chans, (0.5,) * self.in_chans,
                           (0.5,) * self.in_chans)

    def preprocess_config(self) -> dict[str, Any]:
        """Resize + [-1, 1] scaling."""
        return {"image_size": self.image_size, "in_chans": self.in_chans, "mean": 0.5, "std": 0.5}

    def config(self) -> dict[str, Any]:
        """Architecture settings."""
        return {"spec": self.spec, "in_chans": self.in_chans, "image_size": self.image_size, "width": self.width,
                "num_features": self.num_features}


class _Standardized(Backbone):
    """Mixin: per-feature (or per-channel) standardisation stored as buffers."""

    def _init_stats(self, shape: tuple[int, ...]) -> None:
        self.register_buffer("input_mean", torch.zeros(shape))
        self.register_buffer("input_std", torch.ones(shape))

    def fit_preprocessing(self, x: np.ndarray) -> None:
        """Set the standardisation statistics from training inputs (no labels involved)."""
        t = torch.as_tensor(np.asarray(x, dtype=np.float32))
        dims = (0,) if t.ndim == 2 else (0, 2)
        mean, std = t.mean(dim=dims), t.std(dim=dims)
        self.input_mean.copy_(mean.reshape(self.input_mean.shape))
        self.input_std.copy_(torch.where(std > 1e-8, std, torch.ones_like(std)).reshape(self.input_std.shape))

    def preprocess_config(self) -> dict[str, Any]:
        """Standardisation (its statistics are buffers, hashed with the weights)."""
        return {"standardize": True}


class SignalCNN(_Standardized, _ThreeBlocks):
    """A 1-D CNN for multichannel signals ``(N, C, T)`` (inertial, EEG, EMG)."""

    input_kind = "signal"

    def __init__(self, in_channels: int = 9, width: int = 32, num_features: int = 128, kernel_size: int = 7) -> None:
        super().__init__()
        if in_channels < 1:
            raise BackboneSpecError("signalcnn needs in_channels >= 1")
        self.in_channels, self.width, self.num_features, self.kernel_size = in_channels, width, num_features, kernel_size
        self.spec = "signalcnn"
        self._init_stats((in_channels, 1))
        pad = kernel_size // 2

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv1d(cin, cout, kernel_size, padding=pad, bias=False), nn.BatchNorm1d(cout),
                                 nn.ReLU(inplace=True), nn.MaxPool1d(2))

        self.block1 = block(in_channels, width)
        self.block2 = block(width, 2 * width)
        self.block3 = nn.Sequential(block(2 * width, 4 * width), nn.AdaptiveAvgPool1d(1), nn.Flatten(),
                                    nn.Linear(4 * width, num_features), nn.ReLU(inplace=True))

    def prepare(self, batch: Any) -> torch.Tensor:
        """Check shape, standardise per channel."""
        x = check_array(batch, 3, "signalcnn", (self.in_channels,))
        return standardize(x, self.input_mean, self.input_std)

    def config(self) -> dict[str, Any]:
        """Architecture settings."""
        return {"spec": self.spec, "in_channels": self.in_channels, "width": self.width,
                "num_features": self.num_features, "kernel_size": self.kernel_size}


class TabMLP(_Standardized):
    """An MLP for tables ``(N, D)``: standardise, then Linear-ReLU-Dropout layers."""

    input_kind = "table"

    def __init__(self, in_features: int, hidden: tuple[int, ...] | list[int] = (128, 64), dropout: float = 0.1) -> None:
        super().__init__()
        if in_features < 1 or not hidden:
            raise BackboneSpecError("tabmlp needs in_features >= 1 and at least one hidden layer")
        self.in_features, self.hidden, self.dropout = in_features, tuple(int(h) for h in hidden), dropout
        self.num_features = self.hidden[-1]
        self.spec = "tabmlp"
        self._init_stats((in_features,))
        dims = (in_features, *self.hidden)
        self.layers = nn.ModuleList(nn.Sequential(nn.Linear(a, b), nn.ReLU(inplace=True), nn.Dropout(dropout)) for a,
                                    b in zip(dims, dims[1:]))

    def prepare(self, batch: Any) -> torch.Tensor:
        """Check width, standardise per column."""
        x = check_array(batch, 2, "tabmlp", (self.in_features,))
        return standardize(x, self.input_mean, self.input_std)

    def forward_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """Rows -> ``(N, hidden[-1])``."""
        for layer in self.layers:
            inputs = layer(inputs)
        return inputs

    def layer_groups(self) -> list[nn.Module]:
        """One group per hidden layer."""
        return list(self.layers)

    def config(self) -> dict[str, Any]:
        """Architecture settings."""
        return {"spec": self.spec, "in_features": self.in_features, "hidden": list(self.hidden),
                "dropout": self.dropout}


@BACKBONES.register("smallcnn", info=PROVIDERS["smallcnn"])
def smallcnn(in_chans: int = 1, image_size: int = 28, width: int = 32, num_features: int = 128) -> Backbone:
    """Create a :class:`SmallCNN` (random initialisation)."""
    return SmallCNN(int(in_chans), int(image_size), int(width), int(num_features))


@BACKBONES.register("signalcnn", info=PROVIDERS["signalcnn"])
def signalcnn(in_channels: int = 9, width: int = 32, num_features: int = 128, kernel_size: int = 7) -> Backbone:
    """Create a :class:`SignalCNN` (random initialisation)."""
    return SignalCNN(int(in_channels), int(width), int(num_features), int(kernel_size))


@BACKBONES.register("tabmlp", info=PROVIDERS["tabmlp"])
def tabmlp(in_features: int = 0, hidden: Any = (128, 64), dropout: float = 0.1) -> Backbone:
    """Create a :class:`TabMLP`; ``in_features`` is taken from the data when built with a data set."""
    if isinstance(hidden, str):
        hidden = tuple(int(h) for h in hidden.replace("-", ",").split(",") if h)
    if int(in_features) < 1:
        raise BackboneSpecError("tabmlp needs in_features (the number of table columns), e.g. tabmlp?in_features=23")
    return TabMLP(int(in_features), tuple(hidden), float(dropout))
