"""transferkit: choose a pretrained model, transfer it, and prove that reuse helped.

The short public API; each sub-package (``transferkit.data``, ``.backbones``, ``.features``,
``.transferability``, ``.similarity``, ``.strategies``, ``.training``, ``.evaluation``, ...) has more.
"""

from transferkit._version import __version__
from transferkit.backbones import Backbone, create_backbone
from transferkit.data import Dataset, TransferTask, load_dataset
from transferkit.features import FeatureExtractor, extract_features
from transferkit.training import TrainConfig, TransferModel, train

__all__ = [
    "Backbone",
    "Dataset",
    "FeatureExtractor",
    "TrainConfig",
    "TransferModel",
    "TransferTask",
    "__version__",
    "create_backbone",
    "extract_features",
    "load_dataset",
    "train",
]
