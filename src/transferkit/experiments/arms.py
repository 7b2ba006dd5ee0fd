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
from transferkit.experiments.runner import Arm, Fitted, Folds
from transferkit.experiments.selection import CVChoice, Trial, fit_by_cv, fixed_trial
from transferkit.training import TrainConfig, predict

ModelFactory = Callable[[int], TransferModel]


def strategy_arm(key: str, name: str, role: str, new_model: ModelFactory, strategy: Any, config: TrainConfig,
                 lr: float | None = None) -> Arm:
    """Fit ``strategy`` on a fresh model from ``new_model(seed)`` (``lr``: the strategy's default when None).

    By cross-validation (``fit_cv``) ``auto``'s candidates are the trials on the first seed; any
    strategy's epoch count (or the probe's C) comes from its mean curve over the folds.
    """

    def fit(train: Dataset, val: Dataset | None, seed: int) -> Fitted:
        model = new_model(seed)
        cfg = replace(config, seed=seed, lr=lr or strategy.default_lr(model))
        res = strategy.fit(model, train, val, cfg)
        return Fitted(lambda d: strategy.predict(model, d), res, strategy.describe(), model)

    def restore(cell: CellResult) -> None:
        # a strategy that learns something on its first fit (auto's choice) gets it back from the cell
        if cell.info and hasattr(strategy, "restore"):
            strategy.restore(cell.info)

    def fit_cv(train: Dataset, folds: Folds, seed: int) -> Fitted:
        from transferkit.strategies.auto import Auto

        if isinstance(strategy, Auto):
            return _auto_by_cv(strategy, new_model, config, lr, train, folds, seed)
        fitted, _ = fit_by_cv([_strategy_trial(strategy.name, strategy, new_model, config, lr)], train, folds, seed)
        return fitted

    return Arm(key, name, role, fit, restore, fit_cv)


def _strategy_trial(name: str, strategy: Any, new_model: ModelFactory, config: TrainConfig, lr: float | None,
                    details: dict[str, Any] | None = None) -> Trial:
    """``strategy`` on a fresh model: on a fold every epoch is scored (no early stopping); the refit repeats the
    chosen row (:meth:`~transferkit.strategies.Strategy.refit_choice`) on the whole budget."""

    def fit(train: Dataset, val: Dataset, seed: int) -> Fitted:
        model = new_model(seed)
        cfg = replace(config, seed=seed, lr=lr or strategy.default_lr(model), patience=None)
        return Fitted(lambda d: strategy.predict(model, d), strategy.fit(model, train, val, cfg), strategy.describe(),
                      model)

    def refit(train: Dataset, seed: int, row: int) -> Fitted:
        model = new_model(seed)
        final, cfg = strategy.refit_choice(row, replace(config, seed=seed, lr=lr or strategy.default_lr(model)))
        return Fitted(lambda d: final.predict(model, d), final.fit(model, train, None, cfg), final.describe(), model)

    return Trial(name, fit, refit, details)


def _auto_by_cv(auto: Any, new_model: ModelFactory, config: TrainConfig, lr: float | None, train: Dataset,
                folds: Folds, seed: int) -> Fitted:
    """``auto`` by cross-validation: its candidates are the trials (first seed); later seeds cross-validate
    the chosen one for their own CV score and epoch count."""
    from transferkit.strategies import get_strategy

    base = lr or auto.default_lr(new_model(seed))
    if auto.chosen is not None:
        trial = _strategy_trial(auto.chosen.name, auto.chosen, new_model, config, auto.chosen_lr or base)
        return _auto_info(auto, fit_by_cv([trial], train, folds, seed)[0])
    cands, why = auto.options(new_model(seed), len(train))
    strategies = [get_strategy(n, **opts) for n, opts, _ in cands]
    trials = [_strategy_trial(n + (f"@{c_lr:g}" if c_lr else ""), st, new_model, config, c_lr or base,
                              {"strategy": n, "options": opts, "lr": c_lr})
              for (n, opts, c_lr), st in zip(cands, strategies)]

    def chose(choice: CVChoice) -> None:
        auto.trials = [{"strategy": t["strategy"], "options": t["options"], "lr": t["lr"], "val_score": t["cv_score"],
                        "best_epoch": t["row"]} for t in choice.table]
        auto.take(strategies[choice.trial], cands[choice.trial], choice.score, why, folds.select_metric,
                  f"{folds.k}-fold CV")

    fitted, _ = fit_by_cv(trials, train, folds, seed, chose)
    return _auto_info(auto, fitted)


