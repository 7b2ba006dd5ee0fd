"""Typed result records: what the runner returns, what results.json holds, what every renderer reads.

Each record is a dataclass with ``to_dict()`` (its JSON form). An interval is always an
:class:`Estimate`; a verdict always comes from :func:`transferkit.evaluation.stats.verdict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from transferkit.evaluation.stats import VERDICT_ADVICE, mean_ci, paired_difference


@dataclass(frozen=True)
class Estimate:
    """A mean with its 95% interval and the values behind it (per seed, or per subject)."""

    mean: float | None
    ci_low: float | None
    ci_high: float | None
    per_seed: tuple[float, ...] = ()

    @classmethod
    def of(cls, values: list[float] | tuple[float, ...]) -> Estimate:
        """Mean and Student-t interval of independent values."""
        if not len(values):
            return cls(None, None, None, ())
        m, lo, hi = mean_ci(list(values))
        return cls(m, lo, hi, tuple(float(v) for v in values))

    def to_dict(self) -> dict[str, Any]:
        """``{"mean", "ci_low", "ci_high", "per_seed"}``."""
        return {"mean": self.mean, "ci_low": self.ci_low, "ci_high": self.ci_high, "per_seed": list(self.per_seed)}


@dataclass(frozen=True)
class Difference:
    """Paired difference ``a - b`` over seeds (sign-flipped for lower-is-better metrics) and its verdict."""

    a: str
    b: str
    estimate: Estimate
    verdict: str

    @classmethod
    def paired(cls, a: str, b: str, a_scores: list[float], b_scores: list[float],
               higher_is_better: bool = True) -> Difference:
        """The paired t-interval of ``a`` against ``b``."""
        d = paired_difference(a_scores, b_scores, higher_is_better=higher_is_better)
        return cls(a, b, Estimate(d.mean, d.ci_low, d.ci_high, tuple(d.per_seed)), d.verdict)

    @property
    def advice(self) -> str:
        """What to do about this verdict."""
        return VERDICT_ADVICE[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        """The estimate's fields plus ``verdict``."""
        return {**self.estimate.to_dict(), "verdict": self.verdict, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class ArmResult:
    """One arm at one budget: its test scores per seed and the mean of every metric."""

    key: str
    name: str
    role: str  # transfer / baseline / reference / source_only
    scores: tuple[float, ...]
    metrics: dict[str, float]
    per_seed_metrics: tuple[dict[str, float], ...] = ()
    val_scores: tuple[float, ...] = ()

    @property
    def mean(self) -> float | None:
        """Mean test score over seeds."""
        return float(np.mean(self.scores)) if self.scores else None

    def to_dict(self) -> dict[str, Any]:
        """``{"name", "per_seed", "mean", ...}`` (the shape reports read)."""
        return {"name": self.name, "per_seed": list(self.scores), "mean": self.mean, "role": self.role,
                "metrics": self.metrics,
                "val_per_seed": [v if np.isfinite(v) else None for v in self.val_scores]}


@dataclass
class BudgetResult:
    """Every arm at one label budget over paired seeds, transfer against its baseline, and the verdict."""

    budget: Any
    budget_label: str
    metric: str
    higher_is_better: bool
    seeds: list[int]
    arms: dict[str, ArmResult]
    diff: Difference | None
    versus: dict[str, Difference] = field(default_factory=dict)  # transfer against other arms
    n_labelled: int = 0
    advice: str = ""
    time_to_scratch_best: list[dict[str, Any]] = field(default_factory=list)
    curves: dict[str, Any] = field(default_factory=dict)
    confusion_matrix: dict[str, Any] | None = None
    strategy: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """``positive`` / ``inconclusive`` / ``negative`` (inconclusive without a baseline)."""
        return self.diff.verdict if self.diff is not None else "inconclusive"

    def arm(self, role: str) -> ArmResult | None:
        """The first arm with ``role``."""
        return next((a for a in self.arms.values() if a.role == role), None)

    def section(self) -> dict[str, Any]:
        """The ``results["sections"]["comparison"]`` form (curves and confusion matrix are separate sections)."""
        t, s = self.arm("transfer"), self.arm("baseline")
        others = {k: a.to_dict() for k, a in self.arms.items() if a.role == "reference"}
        out: dict[str, Any] = {
            "metric": self.metric, "higher_is_better": self.higher_is_better, "seeds": self.seeds,
            "budget": self.budget, "budget_label": self.budget_label,
            "transfer": t.to_dict() if t else None,
            "scratch": s.to_dict() if s else {"name": "scratch (skipped)", "per_seed": [], "mean": None},
            "diff": self.diff.to_dict() if self.diff else {"mean": None, "ci_low": None, "ci_high": None,
                                                           "per_seed": []},
            "verdict": self.verdict, "advice": self.advice,
            "metrics": {m: {_report_key(a): a.metrics.get(m, float("nan")) for a in self.arms.values()}
                        for m in (t.metrics if t else {})},
            "time_to_scratch_best": self.time_to_scratch_best, "others": others,
            "versus": {k: d.to_dict() for k, d in self.versus.items()},
            "strategy": self.strategy, "n_labelled": self.n_labelled,
        }
        src = self.arm("source_only")
        if src is not None:
            out["source_only"] = {**src.to_dict(), "metrics": src.metrics}
        return out


def _report_key(arm: ArmResult) -> str:
    return {"transfer": "transfer", "baseline": "scratch", "source_only": "source_only"}.get(arm.role, arm.key)


@dataclass
class ExperimentResult:
    """Budgets in the order run; where transfer stops helping."""

    budgets: list[BudgetResult]

    @property
    def crossover(self) -> Any:
        """The first budget whose verdict is not ``positive`` (None: transfer helps everywhere)."""
        return next((b.budget for b in self.budgets if b.verdict != "positive"), None)

    def summary(self) -> str:
        """One sentence on where transfer stops helping."""
        if not self.budgets:
            return "no budgets were run"
        stop = next((b for b in self.budgets if b.verdict != "positive"), None)
        if stop is None:
            return f"transfer helped clearly at every budget up to {self.budgets[-1].budget_label}"
        return f"transfer stops helping clearly at {stop.budget_label} (verdict: {stop.verdict})"

    def label_efficiency(self) -> dict[str, Any]:
        """The ``label_efficiency`` section: transfer and baseline per budget, differences, the crossover."""
        return label_efficiency_section(self.budgets, self.summary())


def label_efficiency_section(budgets: list[BudgetResult], summary: str = "") -> dict[str, Any]:
    """Transfer vs baseline per budget; budgets that are not per-class counts plot by labelled examples."""
    out: dict[str, Any] = {
        "metric": budgets[0].metric if budgets else None, "budgets": [b.budget for b in budgets],
        "budget_label": "labels per class", "budget_labels": [b.budget_label for b in budgets],
        "verdicts": [b.verdict for b in budgets],
        "diff": [{k: getattr(b.diff.estimate, k) if b.diff else None for k in ("mean", "ci_low", "ci_high")}
                 for b in budgets]}
    for role, key in (("transfer", "transfer"), ("baseline", "scratch")):
        stats = [Estimate.of(b.arm(role).scores if b.arm(role) else ()) for b in budgets]
        out[key] = {"mean": [s.mean for s in stats], "ci_low": [s.ci_low for s in stats],
                    "ci_high": [s.ci_high for s in stats]}
    stop = next((b for b in budgets if b.verdict != "positive"), None)
    out["crossover"] = stop.budget if stop else None
    if not all(isinstance(b.budget, int) for b in budgets):
        out["budgets"] = [b.n_labelled for b in budgets]
        out["budget_label"] = "labelled training examples"
        out["crossover"] = stop.n_labelled if stop else None
    if summary:
        out["summary"] = summary
    return out

