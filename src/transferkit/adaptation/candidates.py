"""The candidate set of ``adapt(method="auto")`` and the feature view DEV reads.

``adapt(source, target, "auto")`` fits source-only and every method of
:data:`DEFAULT_CANDIDATES` on the same source split, scores each without target labels, and lets
:func:`~transferkit.adaptation.decision.decide` keep source-only unless the evidence is strong.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from transferkit.adaptation.shallow._base import SOURCE_ID, TARGET_ID

DEFAULT_CANDIDATES = ("coral", "subspace_alignment", "importance_weighting", "kmm", "tca", "jda", "joint_reweight")


def model_features(model: Any, x: np.ndarray, is_source: bool) -> np.ndarray:
    """The rows as the candidate's classifier sees them (its adapted feature space; DEV's input)."""
    sd = np.full(len(x), SOURCE_ID if is_source else TARGET_ID)
    return model.transform(x, sample_domain=sd) if hasattr(model, "transform") else x
