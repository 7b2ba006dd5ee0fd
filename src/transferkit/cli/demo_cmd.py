"""``transferkit demo``: transfer vs scratch on embedded data (:func:`transferkit.demo.run_demo`)."""

from __future__ import annotations

import contextlib
import time

import typer

from transferkit.cli import _options as opt
from transferkit.cli._app import app, console
from transferkit.cli._common import finish_run, friendly_errors, rule, say, set_device


@app.command("demo")
@friendly_errors
def demo(
    seeds: int = typer.Option(5, min=1, help="Paired seeds per label budget."),
    seed: int = opt.seed_option(),
    budgets: str = typer.Option("2,5,10", help="Labelled target images per class, comma-separated."),
    batch_size: int = opt.batch_size_option(16, "Target training batch size (transfer and scratch)."),
    workers: int = opt.WORKERS_OPTION,
    device: str = opt.DEVICE_OPTION,
    out: str | None = opt.OUT_OPTION,
    quiet: bool = opt.QUIET_OPTION,
    mlflow: str | None = opt.MLFLOW_OPTION,
) -> None:
    """Transfer vs scratch on embedded data (digits 0-4 -> 5-9): no files, no network, ~2 minutes."""
    from transferkit.demo import DemoConfig, run_demo
    from transferkit.reports.run import make_run_dir

    set_device(device)
    cfg = DemoConfig(seeds=seeds, budgets=tuple(int(b) for b in budgets.split(",")), progress=not quiet, seed=seed,
                     batch_size=batch_size, workers=workers)
    rule("demo", ": does a CNN pre-trained on digits 0-4 help learn 5-9 from few labels?")
    t0 = time.perf_counter()
    with console.status("working...") if quiet else contextlib.nullcontext():
        res = run_demo(cfg, on_step=say)
    finish_run(make_run_dir("demo", out), res, mlflow, started=t0)
