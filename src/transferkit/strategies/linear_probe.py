"""``linear_probe``: frozen pre-trained features + a new head fitted with scikit-learn.

Not a torch loop: features come from the feature cache, the head is a logistic regression
(default), a ridge model or a small MLP, its regularisation chosen on the validation split. The
fitted head is converted into torch layers and put on the model, so the result is an ordinary
:class:`TransferModel` (and the starting point of LP-FT).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn

from transferkit.data.dataset import Dataset
from transferkit.errors import DataError
from transferkit.evaluation.metrics import validation_score
from transferkit.strategies._base import Strategy
from transferkit.strategies._features import features_for
from transferkit.strategies._info import STRATEGIES, StrategyInfo
from transferkit.training import TrainConfig, TrainResult, TransferModel, set_trainable


def _linear(w: np.ndarray, b: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> nn.Linear:
    """``Linear`` computing ``((x - mean) / scale) @ w.T + b`` on raw features."""
    w_raw = w / scale[None, :]
    lin = nn.Linear(w.shape[1], w.shape[0])
    with torch.no_grad():
        lin.weight.copy_(torch.as_tensor(w_raw, dtype=torch.float32))
        lin.bias.copy_(torch.as_tensor(b - w_raw @ mean, dtype=torch.float32))
    return lin


def _binary_to_two(w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One logit ``z`` becomes two ``[0, z]``: softmax of these is sigmoid(z)."""
    return np.vstack([np.zeros_like(w), w]), np.concatenate([[0.0], b])


def sklearn_head(est: Any, mean: np.ndarray, scale: np.ndarray, num_outputs: int, classes: np.ndarray | None) -> nn.Module:
    """Torch layers that reproduce a fitted scikit-learn linear model or MLP on raw features."""
    if hasattr(est, "coefs_"):  # MLP
        layers: list[nn.Module] = []
        for i, (w, b) in enumerate(zip(est.coefs_, est.intercepts_)):
            w, b = w.T, b
            last = i == len(est.coefs_) - 1
            if last and classes is not None and w.shape[0] == 1:
                w, b = _binary_to_two(w, b)
            if last and classes is not None:
                w, b = _expand(w, b, classes, num_outputs)
            layers.append(_linear(w, b, mean, scale) if i == 0 else _linear(w, b, np.zeros(w.shape[1]),
                                                                            np.ones(w.shape[1])))
            if not last:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers)
    w, b = np.atleast_2d(est.coef_), np.atleast_1d(est.intercept_)
    if classes is not None and w.shape[0] == 1:
        w, b = _binary_to_two(w, b)
    if classes is not None:
        w, b = _expand(w, b, classes, num_outputs)
    return _linear(w, b, mean, scale)


