"""Label-efficiency curves: the transfer-vs-scratch comparison at several label budgets.

Each budget is a full :func:`~transferkit.evaluation.compare.compare` (paired seeds, CI,
verdict). The curve names the first budget where transfer stops helping clearly (its verdict is
no longer positive), or None when it helps at every budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from transferkit.evaluation.compare import Comparison, compare


@dataclass
class LabelEfficiency:
    """Comparisons per budget, in the order given, and where transfer stops helping."""

    budgets: list[Any]
    comparisons: list[Comparison] = field(default_factory=list)

    @property
    def crossover(self) -> Any:
        """The first budget whose verdict is not ``positive`` (None: transfer helps everywhere)."""
        return next((c.budget for c in self.comparisons if c.verdict != "positive"), None)

    def summary(self) -> str:
        """One sentence on where transfer stops helping."""
        if not self.comparisons:
            return "no budgets were run"
        stop = self.crossover
        if stop is None:
            return f"transfer helped clearly at every budget up to {self.comparisons[-1].budget_label}"
        c = next(c for c in self.comparisons if c.budget == stop)
        return f"transfer stops helping clearly at {c.budget_label} (verdict: {c.verdict})"

    def section(self) -> dict[str, Any]:
        """The ``results["sections"]["label_efficiency"]`` dict (same keys as the demo's)."""
        from transferkit.demo import label_efficiency_section

        out = label_efficiency_section([c.section() for c in self.comparisons])
        out["budget_labels"] = [c.budget_label for c in self.comparisons]
        if not all(isinstance(c.budget, int) for c in self.comparisons):
            # "all", fractions and totals have no per-class count: plot against labelled examples instead
            n = {str(c.budget): c.n_labelled for c in self.comparisons}
            out["budgets"] = [c.n_labelled for c in self.comparisons]
            out["budget_label"] = "labelled training examples"
            out["crossover"] = n.get(str(out["crossover"])) if out["crossover"] is not None else None
        out["summary"] = self.summary()
        return out


def label_efficiency(target: Any, backbone: Any, strategy: Any = "auto",
                     budgets: Sequence[int | float | str] = (2, 5, 10, "all"), **compare_kwargs: Any) -> LabelEfficiency:
    """Run :func:`compare` at each budget (per-class counts, fractions, or ``"all"``), same seeds each time.

    ``compare_kwargs`` go to :func:`compare` (``seeds``, ``config``, ``others``, ``on_step``...).
    A strategy given as an object is copied per budget, so ``auto`` chooses afresh at each budget.
    """
    if not budgets:
        raise ValueError("give at least one label budget")
    out = LabelEfficiency(budgets=list(budgets))
    for b in budgets:
        out.comparisons.append(compare(target, backbone, strategy, budget=b, **compare_kwargs))
    return out
