"""transferkit: choose a pretrained model, transfer it, and prove that reuse helped.

The verbs, each one call (the command-line tool runs the same functions)::

    import transferkit as tk

    table = tk.rank(["zoo:mnist-cnn", "smallcnn", "raw"], "usps@test")     # choose a backbone
    shift = tk.measure_similarity("mnist@test", "usps@test", "zoo:mnist-cnn")  # measure the shift
    result = tk.compare(tk.TransferTask(target=tk.load_dataset("usps")), "zoo:mnist-cnn", "auto")  # prove
    results = tk.fit("usps", "zoo:mnist-cnn", budgets="10,50,all")           # what `transferkit fit` runs

Names load on first use (PEP 562), so ``import transferkit`` stays light; each sub-package
(``transferkit.data``, ``.backbones``, ``.features``, ``.transferability``, ``.similarity``,
``.strategies``, ``.training``, ``.experiments``, ``.evaluation``, ...) has more.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from transferkit._version import __version__

# public name -> (module, attribute); imported on first access
_LAZY: dict[str, tuple[str, str]] = {
    # building blocks
    "Arm": ("transferkit.experiments", "Arm"),
    "Backbone": ("transferkit.backbones", "Backbone"),
    "Dataset": ("transferkit.data", "Dataset"),
    "FeatureExtractor": ("transferkit.features", "FeatureExtractor"),
    "TrainConfig": ("transferkit.training", "TrainConfig"),
    "TransferClassifier": ("transferkit.estimators", "TransferClassifier"),
    "TransferModel": ("transferkit.training", "TransferModel"),
    "TransferRegressor": ("transferkit.estimators", "TransferRegressor"),
    "TransferTask": ("transferkit.data", "TransferTask"),
    "create_backbone": ("transferkit.backbones", "create_backbone"),
    "extract_features": ("transferkit.features", "extract_features"),
    "load_dataset": ("transferkit.data", "load_dataset"),
    "load_model": ("transferkit.experiments.predict", "load_model"),
    "train": ("transferkit.training", "train"),
    # the verbs
    "adapt": ("transferkit.adaptation", "adapt"),
    "compare": ("transferkit.experiments.compare", "compare"),
    "fit": ("transferkit.experiments.fit", "run_fit"),
    "label_efficiency": ("transferkit.experiments.compare", "label_efficiency"),
    "measure_similarity": ("transferkit.similarity", "measure_similarity"),
    "pretrain": ("transferkit.pretraining", "pretrain"),
    "rank": ("transferkit.transferability", "rank"),
    "run_demo": ("transferkit.demo", "run_demo"),
    "run_experiment": ("transferkit.experiments", "run_experiment"),
    "run_multitask": ("transferkit.multitask", "run_multitask"),
}

# The verbs of `transferkit.similarity`, `transferkit.multitask` and `transferkit.demo` are named
# measure_similarity, run_multitask and run_demo: a package attribute named like one of its
# sub-modules is replaced by that module as soon as anything imports it.

__all__ = [
    "Arm",
    "Backbone",
    "Dataset",
    "FeatureExtractor",
    "TrainConfig",
    "TransferClassifier",
    "TransferModel",
    "TransferRegressor",
    "TransferTask",
    "__version__",
    "adapt",
    "compare",
    "create_backbone",
    "extract_features",
    "fit",
    "label_efficiency",
    "load_dataset",
    "load_model",
    "measure_similarity",
    "pretrain",
    "rank",
    "run_demo",
    "run_experiment",
    "run_multitask",
    "train",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first access (PEP 562)."""
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'transferkit' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from transferkit.adaptation import adapt
    from transferkit.backbones import Backbone, create_backbone
    from transferkit.data import Dataset, TransferTask, load_dataset
    from transferkit.demo import run_demo
    from transferkit.estimators import TransferClassifier, TransferRegressor
    from transferkit.experiments import Arm, run_experiment
    from transferkit.experiments.compare import compare, label_efficiency
    from transferkit.experiments.fit import run_fit as fit
    from transferkit.experiments.predict import load_model
    from transferkit.features import FeatureExtractor, extract_features
    from transferkit.multitask import run_multitask
    from transferkit.pretraining import pretrain
    from transferkit.similarity import measure_similarity
    from transferkit.training import TrainConfig, TransferModel, train
    from transferkit.transferability import rank
