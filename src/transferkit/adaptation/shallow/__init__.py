"""Shallow domain adaptation on feature arrays (scikit-learn style, skada's ``sample_domain``).

Importing this package registers every method in :data:`SHALLOW_METHODS`.
"""

from __future__ import annotations

from transferkit.adaptation.shallow._base import DomainAdaptationClassifier, check_fit_arrays, stack_domains
from transferkit.adaptation.shallow.coral import CORAL
from transferkit.adaptation.shallow.importance_weighting import ImportanceWeighting, domain_classifier_weights
from transferkit.adaptation.shallow.jda import JDA
from transferkit.adaptation.shallow.joint_reweight import JointReweight
from transferkit.adaptation.shallow.kmm import KMM, kmm_weights
from transferkit.adaptation.shallow.source_only import SourceOnly
from transferkit.adaptation.shallow.subspace_alignment import SubspaceAlignment
from transferkit.adaptation.shallow.tca import TCA

__all__ = [
    "CORAL",
    "JDA",
    "KMM",
    "TCA",
    "DomainAdaptationClassifier",
    "ImportanceWeighting",
    "JointReweight",
    "SourceOnly",
    "SubspaceAlignment",
    "check_fit_arrays",
    "domain_classifier_weights",
    "kmm_weights",
    "stack_domains",
]
