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


MIN_SCRATCH_STEPS = 300
"""Scratch trains at least this many optimiser steps (and at least the epochs transfer gets)."""
SCRATCH_LR_FACTORS = (1.0, 1 / 3, 3.0)
"""Scratch's learning-rate search: these multiples of its default, chosen on validation (first seed)."""


def scratch_arm(new_model: ModelFactory, config: TrainConfig, name: str, lr: float | None = None, *,
                min_steps: int = MIN_SCRATCH_STEPS, search: bool = True) -> Arm:
    """The same architecture from random weights (:class:`~transferkit.strategies.Scratch`), same data.

    A fair baseline: it trains at least ``config.epochs`` epochs and at least ``min_steps`` optimiser
    steps, and without an explicit ``lr`` it picks its learning rate among :data:`SCRATCH_LR_FACTORS`
    times its default on the first seed's validation split (later seeds reuse the choice, as
    ``auto`` does for transfer). Each cell records the chance level of its validation split, so a
    baseline that never left chance is reported as such.
    """
    from transferkit.strategies import Scratch

    chosen: dict[str, float] = {}

    def one(train: Dataset, val: Dataset | None, cfg: TrainConfig, seed: int, rate: float | None) -> tuple[Any, ...]:
        model = new_model(seed)
        model.head = TransferModel(model.backbone, model.num_outputs, task=model.task).head
        strategy = Scratch()
        rate = rate or strategy.default_lr(model)
        return model, rate, strategy.fit(model, train, val, replace(cfg, lr=rate))

    def fit(train: Dataset, val: Dataset | None, seed: int) -> Fitted:
        per_epoch = max(1, -(-len(train) // config.batch_size))
        cfg = replace(config, seed=seed, epochs=max(config.epochs, -(-min_steps // per_epoch)))
        trials: list[dict[str, Any]] = []
        rate = lr or chosen.get("lr")
        if rate is None and search and val is not None and len(val):
            best, base = None, None
            for f in SCRATCH_LR_FACTORS:  # the default first: it wins ties
                model, r, res = one(train, val, cfg, seed, base * f if base else None)
                base = base or r
                trials.append({"lr": r, "val_score": res.best_score})
                if best is None or res.best_score > best[2] + 1e-9:
                    best = (model, r, res.best_score, res)
            model, rate, _, res = best
            chosen["lr"] = rate
        else:
            model, rate, res = one(train, val, cfg, seed, rate)
        info: dict[str, Any] = {"name": "scratch", "lr": rate, "epochs": cfg.epochs,
                                "optimiser_steps": cfg.epochs * per_epoch, "lr_trials": trials,
                                **_chance_info(model, train, val, cfg.select_metric)}
        return Fitted(lambda d: predict(model, d), res, info, model)

    def restore(cell: CellResult) -> None:
        if search and lr is None and cell.info.get("lr_trials"):
            chosen["lr"] = float(cell.info["lr"])

    return Arm("scratch", name, "baseline", fit, restore)


def trained_arm(key: str, name: str, role: str, build: Callable[[int, Dataset], TransferModel],
                config: Callable[[int], TrainConfig]) -> Arm:
    """Train ``build(seed, train)`` with the plain loop and ``config(seed)`` (every parameter trains)."""
    from transferkit.training import train as train_model

    def fit(train: Dataset, val: Dataset | None, seed: int) -> Fitted:
        model = build(seed, train)
        cfg = config(seed)
        res = train_model(model, train, val, cfg)
        return Fitted(lambda d: predict(model, d), res, _chance_info(model, train, val, cfg.select_metric) if
                      role == "baseline" else {}, model)

    return Arm(key, name, role, fit)


def _chance_info(model: TransferModel, train: Dataset, val: Dataset | None, select_metric: str) -> dict[str, Any]:
    """A baseline's validation chance level, so one that never left it is reported as such."""
    from transferkit.experiments.verdicts import chance_score

    if model.task != "classification" or val is None or not len(val):
        return {}
    chance = chance_score(select_metric, train.y, val.y, model.num_outputs)
    # above chance means beyond what luck gives a chance-level model on this many examples (one-sided 95%)
    margin = max(1.0 / len(val), 1.645 * float(np.sqrt(max(chance * (1 - chance), 0.0) / len(val))))
    if chance + margin >= 1.0 - 1e-9:  # too few validation examples to tell training from luck
        return {}
    return {"chance_val": chance, "chance_margin": margin}


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


CLASSICAL_NAMES = {"text": "TF-IDF + logistic regression", "table": "gradient boosting",
                   "image": "logistic regression on raw pixels"}
"""The classical baseline of each data kind (signals have none)."""
PIXEL_SIDE = 32  # images are read (or pooled) to at most this many pixels a side for the pixel model


def _pixels(d: Dataset) -> np.ndarray:
    """Images as flat rows of at most ``PIXEL_SIDE`` x ``PIXEL_SIDE`` pixels."""
    import torch

    from transferkit.data.readers import load_images

    x = load_images(list(d.x), image_size=PIXEL_SIDE) if d.x.dtype == object else np.asarray(d.x, np.float32)
    if x.shape[-1] > PIXEL_SIDE or x.shape[-2] > PIXEL_SIDE:
        x = torch.nn.functional.adaptive_avg_pool2d(torch.from_numpy(x), PIXEL_SIDE).numpy()
    return x.reshape(len(x), -1)


def _classical_model(kind: str, task: str, n: int, c: float) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    linear = LogisticRegression(C=c, max_iter=3000) if task == "classification" else Ridge(alpha=1.0 / c)
    if kind == "text":
        return make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), linear)
    if kind == "image":
        return make_pipeline(StandardScaler(), linear)
    leaf = max(1, min(20, n // 10))  # the default 20 per leaf cannot split a few dozen rows
    return (HistGradientBoostingClassifier if task == "classification" else HistGradientBoostingRegressor)(
        min_samples_leaf=leaf, random_state=0)


def classical_arm(kind: str, task: str, num_outputs: int, key: str = "classical") -> Arm | None:
    """The strong simple model of a data kind, reported beside scratch with its own verdict.

    Text: word uni+bigram TF-IDF + logistic regression; tables: gradient boosting; images: logistic
    regression on standardised raw pixels (at most 32x32). The linear models choose their
    regularisation among C = 0.1, 1, 10 on the validation split. None for other data kinds.
    """
    if kind not in CLASSICAL_NAMES:
        return None

    def inputs(d: Dataset) -> Any:
        return _pixels(d) if kind == "image" else (list(d.x) if kind == "text" else np.asarray(d.x, np.float64))

    def outputs(model: Any, x: Any) -> np.ndarray:
        if task != "classification":
            return np.asarray(model.predict(x), dtype=np.float64)
        proba = np.zeros((len(x), num_outputs))
        proba[:, np.asarray(model.classes_, dtype=int)] = model.predict_proba(x)
        return proba

    def fit(train: Dataset, val: Dataset | None, seed: int) -> Fitted:
        from transferkit.evaluation.metrics import validation_score

        xt = inputs(train)
        grid = (0.1, 1.0, 10.0) if kind != "table" and val is not None and len(val) else (1.0,)
        xv = inputs(val) if len(grid) > 1 and val is not None else None
        best: tuple[float, Any, float] | None = None
        for c in grid:
            model = _classical_model(kind, task, len(train), c).fit(xt, train.y)
            score = (validation_score("accuracy" if task == "classification" else "neg_rmse", val.y,
                                      outputs(model, xv)) if xv is not None and val is not None else 0.0)
            if best is None or score > best[0] + 1e-9:
                best = (score, model, c)
        assert best is not None
        model = best[1]
        return Fitted(lambda d: outputs(model, inputs(d)), info={"name": CLASSICAL_NAMES[kind], "C": best[2]})

    return Arm(key, CLASSICAL_NAMES[kind], "reference", fit)
