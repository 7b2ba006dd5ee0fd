"""The source metric of a self-supervised objective: a linear probe on the frozen features."""

from __future__ import annotations

from typing import Any

import numpy as np

from transferkit.data.dataset import Dataset


def linear_probe_metrics(backbone: Any, train: Dataset, test: Dataset, max_train: int = 3000,
                         seed: int = 0) -> dict[str, float]:
    """Source accuracy of a logistic regression on frozen features (labels only used here, to report)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from transferkit.features import extract_features

    if len(test) == 0 or len(train) < 2 or train.y is None or test.y is None or train.task != "classification" or len(np.unique(train.y)) < 2:
        return {}
    if len(train) > max_train:
        train = train.subset(np.sort(np.random.default_rng(seed).choice(len(train), max_train, replace=False)))
    ftr = extract_features(backbone, train, cache=False, progress=False)
    fte = extract_features(backbone, test, cache=False, progress=False)
    sc = StandardScaler().fit(ftr)
    clf = LogisticRegression(max_iter=2000, C=1.0).fit(sc.transform(ftr), train.y)
    return {"linear_probe_test_accuracy": float(np.mean(clf.predict(sc.transform(fte)) == test.y))}
