"""Proxy A-distance (Ben-David et al.): how well a classifier tells the two domains apart."""

from __future__ import annotations

from typing import Any

import numpy as np

from transferkit.similarity._checks import check_pair
from transferkit.similarity._info import DISTANCES, DistanceInfo
from transferkit.transferability._linear_probe import cross_validated_correct
from transferkit.transferability._validate import canonical_order


@DISTANCES.register("proxy_a", aliases=("proxy_a_distance", "pad"), info=DistanceInfo(
    value_range="[0, 2]", randomized=True, summary="2 (1 - 2 err) of a domain classifier"))
def proxy_a_distance(source: Any, target: Any, *, cv: int = 5, c_reg: float = 1.0, max_per_domain: int = 2000,
                     seed: int = 0) -> float:
    """``2 (1 - 2 err)`` clipped to ``[0, 2]``, ``err`` the cross-validated error of a domain classifier.

    Both domains are subsampled to the same size (at most ``max_per_domain``) so chance error is
    0.5; the classifier is standardised L2 logistic regression. 0: indistinguishable, 2: separable.
    """
    xs, xt = check_pair(source, target, min_rows=cv)
    rng = np.random.default_rng(seed)
    n = min(len(xs), len(xt), max_per_domain)
    xs = xs[canonical_order(xs)][np.sort(rng.choice(len(xs), n, replace=False))]
    xt = xt[canonical_order(xt)][np.sort(rng.choice(len(xt), n, replace=False))]
    x = np.vstack([xs, xt])
    y = np.r_[np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64)]
    err = (len(y) - cross_validated_correct(x, y, cv, c_reg)) / len(y)
    return float(np.clip(2.0 * (1.0 - 2.0 * err), 0.0, 2.0))
