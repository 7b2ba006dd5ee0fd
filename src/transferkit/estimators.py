"""scikit-learn front ends: :class:`TransferClassifier` and :class:`TransferRegressor`.

``__init__`` only stores settings; ``fit`` builds the backbone (a spec string is created from the
data, a :class:`~transferkit.backbones.Backbone` object is copied), adds a head and trains it with a
strategy (``finetune`` by default), keeping the best epoch on an internal validation split.

Inputs: tables ``(N, D)``, signals ``(N, C, T)``, images ``(N, C, H, W)`` in [0, 1], or a list of
strings for text backbones.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

_KIND_BY_NDIM = {2: "table", 3: "signal", 4: "image"}


def _is_text(X: Any) -> bool:
    if isinstance(X, (list, tuple)):
        return len(X) > 0 and all(isinstance(v, str) for v in X)
    return isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1 and all(isinstance(v, str) for v in X)


class _TransferEstimator(BaseEstimator):
    """Shared settings and fitting code (not public)."""

    def __init__(self, backbone: Any = "tabmlp", strategy: Any = "finetune", epochs: int = 50,
                 lr: float | None = None, batch_size: int = 32, validation_fraction: float = 0.15,
                 patience: int | None = 10, random_state: int = 0) -> None:
        self.backbone = backbone
        self.strategy = strategy
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state

    def _check_X(self, X: Any, reset: bool, y: Any = None) -> tuple[Any, Any]:
        if _is_text(X):
            if reset:
                self.n_features_in_ = 1
            return np.asarray(X, dtype=object), y
        if y is None:
            return validate_data(self, X, reset=reset, allow_nd=True, dtype=np.float32), None
        return validate_data(self, X, y, reset=reset, allow_nd=True, dtype=np.float32,
                             multi_output=self._multi_output, y_numeric=not self._classifier)

    def _dataset(self, X: Any, y: Any = None) -> Any:
        from transferkit.data.dataset import Dataset

        kind = "text" if X.dtype == object else _KIND_BY_NDIM.get(X.ndim)
        if kind is None:
            raise ValueError(f"X must be 2-D (table), 3-D (signal), 4-D (image) or a list of strings; got {X.shape}")
        task = "classification" if self._classifier else "regression"
        names = tuple(str(c) for c in self.classes_) if self._classifier and hasattr(self, "classes_") else None
        return Dataset(x=X, y=y, kind=kind, class_names=names, task=task, name="X")

    def _fit(self, X: Any, y_enc: np.ndarray, num_outputs: int) -> None:
        import torch

        from transferkit.backbones import Backbone, create_backbone
        from transferkit.data import train_val_test_split
        from transferkit.strategies import get_strategy
        from transferkit.training import TrainConfig, TransferModel

        torch.manual_seed(self.random_state)  # the new head (and a random backbone) start the same every fit
        data = self._dataset(X, y_enc)
        self.kind_ = data.kind
        train_data, val_data = data, None
        counts = np.bincount(y_enc) if self._classifier else np.array([len(y_enc)])
        if self.validation_fraction and len(data) * self.validation_fraction >= 2 and counts[counts > 0].min() >= 3:
            sp = train_val_test_split(data, val_size=self.validation_fraction, test_size=0.0, seed=self.random_state)
            train_data, val_data = sp.train, sp.val
        if isinstance(self.backbone, Backbone):
            bb = copy.deepcopy(self.backbone)
        else:
            bb = create_backbone(self.backbone, data=data)
            bb.fit_preprocessing(train_data.x)
        model = TransferModel(bb, num_outputs, task=data.task,
                              class_names=data.class_names)
        strat = get_strategy(copy.deepcopy(self.strategy) if not isinstance(self.strategy, str) else self.strategy)
        cfg = TrainConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr or strat.default_lr(model),
                          patience=self.patience, seed=self.random_state, progress=False,
                          select_metric="accuracy" if self._classifier else "neg_rmse")
        res = strat.fit(model, train_data, val_data, cfg)
        self._input_shape = tuple(X.shape[1:]) if X.dtype != object else ()
        self.model_, self.strategy_, self.history_ = model, strat, res.history
        self.best_epoch_, self.best_val_score_ = res.best_epoch, res.best_score

    def _raw(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        X, _ = self._check_X(X, reset=False)
        return self.strategy_.predict(self.model_, self._dataset(X))

    def save(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Write the fitted estimator as a shipped model folder (safetensors + model card; no pickle).

        :meth:`load` reads it back (verified like every model folder); ``transferkit predict`` and
        ``tk.load_model`` read it too. Returns the card.
        """
        from transferkit.backbones.shipped import save_model

        check_is_fitted(self, "model_")
        params = {k: v for k, v in self.get_params().items() if isinstance(v, (str, int, float, bool, type(None)))}
        state: dict[str, Any] = {"class": type(self).__name__, "params": params, "kind": self.kind_,
                                 "n_features_in": int(self.n_features_in_), "best_epoch": int(self.best_epoch_),
                                 "best_val_score": float(self.best_val_score_)}
        if self._classifier:
            state["classes"] = self.classes_.tolist()
            state["classes_dtype"] = self.classes_.dtype.str if self.classes_.dtype != object else "object"
        else:
            state.update(y_mean=self.y_mean_.tolist(), y_scale=self.y_scale_.tolist(), y_1d=self._y_1d)
        shape = list(getattr(self, "_input_shape", []))
        return save_model(path, self.model_, {"estimator": state, "input": {"kind": self.kind_, "shape": shape}})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Any:
        """Read an estimator written by :meth:`save` (checksums and fingerprint verified)."""
        from transferkit.backbones.shipped import load_model_folder
        from transferkit.strategies import get_strategy

        model, card = load_model_folder(path)
        state = card.get("estimator")
        if not isinstance(state, dict) or state.get("class") != cls.__name__:
            found = state.get("class") if isinstance(state, dict) else "no estimator"
            raise ValueError(f"{path} holds {found}, not a saved {cls.__name__}")
        est = cls(**{k: v for k, v in state["params"].items() if k in cls().get_params()})
        est.model_, est.strategy_, est.history_ = model, get_strategy("finetune"), []
        est.kind_, est.n_features_in_ = state["kind"], int(state["n_features_in"])
        est.best_epoch_, est.best_val_score_ = state["best_epoch"], state["best_val_score"]
        if est._classifier:
            dtype = state.get("classes_dtype", "object")
            est.classes_ = np.asarray(state["classes"], dtype=object if dtype == "object" else np.dtype(dtype))
        else:
            est.y_mean_, est.y_scale_ = np.asarray(state["y_mean"]), np.asarray(state["y_scale"])
            est._y_1d = bool(state["y_1d"])
        return est

    def _require_y(self, y: Any) -> None:
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.target_tags.multi_output = self._multi_output
        return tags


