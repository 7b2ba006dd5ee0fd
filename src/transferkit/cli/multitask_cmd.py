"""``transferkit multitask CONFIG.yaml``: one shared model for many tasks, its gain per task measured, the model shipped.

Parses the config (with the overrides) and calls :func:`transferkit.multitask.run_multitask` (or
``resume_multitask`` with ``--resume RUN``); results.json and report.html follow the run cell by
cell, the chosen multi-task model (a trunk with a head per task) ships to ``RUN/model`` (and
``--save DIR``), and :func:`finish_run` writes the final run folder and prints the tables.
"""

from __future__ import annotations

import time

import typer
from rich.text import Text

from transferkit.cli._app import app, console
from transferkit.cli._common import finish_run, friendly_errors, rule, say
from transferkit.cli._live import SAVE_OPTION, LiveRun, resume_option
from transferkit.cli._options import MLFLOW_OPTION, OUT_OPTION, QUIET_OPTION, batch_size_option, given, seed_option
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
    seeds: int = typer.Option(None, min=1, help="Override: number of seeds (SEED..SEED+N-1)."),
    seed: int = seed_option(),
    epochs: int = typer.Option(None, min=1, help="Override: maximum epochs."),
    batch_size: int | None = batch_size_option(None, "Override: rows per training step (all tasks together)."),
    weightings: str = typer.Option(
        None, help="Override: comma-separated weightings (equal,uncertainty,dwa,gradnorm,pcgrad,cagrad)."
    ),
    out: str | None = OUT_OPTION,
    quiet: bool = QUIET_OPTION,
    mlflow: str | None = MLFLOW_OPTION,
    save: str | None = SAVE_OPTION,
    resume: str | None = resume_option("multitask"),
) -> None:
    """Train one shared trunk with a head per task, compare every task with its single-task model, ship the model."""
    from transferkit.multitask import load_config, resume_multitask, run_multitask

    if config_arg is not None and config is not None:
        raise typer.BadParameter("give the YAML config once: transferkit multitask CONFIG (or --config CONFIG)")
    config = config_arg or config
    if resume is None and config is None:
        raise typer.BadParameter("give a CONFIG.yaml (or --config CONFIG.yaml, or --resume RUN to continue a run)")
    t0 = time.perf_counter()
    step = (lambda m: None) if quiet else say
    if resume:
        rule("multitask", f": continuing {resume}")
        live = LiveRun("multitask", out, quiet, resume)
        with live:
            res = resume_multitask(resume, on_step=step, seed=given("seed", seed), on_update=live.update,
                                   on_progress=live.show)
    else:
        assert config is not None
        cfg = load_config(config, seeds=seeds, seed=given("seed", seed), epochs=epochs, weightings=weightings,
                          batch_size=batch_size)
        rule("multitask", f": {len(cfg.tasks)} tasks on one {cfg.backbone} trunk")
        live = LiveRun("multitask", out, quiet, name=cfg.name)
        with live:
            res = run_multitask(cfg, on_step=step, run_dir=live.new_dir, save=save, on_update=live.update,
                                on_progress=live.show)
    finish_run(live.folder, res, mlflow, started=t0)
    shipped = res["sections"].get("shipped") or {}
    if shipped.get("model"):
        console.print(Text.assemble((str(shipped["headline"]), "bold"), f" Why: {shipped['reason']}. Model: "
                                    f"{shipped['model']} (predict with --task NAME)"), highlight=False)
