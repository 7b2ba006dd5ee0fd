"""The info record every transferability score registers with, and the score registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from transferkit._registry import Registry

InputKind = Literal["features", "probs", "preds"]
TaskKind = Literal["classification", "regression", "both"]


@dataclass(frozen=True)
class ScoreInfo:
    """What a transferability score needs and promises.

    Attributes:
        input: ``features`` (penultimate-layer features ``(N, D)``), ``probs`` (source-model
            softmax ``(N, C_s)``) or ``preds`` (source-model hard predictions ``(N,)``).
        task: target task kinds the score supports; a ``regression`` or ``both`` score takes
            ``regression=True`` for real-valued targets.
        higher_is_better: whether a larger value predicts better transfer.
        summary: one line shown in listings.
        terms: for a score defined *relative to the candidate set* (NCTI, ETran): ``(features,
            labels) -> {term: value}``, the per-model terms; ``combine`` turns the terms of every
            candidate into their scores (e.g. min-max scaled over the set, then summed). ``rank``
            uses the pair when it scores two or more candidates; the plain function gives the
            value of a model scored alone.
        combine: see ``terms``.
        caveat: one line on when the score misleads (shown in the rank report).
    """

    input: InputKind
    task: TaskKind = "classification"
    higher_is_better: bool = True
    summary: str = ""
    terms: Callable[..., dict[str, float]] | None = None
    combine: Callable[[Sequence[Mapping[str, float]]], list[float]] | None = None
    caveat: str = ""

    def __post_init__(self) -> None:
        if self.input not in ("features", "probs", "preds"):
            raise ValueError(f"ScoreInfo.input must be features, probs or preds, got {self.input!r}")
        if self.task not in ("classification", "regression", "both"):
            raise ValueError(f"ScoreInfo.task must be classification, regression or both, got {self.task!r}")
        if (self.terms is None) != (self.combine is None):
            raise ValueError("ScoreInfo.terms and ScoreInfo.combine go together: give both or neither")


def min_max(values: Sequence[float]) -> list[float]:
    """``values`` scaled to [0, 1] over the set (all 0 when they are all equal)."""
    lo, hi = min(values), max(values)
    return [0.0 if hi == lo else (float(v) - lo) / (hi - lo) for v in values]


SCORES: Registry[Callable[..., float]] = Registry("transferability score")
