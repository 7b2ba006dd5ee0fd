"""The info record every transferability score registers with, and the score registry."""

from __future__ import annotations

from collections.abc import Callable
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
    """

    input: InputKind
    task: TaskKind = "classification"
    higher_is_better: bool = True
    summary: str = ""

    def __post_init__(self) -> None:
        if self.input not in ("features", "probs", "preds"):
            raise ValueError(f"ScoreInfo.input must be features, probs or preds, got {self.input!r}")
        if self.task not in ("classification", "regression", "both"):
            raise ValueError(f"ScoreInfo.task must be classification, regression or both, got {self.task!r}")


SCORES: Registry[Callable[..., float]] = Registry("transferability score")
