"""``transferkit multitask CONFIG.yaml``: one shared model for many tasks, its gain per task measured.

Parses the config (with the overrides) and calls :func:`transferkit.multitask.run_multitask`;
:func:`finish_run` writes the run folder and prints the tables.
"""

from __future__ import annotations

import time

import typer

from transferkit.cli._app import app
from transferkit.cli._common import finish_run, friendly_errors, rule, say
from transferkit.cli._options import MLFLOW_OPTION, OUT_OPTION, QUIET_OPTION
from transferkit.cli._shared import reads_data


@app.command("multitask")
@friendly_errors
@reads_data(columns=False)
def multitask(
    config_arg: str | None = typer.Argument(
        None,
        metavar="CONFIG",
        help="YAML config: backbone, tasks (name, data, head, budget), weightings, "
        "seeds, epochs (see examples/multitask_heart.yaml); or give it as --config.",
    ),
    config: str | None = typer.Option(None, "--config", "-c", metavar="FILE", help="The YAML config (the same as "
                                      "CONFIG); options on the command line override it."),
    seeds: int = typer.Option(None, min=1, help="Override: number of seeds (0..N-1)."),
    epochs: int = typer.Option(None, min=1, help="Override: maximum epochs."),
    weightings: str = typer.Option(
        None, help="Override: comma-separated weightings (equal,uncertainty,dwa,gradnorm,pcgrad,cagrad)."
    ),
    out: str | None = OUT_OPTION,
    quiet: bool = QUIET_OPTION,
    mlflow: str | None = MLFLOW_OPTION,
) -> None:
    """Train one shared trunk with a head per task and compare every task with its single-task model."""
    from transferkit.multitask import load_config, run_multitask
    from transferkit.reports.run import make_run_dir

    if (config_arg is None) == (config is None):
        raise typer.BadParameter("give the YAML config once: transferkit multitask CONFIG (or --config CONFIG)")
    cfg = load_config(config_arg or config, seeds=seeds, epochs=epochs, weightings=weightings)
    rule("multitask", f": {len(cfg.tasks)} tasks on one {cfg.backbone} trunk")
    t0 = time.perf_counter()
    res = run_multitask(cfg, on_step=(lambda m: None) if quiet else say)
    finish_run(make_run_dir("multitask", out, cfg.name), res, mlflow, started=t0)
