"""Shared plumbing for the shallow (feature-array) domain-adaptation estimators.

Data convention (the one skada uses): source and target rows are stacked into one ``X``;
``sample_domain`` gives one integer per row, positive for source rows and negative for target
rows. Target labels in ``y`` are ignored (they are overwritten with ``-1`` before anything else
reads ``y``). Without ``sample_domain``, :meth:`fit` infers it from ``y`` (``-1`` marks target
rows) and :meth:`predict` treats every row as target.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import has_fit_parameter

from transferkit.errors import DataError

SOURCE_ID = 1
TARGET_ID = -2


def default_base_estimator() -> LogisticRegression:
    """The classifier trained on adapted source data when none is given."""
    return LogisticRegression(C=0.1, max_iter=2000)


def check_features(X: Any, name: str = "X") -> np.ndarray:
    """``X`` as a finite 2-D float array, or a :class:`DataError` saying what is wrong."""
    arr = np.asarray(X, dtype=float)
    if arr.ndim != 2:
        raise DataError(f"{name} must be a 2-D array (n_samples, n_features); got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataError(f"{name} is empty (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{name} has {int(np.sum(~np.isfinite(arr)))} NaN/inf values: impute or drop them")
    return arr


def check_fit_arrays(X: Any, y: Any, sample_domain: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate stacked ``X, y, sample_domain``; return them with target labels masked to -1."""
    X = check_features(X)
    if y is None:
        raise DataError("fit needs y: source labels, with -1 (or anything) on target rows")
    y = np.asarray(y).ravel()
    if len(y) != len(X):
        raise DataError(f"X has {len(X)} rows but y has {len(y)} labels")
    if sample_domain is None:
        sd = np.where(y == -1, TARGET_ID, SOURCE_ID)
    else:
        sd = check_sample_domain(sample_domain, len(X))
    is_src = sd > 0
    if not is_src.any():
        raise DataError("no source rows: give source rows a positive sample_domain")
    if is_src.all():
        raise DataError("no target rows: give target rows a negative sample_domain (or y = -1)")
    ys = y[is_src]
    try:
        ys_num = ys.astype(float)
    except (TypeError, ValueError) as exc:
        raise DataError("source labels must be integer class indices; use encode_labels first") from exc
    if not np.all(np.isfinite(ys_num)) or np.any(ys_num < 0) or np.any(ys_num != np.round(ys_num)):
        raise DataError("source labels must be non-negative integers (target rows may hold -1)")
    if len(np.unique(ys_num)) < 2:
        raise DataError("source rows hold a single class: at least 2 classes are needed")
    y_out = np.full(len(y), -1, dtype=np.int64)
    y_out[is_src] = ys_num.astype(np.int64)  # target labels are dropped here, never read
    return X, y_out, sd


def check_sample_domain(sample_domain: Any, n: int) -> np.ndarray:
    """``sample_domain`` as a non-zero int array of length ``n``."""
    sd = np.asarray(sample_domain)
    if sd.ndim == 0:
        sd = np.full(n, int(sd))
    sd = sd.ravel()
    if len(sd) != n:
        raise DataError(f"sample_domain has {len(sd)} entries but X has {n} rows")
    if not np.issubdtype(sd.dtype, np.integer):
        raise DataError("sample_domain must hold integers (positive = source, negative = target)")
    if np.any(sd == 0):
        raise DataError("sample_domain 0 is ambiguous: use positive ids for source, negative for target")
    return sd.astype(np.int64)


