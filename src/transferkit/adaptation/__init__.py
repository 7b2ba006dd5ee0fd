"""Domain adaptation: labelled source, unlabelled (or few-labelled) target.

``transferkit.adaptation.adapt`` is the entry point; shallow methods live in
:mod:`transferkit.adaptation.shallow` (feature arrays), deep ones in
:mod:`transferkit.adaptation.deep` (torch, imported on first use). ``run_adapt`` is what
``transferkit adapt`` runs: two data sets in, the results dict out.
"""

from __future__ import annotations

from transferkit.adaptation import selection_validators, shallow  # noqa: F401  (register validators, methods)
from transferkit.adaptation._info import DEEP_METHODS, SHALLOW_METHODS, MethodInfo
from transferkit.adaptation.api import AdaptationResult, adapt
from transferkit.adaptation.run import adaptation_section, run_adapt


def list_methods() -> list[dict[str, str]]:
    """Every registered method, shallow and deep (imports torch for the deep ones)."""
    import transferkit.adaptation.deep  # noqa: F401  (registers the deep methods)

    return [{"name": e.name, "kind": kind, "family": e.info.family, "summary": e.info.summary,
             "reference": e.info.reference}
            for kind, reg in (("shallow", SHALLOW_METHODS), ("deep", DEEP_METHODS)) for e in reg]


__all__ = [
    "DEEP_METHODS",
    "SHALLOW_METHODS",
    "AdaptationResult",
    "MethodInfo",
    "adapt",
    "adaptation_section",
    "list_methods",
    "run_adapt",
]
