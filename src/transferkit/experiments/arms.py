"""The usual arms: a strategy on a copy of a pre-trained model, the same network from scratch, the
source model as it is, and a logistic regression on frozen features."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from transferkit.backbones import Backbone, TransferModel
from transferkit.data import Dataset
from transferkit.experiments.records import CellResult
from transferkit.experiments.runner import Arm, Fitted
from transferkit.training import TrainConfig, predict

ModelFactory = Callable[[int], TransferModel]


def strategy_arm(key: str, name: str, role: str, new_model: ModelFactory, strategy: Any, config: TrainConfig,
                 lr: float | None = None) -> Arm:
    """Fit ``strategy`` on a fresh model from ``new_model(seed)`` (``lr``: the strategy's default when None)."""

    def fit(train: Dataset, val: Dataset | None, seed: int) -> Fitted:
        model = new_model(seed)
        cfg = replace(config, seed=seed, lr=lr or strategy.default_lr(model))
        res = strategy.fit(model, train, val, cfg)
        return Fitted(lambda d: strategy.predict(model, d), res, strategy.describe(), model)

    def restore(cell: CellResult) -> None:
        # a strategy that learns something on its first fit (auto's choice) gets it back from the cell
        if cell.info and hasattr(strategy, "restore"):
            strategy.restore(cell.info)

    return Arm(key, name, role, fit, restore)


def scratch_arm(new_model: ModelFactory, config: TrainConfig, name: str, lr: float | None = None) -> Arm:
    """The same architecture from random weights (:class:`~transferkit.strategies.Scratch`), same data and
    budget; ``lr`` defaults to the scratch strategy's own."""
    from transferkit.strategies import Scratch

    def fit(train: Dataset, val: Dataset | None, seed: int) -> Fitted:
        model = new_model(seed)
        model.head = TransferModel(model.backbone, model.num_outputs, task=model.task).head
        strategy = Scratch()
        res = strategy.fit(model, train, val, replace(config, seed=seed, lr=lr or strategy.default_lr(model)))
        return Fitted(lambda d: predict(model, d), res, strategy.describe(), model)

    return Arm("scratch", name, "baseline", fit)


def trained_arm(key: str, name: str, role: str, build: Callable[[int, Dataset], TransferModel],
                config: Callable[[int], TrainConfig]) -> Arm:
    """Train ``build(seed, train)`` with the plain loop and ``config(seed)`` (every parameter trains)."""
    from transferkit.training import train as train_model

    def fit(train: Dataset, val: Dataset | None, seed: int) -> Fitted:
        model = build(seed, train)
        res = train_model(model, train, val, config(seed))
        return Fitted(lambda d: predict(model, d), res, model=model)

    return Arm(key, name, role, fit)


def source_arm(model: TransferModel, name: str = "source model, zero target labels") -> Arm:
    """The source model as it is: no target label used (its label set must equal the target's)."""
    return Arm("source_only", name, "source_only",
               lambda train, val, seed: Fitted(lambda d: predict(model, d), model=model))


def probe_arm(backbone: Backbone, name: str = "linear probe on frozen features", key: str = "linear_probe") -> Arm:
    """Logistic regression (scikit-learn defaults) on the backbone's cached frozen features."""
    from sklearn.linear_model import LogisticRegression

    from transferkit.features import extract_features

    def fit(train: Dataset, val: Dataset | None, seed: int) -> Fitted:
        clf = LogisticRegression(max_iter=2000).fit(extract_features(backbone, train, progress=False), train.y)

        def scores(d: Dataset) -> np.ndarray:
            return clf.predict_proba(extract_features(backbone, d, progress=False))

        return Fitted(scores)

    return Arm(key, name, "reference", fit)
