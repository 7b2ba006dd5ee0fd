"""scikit-learn front ends: the API checks of check_estimator, real data, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from transferkit.estimators import TransferClassifier, TransferRegressor

# Checks expected to fail, with the reason (check name -> why). Every scikit-learn API check that
# applies passes; check_array_api_input is skipped by scikit-learn itself unless SCIPY_ARRAY_API=1
# (torch models take numpy input only).
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


@parametrize_with_checks([TransferClassifier(epochs=5), TransferRegressor(epochs=5)],
                         expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS)
def test_sklearn_api_checks(estimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)


def test_classifier_on_breast_cancer_and_string_labels() -> None:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    labels = np.where(y == 1, "benign", "malignant")
    Xtr, Xte, ytr, yte = train_test_split(X, labels, test_size=0.3, random_state=0, stratify=labels)
    clf = TransferClassifier(backbone="tabmlp?hidden=32", epochs=30).fit(Xtr, ytr)
    assert set(clf.classes_) == {"benign", "malignant"} and clf.n_features_in_ == 30
    assert clf.score(Xte, yte) > 0.9
    proba = clf.predict_proba(Xte)
    assert proba.shape == (len(Xte), 2) and np.allclose(proba.sum(1), 1)
    assert clf.best_epoch_ >= 1 and len(clf.history_) >= clf.best_epoch_


def test_pretrained_backbone_object_with_linear_probe() -> None:
    from transferkit.backbones import create_backbone
    from transferkit.data import load_dataset

    digits = load_dataset("digits")
    bb = create_backbone("smallcnn?image_size=8&width=8&num_features=32")
    clf = TransferClassifier(backbone=bb, strategy="linear_probe").fit(digits.x[:600], digits.y[:600])
    assert clf.model_.backbone is not bb  # the given backbone is copied, never trained in place
    assert clf.score(digits.x[600:900], digits.y[600:900]) > 0.5  # random conv features + logistic head


def test_regressor_learns_and_keeps_target_shape() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = 3 * X[:, 0] - 2 * X[:, 1] + 10 + 0.1 * rng.normal(size=300)
    reg = TransferRegressor(backbone="tabmlp?hidden=32", epochs=60).fit(X[:200], y[:200])
    assert reg.score(X[200:], y[200:]) > 0.8
    assert reg.predict(X[:3]).shape == (3,)
    Y = np.c_[y, -y]
    assert TransferRegressor(epochs=3).fit(X, Y).predict(X[:4]).shape == (4, 2)


def test_bad_input_gets_clear_errors() -> None:
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    with pytest.raises(NotFittedError):
        TransferClassifier().predict(X)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        TransferClassifier(epochs=1).fit(bad, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        TransferClassifier(epochs=1).fit(X, y[:10])
    with pytest.raises(ValueError, match="one class"):
        TransferClassifier(epochs=1).fit(X, np.zeros(20))
    with pytest.raises(ValueError, match="4 features"):
        TransferClassifier(epochs=1).fit(X, y).predict(np.zeros((2, 4)))