def _auto_info(auto: Any, fitted: Fitted) -> Fitted:
    """Auto's account of a cv fit: its choice and trials, the refitted strategy as fitted, and the CV record."""
    final = {k: v for k, v in fitted.info.items() if k != "cv"}
    return replace(fitted, info={**auto.describe(), "chosen": final, "cv": fitted.info["cv"]})


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
    baseline that never left chance is reported as such. By cross-validation the learning rates are
    the first seed's trials, each fold fit trains the fair number of steps, and the final model
    trains the epoch count the folds' mean curve chose.
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

    def trial(rate: float) -> Trial:
        def fit_fold(train: Dataset, val: Dataset, seed: int) -> Fitted:
            per_epoch = max(1, -(-len(train) // config.batch_size))
            cfg = replace(config, seed=seed, epochs=max(config.epochs, -(-min_steps // per_epoch)), patience=None)
            model, _, res = one(train, val, cfg, seed, rate)
            return Fitted(lambda d: predict(model, d), res, model=model)

        def refit(train: Dataset, seed: int, row: int) -> Fitted:
            model, _, res = one(train, None, replace(config, seed=seed, epochs=row + 1, patience=None, keep_last=True),
                                seed, rate)
            return Fitted(lambda d: predict(model, d), res, model=model)

        return Trial(f"lr {rate:g}", fit_fold, refit, {"lr": rate})

    def fit_cv(train: Dataset, folds: Folds, seed: int) -> Fitted:
        rate = lr or chosen.get("lr")
        base = rate or Scratch().default_lr(new_model(seed))
        rates = [base * f for f in SCRATCH_LR_FACTORS] if rate is None and search else [base]
        fitted, choice = fit_by_cv([trial(r) for r in rates], train, folds, seed)
        trials = [{"lr": t["lr"], "val_score": t["cv_score"]} for t in choice.table] if len(rates) > 1 else []
        if trials:
            chosen["lr"] = rates[choice.trial]
        epochs = choice.row + 1
        info = {"name": "scratch", "lr": rates[choice.trial], "epochs": epochs,
                "optimiser_steps": epochs * max(1, -(-len(train) // config.batch_size)), "lr_trials": trials,
                **_chance_info(fitted.model, train, train, config.select_metric), "cv": fitted.info["cv"]}
        return replace(fitted, info=info)

    return Arm("scratch", name, "baseline", fit, restore, fit_cv)


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

    def refit(train: Dataset, seed: int, row: int) -> Fitted:
        model = build(seed, train)
        res = train_model(model, train, None, replace(config(seed), epochs=row + 1, patience=None, keep_last=True))
        return Fitted(lambda d: predict(model, d), res, model=model)

    def fold(train: Dataset, val: Dataset, seed: int) -> Fitted:
        model = build(seed, train)
        return Fitted(lambda d: predict(model, d), train_model(model, train, val, replace(config(seed), patience=None)),
                      model=model)

    def fit_cv(train: Dataset, folds: Folds, seed: int) -> Fitted:
        fitted, _ = fit_by_cv([Trial(key, fold, refit)], train, folds, seed)
        chance = _chance_info(fitted.model, train, train, config(seed).select_metric) if role == "baseline" else {}
        return replace(fitted, info={**fitted.info, **chance})

    return Arm(key, name, role, fit, fit_cv=fit_cv)


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
    def fit(train: Dataset, seed: int) -> Fitted:
        return Fitted(lambda d: predict(model, d), model=model)

    return Arm("source_only", name, "source_only", lambda train, val, seed: fit(train, seed),
               fit_cv=lambda train, folds, seed: fit_by_cv([fixed_trial("source model", fit)], train, folds, seed)[0])


def probe_arm(backbone: Backbone, name: str = "linear probe on frozen features", key: str = "linear_probe") -> Arm:
    """Logistic regression (scikit-learn defaults) on the backbone's cached frozen features."""
    from sklearn.linear_model import LogisticRegression

    from transferkit.features import extract_features

    def fit(train: Dataset, seed: int) -> Fitted:
        clf = LogisticRegression(max_iter=2000).fit(extract_features(backbone, train, progress=False), train.y)

        def scores(d: Dataset) -> np.ndarray:
            return clf.predict_proba(extract_features(backbone, d, progress=False))

        return Fitted(scores)

    return Arm(key, name, "reference", lambda train, val, seed: fit(train, seed),
               fit_cv=lambda train, folds, seed: fit_by_cv([fixed_trial(key, fit)], train, folds, seed)[0])


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
    regularisation among C = 0.1, 1, 10 on the validation split (or by cross-validation, scored by
    the runner's validation metric). None for other data kinds.
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

    def trial(c: float) -> Trial:
        def fit_c(train: Dataset, seed: int) -> Fitted:
            model = _classical_model(kind, task, len(train), c).fit(inputs(train), train.y)
            return Fitted(lambda d: outputs(model, inputs(d)), info={"name": CLASSICAL_NAMES[kind], "C": c})

        return fixed_trial(f"C {c:g}", fit_c)

    def fit_cv(train: Dataset, folds: Folds, seed: int) -> Fitted:
        return fit_by_cv([trial(c) for c in ((1.0,) if kind == "table" else (0.1, 1.0, 10.0))], train, folds, seed)[0]

    return Arm(key, CLASSICAL_NAMES[kind], "reference", fit, fit_cv=fit_cv)
