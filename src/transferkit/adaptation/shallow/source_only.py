"""Source-only baseline: the base classifier trained on source rows, target rows unused."""

from __future__ import annotations

from typing import Any

import numpy as np

from transferkit.adaptation._info import SHALLOW_METHODS, MethodInfo
from transferkit.adaptation.shallow._base import DomainAdaptationClassifier


@SHALLOW_METHODS.register("source_only", aliases=("source-only",), info=MethodInfo(
    "baseline", "no adaptation: train on source, predict target", "-"))
class SourceOnly(DomainAdaptationClassifier):
    """Train ``base_estimator`` on the source rows only; the reference every method must beat."""

    def __init__(self, base_estimator: Any = None) -> None:
        self.base_estimator = base_estimator

    def _fit_adapter(self, Xs: np.ndarray, ys: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, None]:
        return Xs, None
