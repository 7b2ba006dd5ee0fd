"""Info records and the two registries of domain-adaptation methods.

Shallow methods (``SHALLOW_METHODS``) are scikit-learn style classifiers on feature arrays; deep
methods (``DEEP_METHODS``) are loss recipes plugged into the one training loop in
:mod:`transferkit.adaptation.deep._loop`. Each method registers itself in its own file.
"""

from __future__ import annotations

from dataclasses import dataclass

from transferkit._registry import Registry


@dataclass(frozen=True)
class MethodInfo:
    """What a domain-adaptation method does and what it needs.

    Attributes:
        family: ``mapping``, ``subspace``, ``reweighting``, ``adversarial``, ``discrepancy``,
            ``target-structure`` or ``baseline``.
        summary: one line for listings.
        reference: the paper the implementation follows.
        needs: ``features`` (shallow, arrays in) or ``network`` (deep, trains a backbone).
        against_negative_transfer: True for methods designed to reduce negative transfer.
    """

    family: str
    summary: str
    reference: str
    needs: str = "features"
    against_negative_transfer: bool = False


SHALLOW_METHODS: Registry = Registry("shallow adaptation method")
DEEP_METHODS: Registry = Registry("deep adaptation method")
