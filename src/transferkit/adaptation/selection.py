"""Model selection for domain adaptation: label-free scores, few-label selection, the verdict.

Selection scores are registered in :data:`SELECTION_SCORES` with a :class:`SelectionScoreInfo`
(what they read, higher-is-better, the caveat). Label-free scores (higher is better for each)
only see source labels and unlabelled target predictions. None of them is reliable: each
carries the caveat the literature gives, and every result that uses one repeats that caveat.
When a few labelled target examples exist, they decide instead, and the adapted model is
compared against source-only on them.

These functions take predictions, never a model and never target test data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from transferkit._registry import Registry
from transferkit.errors import DataError
from transferkit.evaluation.stats import paired_difference

Reads = Literal["source_val", "weighted_source_val", "feature_weighted_source_val", "source_val_domain_gap", "target",
                "target_val"]


@dataclass(frozen=True)
class SelectionScoreInfo:
    """What a model-selection score reads and how far to trust it.

    Attributes:
        reads: ``source_val`` (held-out source labels and predictions), ``weighted_source_val``
            (the same plus importance weights), ``feature_weighted_source_val`` (the same with
            weights estimated in the model's own features), ``source_val_domain_gap`` (held-out source
            labels and predictions plus the proxy A-distance between the domains in the model's
            features), ``target`` (unlabelled target predictions) or
            ``target_val`` (the few labelled target examples the user supplied).
        caveat: the literature's warning, repeated in every result that uses the score.
        summary: one line for listings.
        higher_is_better: whether a larger value means a better model.
        randomized: takes a ``seed`` (a seeded subsample).
    """

    reads: Reads
    caveat: str
    summary: str
    higher_is_better: bool = True
    randomized: bool = False

    def __post_init__(self) -> None:
        if self.reads not in ("source_val", "weighted_source_val", "feature_weighted_source_val",
                              "source_val_domain_gap", "target", "target_val"):
            raise ValueError(f"SelectionScoreInfo.reads: unknown input {self.reads!r}")

    @property
    def label_free(self) -> bool:
        """True when the score needs no target label."""
        return self.reads != "target_val"


SELECTION_SCORES: Registry[Callable[..., float]] = Registry("selection score")


def check_probabilities(proba: np.ndarray, name: str = "probabilities") -> np.ndarray:
    """``proba`` as a finite, non-empty ``(n_samples, n_classes)`` float array, or a :class:`DataError`."""
    p = np.asarray(proba, dtype=float)
    if p.ndim != 2 or len(p) == 0:
        raise DataError(f"{name} must be a non-empty (n_samples, n_classes) array, got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise DataError(f"{name} contain NaN or infinity")
    return p


@SELECTION_SCORES.register("source_val_accuracy", info=SelectionScoreInfo(
    "source_val",
    "Accuracy on held-out source rows: it measures fit to the source, not the target. A method "
    "can lower it and still help the target, or keep it and hurt the target (DomainBed's "
    "'training-domain validation'; Gulrajani and Lopez-Paz 2021).",
    "accuracy on held-out source rows"))
def source_val_accuracy(y_val: np.ndarray, proba_val: np.ndarray) -> float:
    """Accuracy on held-out labelled *source* rows (the caveat is on its info record)."""
    p = check_probabilities(proba_val)
    y = np.asarray(y_val).ravel()
    if len(y) != len(p):
        raise DataError(f"{len(y)} labels but {len(p)} predictions")
    return float(np.mean(p.argmax(1) == y))


@SELECTION_SCORES.register("importance_weighted_accuracy", info=SelectionScoreInfo(
    "weighted_source_val",
    "Source validation accuracy weighted by an estimated p_t/p_s (Sugiyama et al. 2007). Valid "
    "only under covariate shift with overlapping support, high variance with extreme weights; "
    "a mapping that moves both domains alike keeps the source score, so it cannot reward "
    "mapping methods. Best of seven label-free scorers in SKADA-Bench's deep runs, still "
    "below oracle selection.",
    "held-out source accuracy weighted by p_t/p_s"))
def importance_weighted_accuracy(y_val: np.ndarray, proba_val: np.ndarray, weights: np.ndarray) -> float:
    """Held-out source accuracy with each row weighted by its density ratio ``p_t/p_s`` (caveat: info record)."""
    p = check_probabilities(proba_val)
    y = np.asarray(y_val).ravel()
    w = np.asarray(weights, dtype=float).ravel()
    if not (len(y) == len(p) == len(w)):
        raise DataError(f"{len(y)} labels, {len(p)} predictions and {len(w)} weights must match")
    if np.any(w < 0) or not np.all(np.isfinite(w)) or w.sum() <= 0:
        raise DataError("importance weights must be finite, non-negative and not all zero")
    return float(np.sum(w * (p.argmax(1) == y)) / w.sum())


@SELECTION_SCORES.register("prediction_entropy", info=SelectionScoreInfo(
    "target",
    "Negative mean entropy of target predictions (Morerio et al. 2018). Rewards confidence, "
    "not correctness: a model that puts every target row in one class scores best. It chose "
    "source-only over a far better CORAL on skada's conditional-shift toy.",
    "negative mean entropy of target predictions"))
def prediction_entropy(proba_target: np.ndarray) -> float:
    """Negative mean entropy of the target predictions (higher = more confident; caveat: info record)."""
    p = np.clip(check_probabilities(proba_target), 1e-12, 1.0)
    return float(np.mean(np.sum(p * np.log(p), axis=1)))


@SELECTION_SCORES.register("soft_neighborhood_density", info=SelectionScoreInfo(
    "target",
    "Entropy of soft neighbourhoods of target predictions (Saito et al. ICCV 2021). Rewards "
    "dense prediction clusters, right or wrong; worst of seven scorers in SKADA-Bench's deep "
    "runs and picked the worst candidate on skada's covariate-shift toy.",
    "soft neighbourhood density of target predictions", randomized=True))
def soft_neighborhood_density(proba_target: np.ndarray, temperature: float = 0.05, max_rows: int = 3000,
                              seed: int = 0) -> float:
    """Soft neighbourhood density (Saito et al. 2021) of target predictions (higher = denser; caveat: info record).

    Rows are L2-normalised probability vectors; each row's similarities to the others (self
    excluded) go through a softmax at ``temperature``; the score is the mean entropy of these
    neighbourhood distributions. At most ``max_rows`` rows are used (a seeded subsample).
    """
    p = check_probabilities(proba_target)
    if len(p) < 3:
        raise DataError("soft neighbourhood density needs at least 3 target rows")
    if len(p) > max_rows:
        p = p[np.random.default_rng(seed).choice(len(p), max_rows, replace=False)]
    z = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)
    s = z @ z.T / temperature
    np.fill_diagonal(s, -np.inf)
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    q = e / e.sum(axis=1, keepdims=True)
    return float(-np.mean(np.sum(q * np.log(np.clip(q, 1e-12, 1.0)), axis=1)))


@SELECTION_SCORES.register("target_val_accuracy", info=SelectionScoreInfo(
    "target_val",
    "Accuracy on the few labelled target examples you supplied: unbiased but noisy with few "
    "examples; the verdict below carries its confidence interval.",
    "accuracy on the few labelled target examples"))
def target_val_accuracy(y_target_val: np.ndarray, proba_target_val: np.ndarray) -> float:
    """Accuracy on the few labelled *target* validation examples the user supplied (caveat: info record)."""
    return source_val_accuracy(y_target_val, proba_target_val)


class _LiveScores(Mapping[str, Any]):
    """A read-only view of the registry, re-read on each access (validators register in their own files)."""

    def __init__(self, value: Callable[[str], Any], label_free_only: bool) -> None:
        self._value, self._label_free_only = value, label_free_only

    def _names(self) -> list[str]:
        names = SELECTION_SCORES.names(sort=False)
        return [n for n in names if SELECTION_SCORES.info(n).label_free] if self._label_free_only else names

    def __getitem__(self, name: str) -> Any:
        if name not in self._names():
            raise KeyError(name)
        return self._value(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


# derived from the registry (registration order), for older imports
LABEL_FREE_SCORES: Mapping[str, Callable[..., float]] = _LiveScores(SELECTION_SCORES.get, label_free_only=True)
CAVEATS: Mapping[str, str] = _LiveScores(lambda n: SELECTION_SCORES.info(n).caveat, label_free_only=False)
DEFAULT_LABEL_FREE_SCORE = "importance_weighted_accuracy"


def selection_score(name: str, *, y_val: np.ndarray | None = None, proba_val: np.ndarray | None = None,
                    weights: np.ndarray | None = None, proba_target: np.ndarray | None = None,
                    y_target_val: np.ndarray | None = None, proba_target_val: np.ndarray | None = None,
                    feature_weights: np.ndarray | None = None, domain_gap: float | None = None,
                    seed: int = 0) -> float:
    """Compute the registered selection score ``name`` from the inputs its info says it reads.

    ``weights`` are density ratios at the held-out source rows estimated in the input space;
    ``feature_weights`` the same estimated in the model's own (adapted) features, and
    ``domain_gap`` the proxy A-distance between the domains there.
    """
    entry = SELECTION_SCORES.entry(name)
    info: SelectionScoreInfo = entry.info
    args: tuple[Any, ...] = {"source_val": (y_val, proba_val), "weighted_source_val": (y_val, proba_val, weights),
                             "feature_weighted_source_val": (y_val, proba_val, feature_weights),
                             "source_val_domain_gap": (y_val, proba_val, domain_gap),
                             "target": (proba_target,), "target_val": (y_target_val, proba_target_val)}[info.reads]
    if any(a is None for a in args):
        raise DataError(f"selection score {entry.name!r} reads {info.reads} inputs, which were not given")
    return float(entry.obj(*args, **({"seed": seed} if info.randomized else {})))


def select(candidates: dict[str, dict[str, float]], score: str, baseline: str = "source-only") -> str:
    """The candidate with the best ``score`` (highest, or lowest for a registered lower-is-better
    score); ties go to ``baseline`` (the safe choice)."""
    valid = {k: v[score] for k, v in candidates.items() if score in v and np.isfinite(v[score])}
    if not valid:
        raise DataError(f"no candidate has a finite {score!r} score")
    sign = -1.0 if score in SELECTION_SCORES and not SELECTION_SCORES.info(score).higher_is_better else 1.0
    best = max(sign * v for v in valid.values())
    tied = [k for k, v in valid.items() if sign * v >= best - 1e-12]
    return baseline if baseline in tied else tied[0]


@dataclass(frozen=True)
class Verdict:
    """Adapted model vs source-only on labelled target validation data."""

    verdict: str  # "adaptation helped", "negative transfer", "inconclusive", "unverified"
    recommended: str
    mean_gain: float | None
    ci_low: float | None
    ci_high: float | None
    advice: str


def adaptation_verdict(method: str, adapted_correct: Sequence[Sequence[float]] | np.ndarray | None,
                       source_only_correct: Sequence[Sequence[float]] | np.ndarray | None) -> Verdict:
    """Compare ``method`` with source-only on the labelled target validation examples.

    ``adapted_correct`` and ``source_only_correct`` are ``(n_seeds, n_val)`` 0/1 arrays: whether
    each seed's model got each validation example right. With few labels the examples, not the
    seeds, are the main source of noise, so each example's correctness is averaged over seeds and
    the paired Student-t interval of (adapted - source-only) is taken over examples. Above 0 ->
    "adaptation helped", below 0 -> "negative transfer", otherwise "inconclusive" (the higher mean
    is recommended, flagged as within noise). Without labelled target data the verdict is
    ``unverified`` and source-only is the safer recommendation.
    """
    if adapted_correct is None or source_only_correct is None or np.size(adapted_correct) == 0:
        return Verdict("unverified", "source-only", None, None, None,
                       "No labelled target data: label-free scores cannot confirm that adaptation helped (see "
                       "their caveats). Label a few target examples per class and rerun with --target-labels N; "
                       "until then source-only is the safer choice.")
    a = np.atleast_2d(np.asarray(adapted_correct, dtype=float))
    b = np.atleast_2d(np.asarray(source_only_correct, dtype=float))
    if a.shape != b.shape:
        raise DataError(f"correctness arrays differ in shape: {a.shape} vs {b.shape}")
    n_val = a.shape[1]
    diff = paired_difference(a.mean(0), b.mean(0))
    gain = diff.mean
    if diff.verdict == "positive":
        return Verdict("adaptation helped", method, gain, diff.ci_low, diff.ci_high,
                       f"{method} beats source-only on {n_val} labelled target examples ({gain:+.3f}): use {method}.")
    if diff.verdict == "negative":
        return Verdict("negative transfer", "source-only", gain, diff.ci_low, diff.ci_high,
                       f"{method} is worse than source-only on {n_val} labelled target examples "
                       f"({gain:+.3f}): use the source-only model, or try another method.")
    better = method if gain > 0 else "source-only"
    return Verdict("inconclusive", better, gain, diff.ci_low, diff.ci_high,
                   f"The difference ({gain:+.3f}) is within noise on {n_val} labelled target examples and "
                   f"{a.shape[0]} seed(s): {better} has the higher mean; label more target examples to decide.")