def _expand(w: np.ndarray, b: np.ndarray, classes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows for the classes seen in training placed at their indices; unseen classes get -inf-like bias."""
    if len(classes) == k and np.array_equal(classes, np.arange(k)):
        return w, b
    w_full, b_full = np.zeros((k, w.shape[1])), np.full(k, -30.0)
    w_full[classes], b_full[classes] = w, b
    return w_full, b_full


@STRATEGIES.register("linear_probe", info=StrategyInfo("frozen pre-trained features + a new head (logistic, ridge "
                                                       "or small MLP) fitted by scikit-learn", uses_backbone_training=False,
                                                       torch_loop=False,
                                                       advice="try lp_ft or finetune with a small learning rate when "
                                                              "more labels are available"),
                     aliases=("probe", "feature_extraction"))
class LinearProbe(Strategy):
    """Fit a head on frozen features; the regularisation strength is picked on the validation split.

    Without a validation split, it is picked by 3-fold cross-validation on the training data
    (stratified; every class needs 2 examples), else the middle of ``Cs`` is used.

    Args:
        head: ``logistic`` (default), ``ridge`` or ``mlp``.
        Cs: inverse regularisation strengths tried (logistic); ridge/MLP use ``1/C`` as alpha.
        class_weight: ``balanced`` (default) weights classes by inverse frequency; ``None`` does not.
        unlabeled: unlabelled examples of the target task (never the test split) for self-training.
        self_training_rounds: rounds of self-training: the head labels ``unlabeled``, the examples it
            is at least ``confidence`` sure of join the training set, the head is refitted.
            With a validation split, the self-trained head is kept only if validation does not drop.
        confidence: probability a pseudo-label needs.
    """

    name = "linear_probe"

    def __init__(self, head: str = "logistic", Cs: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0),
                 class_weight: str | None = "balanced", hidden: int = 128, unlabeled: Dataset | None = None,
                 self_training_rounds: int = 0, confidence: float = 0.9) -> None:
        if head not in ("logistic", "ridge", "mlp"):
            raise ValueError(f"head must be logistic, ridge or mlp, got {head!r}")
        if not Cs or min(Cs) <= 0:
            raise ValueError("Cs must be positive values")
        if self_training_rounds < 0 or not 0.5 <= confidence < 1:
            raise ValueError("self_training_rounds must be >= 0 and confidence in [0.5, 1)")
        if self_training_rounds and head == "ridge":
            raise ValueError("self-training needs class probabilities: use head='logistic' or 'mlp'")
        if self_training_rounds and (unlabeled is None or len(unlabeled) == 0):
            raise ValueError("self-training needs unlabeled examples (unlabeled=..., at least one)")
        self.head, self.Cs, self.class_weight, self.hidden = head, tuple(float(c) for c in Cs), class_weight, hidden
        self.unlabeled, self.self_training_rounds, self.confidence = unlabeled, int(self_training_rounds), confidence

    def setup(self, model: TransferModel) -> None:
        """The backbone is frozen."""
        set_trainable(model.backbone, False)
        set_trainable(model.head, True)

    def _estimator(self, c: float, task: str, seed: int) -> Any:
        from sklearn.linear_model import LogisticRegression, Ridge, RidgeClassifier
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        if task == "regression":
            if self.head == "mlp":
                return MLPRegressor((self.hidden,), alpha=1.0 / c, max_iter=500, random_state=seed)
            return Ridge(alpha=1.0 / c)
        if self.head == "ridge":
            return RidgeClassifier(alpha=1.0 / c, class_weight=self.class_weight)
        if self.head == "mlp":
            return MLPClassifier((self.hidden,), alpha=1.0 / c, max_iter=500, random_state=seed)
        return LogisticRegression(C=c, max_iter=2000, class_weight=self.class_weight)

    def _cv_scores(self, z: np.ndarray, y: np.ndarray, model: TransferModel, config: TrainConfig) -> list[float] | None:
        """Mean validation-fold score of each C (3-fold, stratified for classes), or None when data are too few."""
        from sklearn.model_selection import KFold, StratifiedKFold

        classification = model.task == "classification"
        if classification:
            counts = np.bincount(y)
            folds = int(min(3, counts[counts > 0].min()))
            splitter: Any = StratifiedKFold(folds, shuffle=True, random_state=config.seed) if folds >= 2 else None
        else:
            splitter = KFold(3, shuffle=True, random_state=config.seed) if len(y) >= 6 else None
        if splitter is None:
            return None
        scorer = lambda y, out: validation_score(config.select_metric, y, out)  # noqa: E731
        scores = []
        for c in self.Cs:
            fold_scores = []
            for tr, va in splitter.split(z, y):
                est = self._estimator(c, model.task, config.seed).fit(z[tr], y[tr])
                head = sklearn_head(est, np.zeros(z.shape[1]), np.ones(z.shape[1]), model.num_outputs,
                                    np.unique(y[tr]) if classification else None)
                with torch.no_grad():
                    fold_scores.append(scorer(y[va], head(torch.as_tensor(z[va], dtype=torch.float32)).numpy()))
            scores.append(float(np.mean(fold_scores)))
        return scores

    def fit(self, model: TransferModel, train_data: Dataset, val_data: Dataset | None, config: TrainConfig,
            callbacks: Any = (), accelerator: Any = None) -> TrainResult:
        """Extract (cached) features, fit one head per C, keep the best on validation (or CV), install it."""
        t0 = time.perf_counter()
        self.setup(model)
        if train_data.y is None:
            raise DataError(f"training data {train_data.name!r} has no labels")
        f_tr = features_for(model.backbone, train_data)
        y_tr = train_data.y
        f_va = features_for(model.backbone, val_data) if val_data is not None else None
        classification = model.task == "classification"
        classes = np.unique(y_tr) if classification else None
        if classification and len(classes) < 2:
            raise DataError("a linear probe needs at least two classes in the training labels")
        mean, scale = f_tr.mean(0), f_tr.std(0)
        scale = np.where(scale > 1e-8, scale, 1.0)
        z_tr = (f_tr - mean) / scale
        scorer = lambda y, out: validation_score(config.select_metric, y, out)  # noqa: E731
        result = TrainResult(config={"select_metric": config.select_metric, "head": self.head})
        best: tuple[float, nn.Module, float, Any] | None = None
        cv = self._cv_scores(z_tr, y_tr, model, config) if f_va is None and len(self.Cs) > 1 else None
        cs = self.Cs if (f_va is not None or cv is not None) else (float(np.median(self.Cs)),)
        result.config["selected_on"] = "validation" if f_va is not None else ("3-fold CV on the training data"
                                                                             if cv is not None else "nothing (fixed C)")
        for i, c in enumerate(cs):
            est = self._estimator(c, model.task, config.seed).fit(z_tr, y_tr)
            head = sklearn_head(est, mean, scale, model.num_outputs, classes)
            with torch.no_grad():
                out_tr = head(torch.as_tensor(f_tr)).numpy()
            row = {"epoch": float(i + 1), "C": c, "train_loss": _loss(out_tr, y_tr, classification)}
            score = -row["train_loss"]
            if f_va is not None and val_data is not None:
                with torch.no_grad():
                    out_va = head(torch.as_tensor(f_va)).numpy()
                score = row["val_score"] = scorer(val_data.y, out_va)
                row["val_loss"] = _loss(out_va, val_data.y, classification)
            elif cv is not None:
                score = row["cv_score"] = cv[i]
            row["seconds"] = time.perf_counter() - t0
            result.history.append(row)
            if best is None or score > best[0] + 1e-12:
                best = (score, head, c, est)
                result.best_score, result.best_epoch = score, i + 1
        assert best is not None
        head_module = best[1]
        if self.self_training_rounds and classification and self.unlabeled is not None:
            head_module = self._self_train(model, best[3], best[2], z_tr, y_tr, mean, scale, f_va, val_data,
                                           best[0], config, result)
        model.head = head_module.to(model.backbone.device)
        self.chosen_C = best[2]
        result.seconds = time.perf_counter() - t0
        model.eval()
        return result

    def _self_train(self, model: TransferModel, est: Any, c: float, z_tr: np.ndarray, y_tr: np.ndarray,
                    mean: np.ndarray, scale: np.ndarray, f_va: np.ndarray | None, val_data: Dataset | None,
                    score: float, config: TrainConfig, result: TrainResult) -> nn.Module:
        """Rounds of confident pseudo-labels on ``unlabeled``; returns the head to install."""
        assert self.unlabeled is not None
        z_un = (features_for(model.backbone, self.unlabeled) - mean) / scale
        classes = np.unique(y_tr)
        rounds = []
        for _ in range(self.self_training_rounds):
            proba = est.predict_proba(z_un)
            keep = proba.max(1) >= self.confidence
            pseudo = est.classes_[proba.argmax(1)][keep]
            est = self._estimator(c, model.task, config.seed).fit(np.vstack([z_tr, z_un[keep]]),
                                                                  np.concatenate([y_tr, pseudo]))
            rounds.append({"pseudo_labels": int(keep.sum()), "per_class": np.bincount(pseudo, minlength=
                                                                                      model.num_outputs).tolist()})
        head = sklearn_head(est, mean, scale, model.num_outputs, classes)
        info: dict[str, Any] = {"unlabeled": len(self.unlabeled), "rounds": rounds, "confidence": self.confidence}
        if f_va is not None and val_data is not None:
            with torch.no_grad():
                st_score = validation_score(config.select_metric, val_data.y, head(torch.as_tensor(f_va)).numpy())
            info["val_score"] = st_score
            info["kept"] = bool(st_score >= score - 1e-12)
            if not info["kept"]:
                result.config["self_training"] = info
                return sklearn_head(self._estimator(c, model.task, config.seed).fit(z_tr, y_tr), mean, scale,
                                    model.num_outputs, classes)
            result.best_score = st_score
        else:
            info["kept"] = True
        result.config["self_training"] = info
        return head

    def refit_choice(self, row: int, config: TrainConfig) -> tuple[LinearProbe, TrainConfig]:
        """The probe's validation rows are its C values: the same probe with only the C of ``row``."""
        import copy

        fixed = copy.copy(self)
        fixed.Cs = (self.Cs[row],)
        return fixed, config

    def predict(self, model: TransferModel, data: Dataset, batch_size: int = 256) -> np.ndarray:
        """Head outputs on cached features (the backbone is frozen, so this equals a full forward pass)."""
        feats = features_for(model.backbone, data)
        model.eval()
        with torch.no_grad():
            p = next(model.head.parameters())
            return model.head(torch.as_tensor(feats, device=p.device, dtype=p.dtype)).float().cpu().numpy()

    def describe(self) -> dict[str, Any]:
        """Name, head and the C grid (and the chosen C once fitted)."""
        out = {"name": self.name, "head": self.head, "Cs": list(self.Cs), "class_weight": self.class_weight,
               **({"chosen_C": self.chosen_C} if hasattr(self, "chosen_C") else {})}
        if self.self_training_rounds:
            out.update(self_training_rounds=self.self_training_rounds, confidence=self.confidence,
                       unlabeled=None if self.unlabeled is None else self.unlabeled.name)
        return out


def _loss(out: np.ndarray, y: np.ndarray, classification: bool) -> float:
    if classification:
        z = out - out.max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        return float(-logp[np.arange(len(y)), y].mean())
    return float(np.mean((out.reshape(len(y), -1) - np.asarray(y, np.float64).reshape(len(y), -1)) ** 2))
