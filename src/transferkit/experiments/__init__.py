"""One experiment runner: arms x paired seeds x label budgets -> typed records.

:func:`run_experiment` is what ``compare``, ``label_efficiency``, the demo, the cross-subject
biosignal protocol and the other front ends call; :mod:`~transferkit.experiments.records` holds
the records every renderer reads; :mod:`~transferkit.experiments.arms` builds the usual arms
(transfer with a strategy, scratch, source model, linear probe).
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
    "Split",
    "budget_label",
    "default_metric",
    "label_efficiency_section",
    "run_budget",
    "run_experiment",
    "task_metrics",
    "time_to_reach",
]
