"""A scikit-learn transformer over a frozen backbone."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from transferkit.backbones import Backbone, create_backbone
from transferkit.data.dataset import Dataset


class FeatureExtractor(TransformerMixin, BaseEstimator):
    """``Pipeline([("features", FeatureExtractor("minilm")), ("clf", LogisticRegression())])``.

    Args:
        backbone: a backbone spec string or a :class:`Backbone`.
        batch_size: forward-pass batch size.
        cache: use the on-disk feature cache (see :func:`extract_features`).
        progress: show a progress bar.
    """

    def __init__(self, backbone: str | Backbone = "minilm", batch_size: int = 64, cache: bool = True,
                 progress: bool = False) -> None:
        self.backbone = backbone
        self.batch_size = batch_size
        self.cache = cache
        self.progress = progress

    def fit(self, X: Any, y: Any = None) -> FeatureExtractor:
        """Create the backbone (nothing is trained)."""
        self.backbone_ = create_backbone(self.backbone)
        self.n_features_out_ = int(self.backbone_.num_features)
        if not isinstance(X, Dataset) and self.backbone_.input_kind != "text":
            self.n_features_in_ = int(np.asarray(X).shape[1]) if np.asarray(X).ndim > 1 else 1
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Features of ``X`` (strings for text backbones, arrays for the others)."""
        from sklearn.utils.validation import check_is_fitted

        from transferkit.features.extract import extract_features

        check_is_fitted(self, "backbone_")
        data = X if isinstance(X, Dataset) else (list(map(str, X)) if self.backbone_.input_kind == "text"
                                                   else np.asarray(X, dtype=np.float32))
        return extract_features(self.backbone_, data, batch_size=self.batch_size, cache=self.cache,
                                progress=self.progress)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``feature0 .. featureD-1``."""
        return np.array([f"feature{i}" for i in range(self.n_features_out_)], dtype=object)
