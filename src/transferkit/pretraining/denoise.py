"""Masked / denoising reconstruction pre-training for unlabelled sources.

Each prepared input is corrupted (random patches, time steps or cells set to 0, plus noise, see
``_augment.corrupt``); the backbone encodes the corrupted input and a small MLP decoder must
reconstruct the clean (normalised) input from the features. The decoder is dropped afterwards.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from transferkit.backbones import to_device
from transferkit.pretraining._augment import corrupt
from transferkit.pretraining._info import OBJECTIVES, ObjectiveInfo, ObjectiveResult, ObjectiveRun
from transferkit.pretraining._trainer import PretrainTrainer, run_objective


class DenoiseTrainer(PretrainTrainer):
    """Backbone + MLP decoder; the loss is the squared error of reconstructing clean inputs from corrupted ones."""

    name = "denoise"
    head_name = "decoder"

    def input_size(self) -> int:
        """Values in one prepared input (the decoder's output size)."""
        return math.prod(tuple(self.inputs(np.arange(min(2, len(self.data)))).shape[1:]))

    def make_head(self) -> nn.Module:
        """``Linear(features, 256) - ReLU - Linear(256, input size)``."""
        return nn.Sequential(nn.Linear(self.backbone.num_features, 256), nn.ReLU(), nn.Linear(256, self.input_size()))

    def details(self) -> dict[str, Any]:
        """Mask ratio, noise and the decoder's shape."""
        return {"mask_ratio": self.settings.mask_ratio, "noise_std": self.settings.noise_std,
                "decoder": f"MLP {self.backbone.num_features}-256-{self.input_size()}"}

    def step(self, batch: np.ndarray) -> tuple[torch.Tensor, dict[str, Any]]:
        """Reconstruction error of the rows ``batch`` from a masked, noisy copy."""
        assert self.head is not None
        s = self.settings
        clean = self.inputs(batch)
        noisy = corrupt(clean, self.backbone.input_kind, self.gen, s.mask_ratio, s.noise_std)
        recon = self.head(self.features(noisy))
        return F.mse_loss(recon, to_device(clean, self.device).reshape(len(batch), -1)), {"n": len(batch)}


@OBJECTIVES.register("denoise", info=ObjectiveInfo(False, "reconstruct masked + noisy inputs through the features"))
def denoise(run: ObjectiveRun) -> ObjectiveResult:
    """Denoising pre-training; labels (if any) are used only to report a linear-probe source metric."""
    return run_objective(DenoiseTrainer, run)
