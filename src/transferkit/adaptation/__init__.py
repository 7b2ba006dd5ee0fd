"""Domain adaptation: labelled source, unlabelled (or few-labelled) target.

``transferkit.adaptation.adapt`` is the entry point; shallow methods live in
:mod:`transferkit.adaptation.shallow` (feature arrays), deep ones in
:mod:`transferkit.adaptation.deep` (torch, imported on first use).
"""

from __future__ import annotations

from transferkit.adaptation import shallow  # noqa: F401  (registers the shallow methods)
from transferkit.adaptation._info import DEEP_METHODS, SHALLOW_METHODS, MethodInfo

__all__ = ["DEEP_METHODS", "SHALLOW_METHODS", "MethodInfo"]