class TransferClassifier(ClassifierMixin, _TransferEstimator):
    """Classifier: a (pre-trained) backbone + a new head, trained with a transfer strategy.

    Args:
        backbone: a spec (``tabmlp``, ``minilm``, ``smallcnn``...) or a pre-trained Backbone object.
        strategy: a strategy name or object (``finetune``, ``linear_probe``, ``lp_ft``, ``l2sp``...).
        epochs, lr, batch_size, patience: training budget (``lr=None``: the strategy's default).
        validation_fraction: held out (stratified) from the training data to pick the best epoch.
        random_state: seed of the split, the initialisation and the batch order.

    Fitted attributes: ``classes_``, ``n_features_in_``, ``model_``, ``strategy_``, ``history_``.
    """

    _classifier = True
    _multi_output = False

    def fit(self, X: Any, y: Any) -> TransferClassifier:
        """Train on ``X`` and labels ``y`` (any hashable labels)."""
        self._require_y(y)
        X, y = self._check_X(X, reset=True, y=y)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        check_classification_targets(y)
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"TransferClassifier needs at least two classes in y; got only one class ({self.classes_[0]!r})")
        if len(y_enc) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y_enc)}")
        self._fit(X, y_enc.astype(np.int64), len(self.classes_))
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(N, n_classes)`` in the order of ``classes_``."""
        from scipy.special import softmax

        return softmax(self._raw(X).astype(np.float64), axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class label per row."""
        raw = self._raw(X)
        return self.classes_[raw.argmax(1)]


class TransferRegressor(RegressorMixin, _TransferEstimator):
    """Regressor: a (pre-trained) backbone + a new head, trained on standardised targets.

    Same settings as :class:`TransferClassifier`. Fitted attributes: ``n_features_in_``,
    ``model_``, ``strategy_``, ``history_``, ``y_mean_``, ``y_scale_``.
    """

    _classifier = False
    _multi_output = True

    def fit(self, X: Any, y: Any) -> TransferRegressor:
        """Train on ``X`` and numeric targets ``y`` (1-D, or 2-D for several targets)."""
        self._require_y(y)
        X, y = self._check_X(X, reset=True, y=y)
        y = np.asarray(y, dtype=np.float64)
        self._y_1d = y.ndim == 1
        y2 = y.reshape(len(y), -1)
        self.y_mean_, self.y_scale_ = y2.mean(0), np.where(y2.std(0) > 1e-12, y2.std(0), 1.0)
        self._fit(X, ((y2 - self.y_mean_) / self.y_scale_).astype(np.float32), y2.shape[1])
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, shaped like the ``y`` given to ``fit``."""
        out = self._raw(X).reshape(-1, len(self.y_mean_)) * self.y_scale_ + self.y_mean_
        return out.ravel() if self._y_1d else out
