"""SimCLR-style contrastive pre-training (Chen et al., ICML 2020) for unlabelled sources.

Two random views of each example (see ``_augment``) go through the backbone and a small
projection MLP; the NT-Xent loss pulls the two views of an example together and pushes them away
from the other ``2N - 2`` views in the batch. The projection head is dropped afterwards: the zoo
entry keeps the backbone only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from transferkit.pretraining._augment import augment
from transferkit.pretraining._info import OBJECTIVES, ObjectiveInfo, ObjectiveResult, ObjectiveRun
from transferkit.pretraining._trainer import PretrainTrainer, run_objective


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """Normalised-temperature cross-entropy over the ``2N`` views (positives: the other view)."""
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, target)


class SimCLRTrainer(PretrainTrainer):
    """Backbone + projection MLP; the loss is NT-Xent over two augmented views of each row."""

    name = "simclr"
    head_name = "proj"

    def make_head(self) -> nn.Module:
        """``Linear(features, 128) - ReLU - Linear(128, proj_dim)``."""
        return nn.Sequential(nn.Linear(self.backbone.num_features, 128), nn.ReLU(),
                             nn.Linear(128, self.settings.proj_dim))

    def details(self) -> dict[str, Any]:
        """Temperature, projection size and the augmentations."""
        return {"temperature": self.settings.temperature, "proj_dim": self.settings.proj_dim,
                "augmentations": f"{self.backbone.input_kind} views (transferkit.pretraining._augment)"}

    def step(self, batch: np.ndarray) -> tuple[torch.Tensor, dict[str, Any]]:
        """NT-Xent of two views of the rows ``batch``."""
        assert self.head is not None
        x, kind, s = self.inputs(batch), self.backbone.input_kind, self.settings
        v1 = augment(x, kind, self.gen, s.noise_std)
        v2 = augment(x, kind, self.gen, s.noise_std)
        loss = nt_xent(self.head(self.features(v1)), self.head(self.features(v2)), s.temperature)
        return loss, {"n": len(batch)}


@OBJECTIVES.register("simclr", info=ObjectiveInfo(False, "contrastive: two augmented views, NT-Xent loss"))
def simclr(run: ObjectiveRun) -> ObjectiveResult:
    """Contrastive pre-training; labels (if any) are used only to report a linear-probe source metric."""
    return run_objective(SimCLRTrainer, run)