def stack_domains(Xs: Any, ys: Any, Xt: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack separate source and target arrays into skada-style ``X, y, sample_domain``."""
    Xs = check_features(Xs, "source X")
    Xt = check_features(Xt, "target X")
    if Xs.shape[1] != Xt.shape[1]:
        raise DataError(f"source has {Xs.shape[1]} features but target has {Xt.shape[1]}")
    ys = np.asarray(ys).ravel()
    if len(ys) != len(Xs):
        raise DataError(f"source X has {len(Xs)} rows but {len(ys)} labels")
    X = np.vstack([Xs, Xt])
    y = np.concatenate([ys.astype(np.int64), np.full(len(Xt), -1, dtype=np.int64)])
    sd = np.concatenate([np.full(len(Xs), SOURCE_ID), np.full(len(Xt), TARGET_ID)])
    return X, y, sd


def labelled_target_weight(n_source: int, n_labelled: int, share: float = 0.5) -> float:
    """Weight of each labelled target row beside unit-weight source rows: the few labelled rows together
    weigh ``share`` of the source rows' total (at least 1 each), so a handful of them still moves the
    classifier without drowning the source. The default share (0.5) was looked at on four Office-Caltech
    SURF pairs (4 labels per class, half of them training): target accuracy was flat from 0.25 to 1."""
    return max(1.0, share * n_source / max(n_labelled, 1))


def symmetric_power(C: np.ndarray, power: float) -> np.ndarray:
    """``C ** power`` for a symmetric positive (semi-)definite matrix, through its eigenvalues."""
    vals, vecs = np.linalg.eigh((C + C.T) / 2)
    vals = np.clip(vals, 1e-12, None)
    return (vecs * vals**power) @ vecs.T


class DomainAdaptationClassifier(ClassifierMixin, BaseEstimator):
    """Base class: adapt the data, then fit ``base_estimator`` on the adapted source rows.

    Subclasses implement :meth:`_fit_adapter` (returns adapted source rows and optional
    per-row weights) and may override :meth:`_transform` (how rows of each side are mapped at
    prediction time; identity by default).
    """

    base_estimator: Any = None

    # -- subclass hooks -------------------------------------------------------------
    def _fit_adapter(self, Xs: np.ndarray, ys: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        raise NotImplementedError

    def _transform(self, X: np.ndarray, is_source: np.ndarray) -> np.ndarray:
        return X

    def _make_estimator(self) -> Any:
        return clone(self.base_estimator) if self.base_estimator is not None else default_base_estimator()

    # -- scikit-learn API ---------------------------------------------------------
    def fit(self, X: Any, y: Any, sample_domain: Any = None, labelled_target: tuple[Any, Any] | None = None,
            labelled_weight: float | None = None) -> DomainAdaptationClassifier:
        """Fit on stacked source + target rows (target labels in ``y`` are ignored).

        ``labelled_target``: optional ``(X_l, y_l)``, a few labelled target rows (semi-supervised
        DA). The adapter never reads them; they join the classifier's training rows, mapped as
        target rows, each with weight ``labelled_weight`` (default
        :func:`labelled_target_weight`).
        """
        X, y, sd = check_fit_arrays(X, y, sample_domain)
        is_src = sd > 0
        Xs, ys, Xt = X[is_src], y[is_src], X[~is_src]
        self.n_features_in_ = X.shape[1]
        Xs_adapted, weights = self._fit_adapter(Xs, ys, Xt)
        self.source_weights_ = weights
        est = self._make_estimator()
        if labelled_target is not None:
            Xs_adapted, ys, weights = self._with_labelled_target(Xs_adapted, ys, weights, labelled_target,
                                                                 labelled_weight, has_fit_parameter(est, "sample_weight"))
        if weights is None:
            est.fit(Xs_adapted, ys)
        else:
            try:
                est.fit(Xs_adapted, ys, sample_weight=weights)
            except TypeError as exc:
                raise DataError(f"{type(est).__name__} does not accept sample_weight; reweighting methods "
                                "need a base estimator that does (e.g. LogisticRegression, SVC)") from exc
        self.estimator_ = est
        self.classes_ = est.classes_
        return self

    def _with_labelled_target(self, Xs: np.ndarray, ys: np.ndarray, weights: np.ndarray | None,
                              labelled: tuple[Any, Any], weight: float | None,
                              weighted: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Adapted source rows with the labelled target rows (mapped as target rows) appended, and the weights
        (a classifier without ``sample_weight`` and a method without weights: each labelled row repeated
        ``round(weight)`` times instead)."""
        xl = check_features(labelled[0], "labelled target X")
        yl = np.asarray(labelled[1]).ravel()
        if xl.shape[1] != self.n_features_in_:
            raise DataError(f"labelled target rows have {xl.shape[1]} features; the data have {self.n_features_in_}")
        if len(yl) != len(xl):
            raise DataError(f"{len(xl)} labelled target rows but {len(yl)} labels")
        if not np.all(np.isin(yl, ys)):
            raise DataError("labelled target rows hold classes the source does not have; the classifier can only "
                            "predict source classes")
        w_l = labelled_target_weight(len(ys), len(yl)) if weight is None else float(weight)
        if not w_l > 0:
            raise DataError(f"labelled_weight must be positive (got {weight})")
        zl = self._transform(xl, np.zeros(len(xl), bool))
        self.labelled_weight_ = w_l
        yl = yl.astype(ys.dtype)
        if not weighted and weights is None:
            reps = max(1, round(w_l))
            return np.vstack([Xs, np.repeat(zl, reps, axis=0)]), np.r_[ys, np.repeat(yl, reps)], None
        w_s = np.ones(len(ys)) if weights is None else np.asarray(weights, dtype=float)
        return np.vstack([Xs, zl]), np.r_[ys, yl], np.r_[w_s, np.full(len(yl), w_l)]

    def _prepare(self, X: Any, sample_domain: Any) -> np.ndarray:
        if not hasattr(self, "estimator_"):
            raise DataError(f"{type(self).__name__} is not fitted yet: call fit first")
        X = check_features(X)
        if X.shape[1] != self.n_features_in_:
            raise DataError(f"X has {X.shape[1]} features; the model was fitted on {self.n_features_in_}")
        sd = np.full(len(X), TARGET_ID) if sample_domain is None else check_sample_domain(sample_domain, len(X))
        return self._transform(X, sd > 0)

    def transform(self, X: Any, sample_domain: Any = None) -> np.ndarray:
        """Rows mapped into the space the classifier works in (all rows target by default)."""
        return self._prepare(X, sample_domain)

    def predict(self, X: Any, sample_domain: Any = None) -> np.ndarray:
        """Class predictions (rows are treated as target unless ``sample_domain`` says otherwise)."""
        Z = self._prepare(X, sample_domain)
        return self.estimator_.predict(Z)

    def predict_proba(self, X: Any, sample_domain: Any = None) -> np.ndarray:
        """Class probabilities (needs a base estimator with ``predict_proba``)."""
        Z = self._prepare(X, sample_domain)
        if not hasattr(self.estimator_, "predict_proba"):
            raise DataError(f"{type(self.estimator_).__name__} has no predict_proba (use probability=True)")
        return self.estimator_.predict_proba(Z)

    def score(self, X: Any, y: Any, sample_domain: Any = None) -> float:
        """Accuracy of :meth:`predict` on ``X`` against ``y``."""
        y = np.asarray(y).ravel()
        pred = self.predict(X, sample_domain)
        if len(y) != len(pred):
            raise DataError(f"X has {len(pred)} rows but y has {len(y)} labels")
        return float(np.mean(pred == y))
