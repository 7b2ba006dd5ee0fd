"""Pre-training: build our own model zoo (supervised, SimCLR-style contrastive, denoising).

``pretrain(backbone, source, objective, name=..., zoo_dir=...)`` trains a backbone on a source data
set and saves it as a zoo entry (safetensors weights + model card), loadable everywhere as
``zoo:<name>`` (see :mod:`transferkit.backbones.zoo`).
"""

from transferkit.pretraining import denoise, simclr, supervised  # noqa: F401  (register objectives)
from transferkit.pretraining._info import OBJECTIVES, ObjectiveInfo, ObjectiveResult, ObjectiveRun, PretrainSettings
from transferkit.pretraining.api import (
    PretrainResult,
    default_zoo_dir,
    pretrain,
    pretrain_summary,
    run_pretrain,
    subsample,
)

__all__ = [
    "OBJECTIVES",
    "ObjectiveInfo",
    "ObjectiveResult",
    "ObjectiveRun",
    "PretrainResult",
    "PretrainSettings",
    "default_zoo_dir",
    "pretrain",
    "pretrain_summary",
    "run_pretrain",
    "subsample",
]
