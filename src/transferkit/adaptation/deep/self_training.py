"""Pseudo-label self-training: confident target predictions become training labels."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from transferkit.adaptation._info import DEEP_METHODS, MethodInfo
from transferkit.adaptation.deep._base import DeepMethod, StepOutputs, dann_coefficient


@DEEP_METHODS.register("self_training", aliases=("pseudo_label", "self-training"), info=MethodInfo(
    "target-structure", "cross-entropy on target predictions above a confidence threshold, weight ramped up",
    "Lee. Pseudo-label, ICML-W 2013; threshold as in FixMatch (Sohn et al. 2020)", needs="network"))
class SelfTraining(DeepMethod):
    """Online pseudo-labelling.

    At each step the network labels the target batch; rows whose top probability reaches
    ``threshold`` add a cross-entropy term towards that label. The weight follows the DANN ramp,
    so the early, unreliable predictions count little. ``class_balanced`` caps each class at
    its fair share of the confident rows, which guards against collapse onto easy classes.

    Args:
        weight: maximum weight of the pseudo-label loss.
        threshold: confidence needed to use a target row (0.9).
        class_balanced: keep at most ``ceil(n_confident / n_classes) * 2`` rows per class.
    """

    def __init__(self, weight: float = 1.0, threshold: float = 0.9, class_balanced: bool = True) -> None:
        super().__init__()
        if not 0.0 < threshold < 1.0:
            raise ValueError("threshold must lie in (0, 1)")
        self.weight = weight
        self.threshold = threshold
        self.class_balanced = class_balanced

    def forward(self, out: StepOutputs, progress: float) -> tuple[torch.Tensor, dict[str, float]]:
        """Masked cross-entropy on pseudo-labels."""
        probs = F.softmax(out.logits_t.detach(), dim=1)
        conf, pseudo = probs.max(dim=1)
        mask = conf >= self.threshold
        if self.class_balanced and mask.any():
            k = out.logits_t.shape[1]
            cap = 2 * int(torch.ceil(mask.sum() / k))
            for c in range(k):
                idx = torch.nonzero(mask & (pseudo == c)).squeeze(1)
                if len(idx) > cap:
                    keep = idx[torch.argsort(conf[idx], descending=True)[cap:]]
                    mask[keep] = False
        ce = F.cross_entropy(out.logits_t, pseudo, reduction="none")
        loss = (ce * mask.float()).mean()
        coeff = self.weight * dann_coefficient(progress)
        return coeff * loss, {"pseudo_loss": loss.item(), "mask_rate": float(mask.float().mean())}
