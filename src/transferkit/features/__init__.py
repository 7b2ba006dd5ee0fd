"""Feature extraction with an on-disk cache, and a scikit-learn ``FeatureExtractor``."""

from transferkit.features.cache import FeatureCache, default_cache_dir
from transferkit.features.extract import extract_features
from transferkit.features.sklearn import FeatureExtractor

__all__ = ["FeatureCache", "FeatureExtractor", "default_cache_dir", "extract_features"]
