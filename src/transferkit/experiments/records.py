"""Typed result records: what the runner returns, what results.json holds, what every renderer reads.

Each record is a dataclass with ``to_dict()`` (its JSON form). An interval is always an
:class:`Estimate`; a verdict always comes from :func:`transferkit.evaluation.stats.verdict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from transferkit.evaluation.stats import NO_VERDICT, VERDICT_ADVICE, mean_ci, paired_difference


@dataclass(frozen=True)
class Estimate:
    """A mean with its 95% interval and the values behind it (per seed, or per subject)."""

    mean: float | None
    ci_low: float | None
    ci_high: float | None
    per_seed: tuple[float, ...] = ()

    @classmethod
    def of(cls, values: list[float] | tuple[float, ...], value_range: tuple[float, float] | None = None) -> Estimate:
        """Mean and Student-t interval of independent values (clipped to ``value_range`` when given)."""
        if not len(values):
            return cls(None, None, None, ())
        m, lo, hi = mean_ci(list(values))
        if value_range is not None:
            lo, hi = max(lo, value_range[0]), min(hi, value_range[1])
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
    method: str = "paired Student-t interval over seeds"

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
        return {**self.estimate.to_dict(), "verdict": self.verdict, "a": self.a, "b": self.b, "method": self.method}


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
    shipped: Shipped | None = None  # the never-worse gate's choice at this budget
    notes: list[str] = field(default_factory=list)  # shown beside the verdict (no call made, metrics disagree)
    examples: dict[str, Any] = field(default_factory=dict)  # per-example test labels and predictions per seed
    validation: dict[str, Any] = field(default_factory=dict)  # how choices were made: holdout, or cv with CV scores
    # the fitted network of the shipped arm's best-validation seed (not part of the record's JSON form)
    shipped_model: Any = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        """One line: the budget, each arm's mean, the difference and the verdict (no curves or matrices)."""
        arms = ", ".join(f"{a.key} {a.mean:.4f}" if a.mean is not None else f"{a.key} -" for a in self.arms.values())
        d = self.diff.estimate if self.diff is not None else None
        diff = (f", diff {d.mean:+.4f} [{d.ci_low:+.4f}, {d.ci_high:+.4f}]"
                if d is not None and None not in (d.mean, d.ci_low, d.ci_high) else "")
        return (f"BudgetResult({self.budget_label}, {self.metric} over {len(self.seeds)} seeds: {arms}{diff}, "
                f"{self.verdict})")

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
            "strategy": self.strategy, "n_labelled": self.n_labelled, "notes": list(self.notes),
            "interval_method": self.diff.method if self.diff else None, "examples": self.examples,
        }
        if self.validation:
            out["validation"] = self.validation
        src = self.arm("source_only")
        if src is not None:
            out["source_only"] = {**src.to_dict(), "metrics": src.metrics}
        if self.shipped is not None:
            out["shipped"] = self.shipped.to_dict()
        return out


SHIP_ROLES = ("transfer", "baseline", "source_only")
"""The arms the never-worse gate chooses among, in the order it prefers them on a validation tie."""

_ROLE_WORDS = {"transfer": "the transfer model", "baseline": "the baseline trained from scratch",
               "source_only": "the source model as it is"}


