"""Similarity and domain shift between a source and a target sample of features.

Every distance is a plain function ``distance(source, target) -> float`` registered in
:data:`DISTANCES`. :func:`class_conditional` applies one class by class, and
:func:`label_relation` shows which target classes a source model's classes already cover.
:func:`measure_similarity` does it all for two data sets and one backbone (``transferkit similarity``).
"""

from __future__ import annotations

from transferkit.similarity._coral import coral_distance
from transferkit.similarity._frechet import frechet_distance
from transferkit.similarity._info import DISTANCES, DistanceInfo
from transferkit.similarity._mmd import MMDResult, median_bandwidth, mmd, mmd_test
from transferkit.similarity._proxy_a import proxy_a_distance
from transferkit.similarity.api import measure_similarity, similarity_section
from transferkit.similarity.class_conditional import ClassConditional, class_conditional
from transferkit.similarity.label_relation import LabelRelation, label_relation, label_relation_from_features

__all__ = [
    "DISTANCES",
    "ClassConditional",
    "DistanceInfo",
    "LabelRelation",
    "MMDResult",
    "class_conditional",
    "coral_distance",
    "frechet_distance",
    "label_relation",
    "label_relation_from_features",
    "measure_similarity",
    "median_bandwidth",
    "mmd",
    "mmd_test",
    "proxy_a_distance",
    "similarity_section",
]
