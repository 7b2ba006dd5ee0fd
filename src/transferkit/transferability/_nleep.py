"""NLEEP (Li et al., CVPR 2021): LEEP with a Gaussian mixture on target features as the source head."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

from transferkit.errors import DataError
from transferkit.transferability._guard import subsample_rows
from transferkit.transferability._info import SCORES, ScoreInfo
from transferkit.transferability._leep import leep
from transferkit.transferability._validate import canonical_order, check_features, check_labels


@SCORES.register("nleep", info=ScoreInfo(
    input="features", summary="LEEP on posteriors of a Gaussian mixture fitted to the features"))
def nleep(features: Any, labels: Sequence[Hashable] | np.ndarray, *, components_per_class: int = 5,
          variance: float = 0.8, covariance_type: str = "full", random_state: int = 123) -> float:
    """LEEP of the posteriors of a ``components_per_class * C``-component mixture (``<= 0``).

    Features are PCA-reduced to keep ``variance`` of their variance; the mixture never has more
    than ``N // 2`` components. Samples are visited in a content-defined order, so the result does
    not depend on the order they are passed in. The mixture's cost grows with ``N x C x dim^2``:
    above ``Limits.max_rows`` rows it is fitted on a seeded class-stratified subsample, with a note
    (see :mod:`transferkit.transferability._guard`).
    """
    f = check_features(features)
    y, c = check_labels(labels, f.shape[0])
    dim = min(f.shape[1], 64)
    f, y = subsample_rows("nleep", f, y, 2.0 * 100 * components_per_class * c * dim * dim + 2.0 * f.shape[1] ** 2)
    y, c = check_labels(y, f.shape[0])
    order = canonical_order(f, y)
    f, y = f[order], y[order]
    n = f.shape[0]
    if f.shape[1] > 1:
        f = PCA(n_components=variance, svd_solver="full").fit_transform(f)
    k = max(1, min(components_per_class * c, n // 2))
    gmm = GaussianMixture(n_components=k, covariance_type=covariance_type, random_state=random_state)
    try:
        probs = gmm.fit(f).predict_proba(f)
    except ValueError as exc:  # sklearn: collapsed components (duplicate rows, or features at a huge scale)
        raise DataError(f"nleep: the Gaussian mixture cannot be fitted to these features ({exc}); "
                        "standardise the features or remove duplicate rows") from exc
    return leep(probs, y)
