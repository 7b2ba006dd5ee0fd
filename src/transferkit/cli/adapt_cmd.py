"""``transferkit adapt``: domain adaptation with source-only beside it, an honest verdict, and the recommended model.

Parses the options and calls :func:`transferkit.adaptation.run.run_adapt` (or ``resume_adapt`` with
``--resume RUN``); results.json and report.html follow the run cell by cell, the recommended model
ships to ``RUN/model`` (and ``--save DIR``), and :func:`finish_run` writes the final run folder and
prints the table.
"""

from __future__ import annotations

import time

import typer
from rich.text import Text

from transferkit.cli import _options as opt
from transferkit.cli._app import app, console
from transferkit.cli._common import finish_run, friendly_errors
from transferkit.cli._live import SAVE_OPTION, LiveRun, resume_option
from transferkit.cli._shared import reads_data


@app.command("adapt")
@friendly_errors
@reads_data("source", "target", "target_test")
def adapt_command(
    source: str | None = typer.Option(None, "--source", "-s", help="Labelled source data (named set or path)."),
    target: str | None = typer.Option(
        None,
        "--target",
        "-t",
        help="Target data; its labels are only used for the "
        "held-out test accuracy and the --target-labels examples.",
    ),
    method: str = typer.Option("dann", "--method", help="Adaptation method (shallow or deep)."),
    target_labels: int = typer.Option(
        0,
        "--target-labels",
        min=0,
        help="Labelled target examples per class (0: none): half of each class trains every model beside the "
        "source, the other half selects and decides the verdict (see --train-on-target-labels).",
    ),
    train_on_target_labels: bool = typer.Option(
        True,
        "--train-on-target-labels/--select-only",
        help="With --target-labels: split them per class, half train (semi-supervised DA) and half select; "
        "--select-only: all of them select and judge, none trains.",
    ),
    seeds: int = typer.Option(3, "--seeds", min=1, help="Number of seeds (SEED..SEED+N-1)."),
    seed: int = opt.seed_option(),
    target_test: str | None = typer.Option(
        None,
        "--target-test",
        help="Separate labelled target test set (default: a stratified 30% of --target is held out).",
    ),
    backbone: str | None = typer.Option(
        None, "--backbone", help="Deep methods: lenet (default for images) or a backbone spec."
    ),
    steps: int = typer.Option(1000, "--steps", min=1, help="Deep methods: training steps."),
    batch_size: int = opt.batch_size_option(64, "Deep methods: rows per stream per step."),
    lr: float = typer.Option(0.01, "--lr", help="Deep methods: initial learning rate."),
    workers: int = opt.WORKERS_OPTION,
    out: str | None = opt.OUT_OPTION,
    mlflow: str | None = opt.MLFLOW_OPTION,
    save: str | None = SAVE_OPTION,
    resume: str | None = resume_option("adapt"),
    quiet: bool = opt.QUIET_OPTION,
) -> None:
    """Adapt from SOURCE to TARGET with METHOD; report source-only beside it, a verdict, and ship the recommended
    model."""
    from transferkit.adaptation.run import resume_adapt, run_adapt

    if resume is None and (source is None or target is None):
        raise typer.BadParameter("--source and --target are needed (or --resume RUN to continue a run)")
    t0 = time.perf_counter()
    live = LiveRun("adapt", out, quiet, resume, name=method)
    with live:
        if resume:
            results = resume_adapt(resume, seed=opt.given("seed", seed), workers=workers, on_update=live.update,
                                   on_progress=live.show)
        else:
            results = run_adapt(source, target, method, target_labels=target_labels,
                                train_on_target_labels=train_on_target_labels, seeds=seeds, seed=seed,
                                workers=workers, target_test=target_test, backbone=backbone, steps=steps,
                                batch_size=batch_size, lr=lr, run_dir=live.new_dir, save=save, on_update=live.update,
                                on_progress=live.show)
    finish_run(live.folder, results, mlflow, started=t0)
    shipped = results["sections"].get("shipped") or {}
    if shipped.get("model"):
        console.print(Text.assemble((str(shipped["headline"]), "bold"), f" Why: {shipped['reason']}. Model: "
                                    f"{shipped['model']}"), highlight=False)
