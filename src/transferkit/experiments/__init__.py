"""One experiment runner: arms x paired seeds x label budgets -> typed records.

:func:`run_experiment` is what ``compare``, ``label_efficiency``, the demo, the cross-subject
biosignal protocol and the other front ends call; :mod:`~transferkit.experiments.records` holds
the records every renderer reads; :mod:`~transferkit.experiments.arms` builds the usual arms
(transfer with a strategy, scratch, source model, linear probe);
:mod:`~transferkit.experiments.selection` lets them choose by cross-validation inside the budget.
"""

from transferkit.experiments.records import (
    ArmResult,
    BudgetResult,
    Difference,
    Estimate,
    ExperimentResult,
    label_efficiency_section,
)
from transferkit.experiments.runner import (
    Arm,
    Fitted,
    Folds,
    Split,
    budget_label,
    default_metric,
    run_budget,
    run_experiment,
    task_metrics,
    time_to_reach,
)

__all__ = [
    "Arm",
    "ArmResult",
    "BudgetResult",
    "Difference",
    "Estimate",
    "ExperimentResult",
    "Fitted",
    "Folds",
    "Split",
    "budget_label",
    "default_metric",
    "label_efficiency_section",
    "run_budget",
    "run_experiment",
    "task_metrics",
    "time_to_reach",
]
