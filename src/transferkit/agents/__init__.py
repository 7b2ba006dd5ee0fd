"""Game agents: RL transfer across physics variants of gymnasium environments (optional extra ``agents``)."""

from transferkit.agents.metrics import area_under_curve, asymptotic_return, jumpstart, time_to_threshold, transfer_ratio
from transferkit.agents.transfer import (
    AgentsConfig,
    evaluate,
    learn_with_curve,
    run_agents,
    run_agents_experiment,
    summarize_variant,
    target_run,
    transfer_weights,
)
from transferkit.agents.variants import PHYSICS, AgentsError, Variant, apply_physics, parse_variant, parse_variants

__all__ = [
    "PHYSICS",
    "AgentsConfig",
    "AgentsError",
    "Variant",
    "apply_physics",
    "area_under_curve",
    "asymptotic_return",
    "evaluate",
    "jumpstart",
    "learn_with_curve",
    "parse_variant",
    "parse_variants",
    "run_agents",
    "run_agents_experiment",
    "summarize_variant",
    "target_run",
    "time_to_threshold",
    "transfer_ratio",
    "transfer_weights",
]
