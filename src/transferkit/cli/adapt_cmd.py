"""``transferkit adapt``: domain adaptation with source-only beside it, and an honest verdict.

Parses the options and calls :func:`transferkit.adaptation.run.run_adapt`; :func:`finish_run` writes
the run folder and prints the table.
"""

from __future__ import annotations

import time

import typer

from transferkit.cli._app import app
from transferkit.cli._common import finish_run, friendly_errors
from transferkit.cli._options import MLFLOW_OPTION, OUT_OPTION, batch_size_option
from transferkit.cli._shared import reads_data


@app.command("adapt")
@friendly_errors
@reads_data("source", "target", "target_test")
def adapt_command(
    source: str = typer.Option(..., "--source", "-s", help="Labelled source data (named set or path)."),
    target: str = typer.Option(
        ...,
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
        help="Labelled target examples per class for selection and the verdict (0: none).",
    ),
    seeds: int = typer.Option(3, "--seeds", min=1, help="Number of seeds (0..N-1)."),
    target_test: str | None = typer.Option(
        None,
        "--target-test",
        help="Separate labelled target test set (default: a stratified 30% of --target is held out).",
    ),
    backbone: str | None = typer.Option(
        None, "--backbone", help="Deep methods: lenet (default for images) or a backbone spec."
    ),
    steps: int = typer.Option(1000, "--steps", min=1, help="Deep methods: training steps."),
    batch_size: int = batch_size_option(64, "Deep methods: rows per stream per step."),
    lr: float = typer.Option(0.01, "--lr", help="Deep methods: initial learning rate."),
    out: str | None = OUT_OPTION,
    mlflow: str | None = MLFLOW_OPTION,
) -> None:
    """Adapt from SOURCE to TARGET with METHOD; report source-only beside it and a verdict."""
    from transferkit.adaptation.run import run_adapt
    from transferkit.reports.run import make_run_dir

    t0 = time.perf_counter()
    results = run_adapt(source, target, method, target_labels=target_labels, seeds=seeds, target_test=target_test,
                        backbone=backbone, steps=steps, batch_size=batch_size, lr=lr)
    run_dir = make_run_dir("adapt", root=out, name=results["sections"]["adaptation"]["method"])
    finish_run(run_dir, results, mlflow, started=t0)
