"""``transferkit agents``: RL transfer across physics variants (Stable-Baselines3, optional extra).

Parses the options and calls :func:`transferkit.agents.run_agents_experiment`; :func:`finish_run`
writes the run folder and prints the table.
"""

from __future__ import annotations

import time

import typer

from transferkit.cli._app import app
from transferkit.cli._common import finish_run, friendly_errors, say, set_device
from transferkit.cli._options import DEVICE_OPTION, MLFLOW_OPTION, OUT_OPTION, QUIET_OPTION, seed_option


@app.command("agents")
@friendly_errors
def agents(
    env: str = typer.Option("CartPole-v1", "--env", help="Gymnasium id: CartPole-v1, Acrobot-v1, MountainCar-v0."),
    source: str = typer.Option("default", help="Source physics, e.g. default or length=0.5."),
    variants: str = typer.Option("length=1.0,gravity=19.6,length=0.1,force_mag=3",
                                 help="Target physics, comma-separated name=value (join several with ';')."),
    seeds: int = typer.Option(5, min=1, help="Paired seeds per variant."),
    seed: int = seed_option(),
    algo: str = typer.Option("ppo", help="ppo or dqn."),
    source_steps: int = typer.Option(50_000, min=1, help="Environment steps for the source agent."),
    steps: int = typer.Option(12_000, "--steps", min=1, help="Environment steps per target run (transfer and scratch)."),
    eval_every: int = typer.Option(1_500, min=1, help="Evaluate the greedy policy every this many steps."),
    eval_episodes: int = typer.Option(3, min=1, help="Episodes per evaluation point."),
    threshold: float = typer.Option(None, help="Return for time-to-threshold (default: the env's, 475 for "
                                               "CartPole-v1)."),
    transfer: str = typer.Option("all", help="all (policy + value networks) or policy (actor only, PPO)."),
    n_jobs: int = typer.Option(1, "--n-jobs", min=1, help="Target runs in parallel worker processes."),
    device: str = DEVICE_OPTION,
    out: str | None = OUT_OPTION,
    quiet: bool = QUIET_OPTION,
    mlflow: str | None = MLFLOW_OPTION,
) -> None:
    """Train a source agent, transfer its networks to changed-physics worlds, and measure jumpstart, time to
    threshold, area under the curve, transfer ratio and asymptotic return against scratch."""
    from transferkit.agents import AgentsConfig, run_agents_experiment
    from transferkit.reports.run import make_run_dir

    set_device(device)
    cfg = AgentsConfig(env_id=env, source=source, variants=tuple(v for v in variants.split(",") if v.strip()),
                       seeds=seeds, algo=algo, source_steps=source_steps, target_steps=steps,
                       eval_every=eval_every, eval_episodes=eval_episodes, threshold=threshold, transfer=transfer,
                       n_jobs=n_jobs, seed=seed)
    t0 = time.perf_counter()
    res = run_agents_experiment(cfg, on_step=None if quiet else say)
    finish_run(make_run_dir("agents", out), res, mlflow, started=t0)