@dataclass(frozen=True)
class CellResult:
    """One arm fitted at one seed and budget and scored: what the runner keeps per (budget, seed, arm) cell.

    ``val_score`` is the best validation score (the loop's ``select_metric``, higher is better); the
    test ``metrics`` are computed after the fit, from a model that never saw the test split.
    """

    arm: str
    seed: int
    metrics: dict[str, float]
    val_score: float
    n_train: int
    n_val: int
    trained: bool = False  # the arm ran a training loop (it has a history and a best epoch)
    best_epoch: int = -1
    history: tuple[dict[str, Any], ...] = ()
    info: dict[str, Any] = field(default_factory=dict)
    confusion: list[list[int]] | None = None
    # the test labels and this arm's prediction per test example (class index, or predicted values for
    # regression), in the test split's order: what the bootstrap resamples
    test_y: tuple[Any, ...] = ()
    test_pred: tuple[Any, ...] = ()

    def __repr__(self) -> str:
        """One line: arm, seed, sizes, validation score and test metrics (no history or confusion matrix)."""
        metrics = ", ".join(f"{k} {v:.4f}" for k, v in self.metrics.items() if isinstance(v, (int, float)))
        return (f"CellResult({self.arm}, seed {self.seed}, n_train={self.n_train}, n_val={self.n_val}, "
                f"val {self.val_score:.4f}, {metrics})")

    def curve(self) -> dict[str, list[float]]:
        """Numeric columns of the history (what ``TrainResult.curve`` gives)."""
        keys = [k for k, v in self.history[0].items() if isinstance(v, (int, float))] if self.history else []
        return {k: [h[k] for h in self.history] for k in keys}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (non-finite numbers are kept as strings so a resumed run reads them back exactly)."""
        return {"arm": self.arm, "seed": self.seed, "metrics": {k: _num_out(v) for k, v in self.metrics.items()},
                "val_score": _num_out(self.val_score), "n_train": self.n_train, "n_val": self.n_val,
                "trained": self.trained, "best_epoch": self.best_epoch,
                "history": [{k: _num_out(v) for k, v in h.items()} for h in self.history],
                "info": self.info, "confusion": self.confusion, "test_y": list(self.test_y),
                "test_pred": list(self.test_pred)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CellResult:
        """The inverse of :meth:`to_dict`."""
        return cls(str(d["arm"]), int(d["seed"]), {k: _num_in(v) for k, v in d["metrics"].items()},
                   _num_in(d["val_score"]), int(d["n_train"]), int(d["n_val"]), bool(d.get("trained")),
                   int(d.get("best_epoch", -1)), tuple({k: _num_in(v) for k, v in h.items()}
                                                       for h in d.get("history") or ()),
                   dict(d.get("info") or {}), d.get("confusion"), tuple(d.get("test_y") or ()),
                   tuple(d.get("test_pred") or ()))


def _num_out(v: Any) -> Any:
    if isinstance(v, float) and not np.isfinite(v):
        return repr(v)  # 'nan', 'inf', '-inf'
    return v


def _num_in(v: Any) -> Any:
    return float(v) if isinstance(v, str) and v in ("nan", "inf", "-inf") else v


@dataclass(frozen=True)
class Shipped:
    """The never-worse gate's choice: which arm's model a run ships, and why, in one line.

    Chosen on validation only (mean best-validation score over seeds); the weights are those of the
    chosen arm's best-validation seed. The test figures are read after the choice. A negative verdict
    ships the baseline whatever validation said (``by_test_verdict`` then says the test verdict decided).
    """

    arm: str
    name: str
    role: str
    seed: int | None
    budget: Any
    budget_label: str
    reason: str
    select_metric: str
    val: dict[str, float | None]  # candidate arm -> mean best-validation score
    metric: str
    higher_is_better: bool
    test: Estimate  # the shipped arm's test metric over seeds
    test_seed: float | None  # the test score of the seed whose weights ship
    verdict: str
    by_test_verdict: bool = False
    model: str | None = None  # the model folder, once written
    selected_on: str = "validation"  # or "5-fold CV": what ``val`` holds

    @property
    def headline(self) -> str:
        """The report's first line."""
        what = _ROLE_WORDS.get(self.role, self.name)
        if self.verdict == "negative" and self.role == "baseline":
            return (f"Negative transfer at {self.budget_label}: this run ships {what} ({self.name}), "
                    "not the transfer model.")
        seed = f", seed {self.seed}" if self.seed is not None and self.role != "source_only" else ""
        return f"This run ships {what} ({self.name}), trained at {self.budget_label}{seed}."

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``results["sections"]["shipped"]``)."""
        return {"arm": self.arm, "name": self.name, "role": self.role, "seed": self.seed, "budget": self.budget,
                "budget_label": self.budget_label, "reason": self.reason, "headline": self.headline,
                "select_metric": self.select_metric,
                "val": {k: v if v is not None and np.isfinite(v) else None for k, v in self.val.items()},
                "metric": self.metric, "higher_is_better": self.higher_is_better, "test": self.test.to_dict(),
                "test_seed": self.test_seed, "verdict": self.verdict, "by_test_verdict": self.by_test_verdict,
                "model": self.model, "selected_on": self.selected_on}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Shipped:
        """The inverse of :meth:`to_dict` (``headline`` is derived)."""
        t = d.get("test") or {}
        return cls(d["arm"], d["name"], d["role"], d.get("seed"), d.get("budget"), d.get("budget_label", ""),
                   d.get("reason", ""), d.get("select_metric", ""), dict(d.get("val") or {}), d.get("metric", ""),
                   bool(d.get("higher_is_better", True)),
                   Estimate(t.get("mean"), t.get("ci_low"), t.get("ci_high"), tuple(t.get("per_seed") or ())),
                   d.get("test_seed"), d.get("verdict", "inconclusive"), bool(d.get("by_test_verdict")),
                   d.get("model"), d.get("selected_on", "validation"))


def choose_shipped(result: BudgetResult, select_metric: str, on: str = "validation") -> Shipped | None:
    """The never-worse gate: the arm to ship among transfer, baseline and source-only, on validation only.

    Each candidate's mean best-validation score over seeds (``on`` names it: ``5-fold CV`` when the
    scores are cross-validation scores) decides (ties prefer transfer, then the
    baseline, then the source model); the weights are the chosen arm's best-validation seed. A
    negative verdict ships the baseline. Returns None when no candidate arm ran.
    """
    cands = [a for role in SHIP_ROLES for a in result.arms.values() if a.role == role]
    if not cands:
        return None
    means: dict[str, float] = {}
    for a in cands:
        finite = [v for v in a.val_scores if v is not None and np.isfinite(v)]
        means[a.key] = float(np.mean(finite)) if finite else float("nan")
    scored = [a for a in cands if np.isfinite(means[a.key])]
    words = {"transfer": "transfer", "baseline": "scratch", "source_only": "source-only"}

    def vs(chosen: ArmResult) -> str:
        rest = [f"{words.get(a.role, a.key)} {means[a.key]:.3f}" for a in scored if a is not chosen]
        return f"{words.get(chosen.role, chosen.key)} {means[chosen.key]:.3f}" + (f" vs {', '.join(rest)}" if rest
                                                                                  else "")

    by_test = False
    if scored:
        best = max(scored, key=lambda a: means[a.key] - 1e-12 * SHIP_ROLES.index(a.role))  # ties: role order
        reason = f"best mean {on} {select_metric} over {len(result.seeds)} seeds ({vs(best)})"
    else:
        best = cands[0]
        reason = "no validation scores to choose on: the first candidate ships by default"
    base = result.arm("baseline")
    if result.verdict == "negative" and base is not None and best is not base:
        by_test = best.role == "transfer"
        preferred = words.get(best.role, best.key)
        best = base
        reason = (f"the verdict is negative transfer, so the baseline ships ({on} preferred {preferred}"
                  + (f": {vs(base)})" if scored else ")"))
    seed_i = _best_seed(best)
    seed = result.seeds[seed_i] if seed_i is not None and seed_i < len(result.seeds) else None
    return Shipped(best.key, best.name, best.role, seed, result.budget, result.budget_label, reason, select_metric,
                   {a.key: means[a.key] for a in cands}, result.metric, result.higher_is_better,
                   Estimate.of(best.scores, value_range(result.metric)), best.scores[seed_i] if seed_i is not None and best.scores else None,
                   result.verdict, by_test, selected_on=on)


def _best_seed(arm: ArmResult) -> int | None:
    """Index of the seed with the best validation score (the first on ties; the first seed without scores)."""
    if not arm.scores:
        return None
    vals = [v if v is not None and np.isfinite(v) else -np.inf for v in arm.val_scores[: len(arm.scores)]]
    return int(np.argmax(vals)) if vals else 0


def _stops(b: BudgetResult) -> bool:
    """Whether transfer stopped helping at ``b``: inconclusive or negative (a no-call verdict says nothing)."""
    return b.verdict in ("inconclusive", "negative")


def value_range(metric: str) -> tuple[float, float]:
    """What ``metric`` can reach (intervals are clipped to it)."""
    from transferkit.evaluation.metrics import METRICS

    return METRICS.info(metric).value_range if metric in METRICS else (-np.inf, np.inf)


def _report_key(arm: ArmResult) -> str:
    return {"transfer": "transfer", "baseline": "scratch", "source_only": "source_only"}.get(arm.role, arm.key)


@dataclass
class ExperimentResult:
    """Budgets in the order run; where transfer stops helping."""

    budgets: list[BudgetResult]

    def __repr__(self) -> str:
        """One line: each budget's verdict."""
        return f"ExperimentResult({', '.join(f'{b.budget_label}: {b.verdict}' for b in self.budgets)})"

    @property
    def crossover(self) -> Any:
        """The first budget whose verdict is inconclusive or negative (None: transfer helps wherever there is a
        verdict; budgets without one, such as ``insufficient test data``, are skipped)."""
        return next((b.budget for b in self.budgets if _stops(b)), None)

    def summary(self) -> str:
        """One sentence on where transfer stops helping."""
        if not self.budgets:
            return "no budgets were run"
        stop = next((b for b in self.budgets if _stops(b)), None)
        blank = [f"{b.budget_label} ({b.verdict})" for b in self.budgets if b.verdict in NO_VERDICT]
        also = f"; no verdict at {', '.join(blank)}" if blank else ""
        if stop is None:
            return f"transfer helped clearly at every budget with a verdict, up to {self.budgets[-1].budget_label}" + \
                also if blank else f"transfer helped clearly at every budget up to {self.budgets[-1].budget_label}"
        return f"transfer stops helping clearly at {stop.budget_label} (verdict: {stop.verdict})" + also

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
        stats = [Estimate.of(b.arm(role).scores if b.arm(role) else (), value_range(b.metric)) for b in budgets]
        out[key] = {"mean": [s.mean for s in stats], "ci_low": [s.ci_low for s in stats],
                    "ci_high": [s.ci_high for s in stats]}
    stop = next((b for b in budgets if _stops(b)), None)
    out["crossover"] = stop.budget if stop else None
    if not all(isinstance(b.budget, int) for b in budgets):
        out["budgets"] = [b.n_labelled for b in budgets]
        out["budget_label"] = "labelled examples (training + validation)"
        out["crossover"] = stop.n_labelled if stop else None
    if summary:
        out["summary"] = summary
    return out

