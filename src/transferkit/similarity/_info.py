"""The info record every distance registers with, and the distance registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from transferkit._registry import Registry


@dataclass(frozen=True)
class DistanceInfo:
    """What a source/target distance promises.

    Attributes:
        symmetric: ``d(S, T) == d(T, S)`` (up to randomness).
        value_range: the range of values, as text for listings (``"[0, 2]"``).
        randomized: uses random subsets or folds (seeded; results fixed for a given ``seed``).
        summary: one line shown in listings.
    """

    symmetric: bool = True
    value_range: str = "[0, inf)"
    randomized: bool = False
    summary: str = ""


DISTANCES: Registry[Callable[..., float]] = Registry("distance")
