"""``transferkit fit``: transfer a backbone to a target data set and prove it against scratch.

Parses the options and calls :func:`transferkit.experiments.fit.run_fit`; the run folder
(``results.json``, ``report.html``) and the tables come from :func:`finish_run`. Runs under
``accelerate launch`` too: every process trains, only the main one writes and prints.
"""

from __future__ import annotations

import time

import typer

from transferkit.cli._app import app
from transferkit.cli._common import (
    DATA_ROOT_OPTION,
    MLFLOW_OPTION,
    RUNS_OPTION,
    finish_run,
    friendly_errors,
    rule,
    say,
    set_data_root,
)


@app.command("fit")
@friendly_errors
def fit(
    target: str = typer.Option(..., "--target", help="Target data: a named set (sms-spam, usps@train) or a path."),
    backbone: str = typer.Option(..., "--backbone", help="Backbone spec (minilm, smallcnn, timm:..., zoo:...)."),
    strategy: str = typer.Option("auto", help="Strategy name (auto, linear_probe, finetune, lp_ft, l2sp, ...)."),
    budgets: str = typer.Option("10,50,all", help="Label budgets: per class (10), fractions (0.1), stratified "
                                "totals (64total) or all."),
    seeds: int = typer.Option(5, help="Paired seeds per budget."),
    source: str | None = typer.Option(None, "--source", help="Pre-train the backbone on this labelled source first."),
    target_test: str | None = typer.Option(None, "--target-test", help="Official target test split (e.g. usps@test)."),
    epochs: int = typer.Option(20, help="Training epochs per arm (both arms get the same)."),
    lr: float | None = typer.Option(None, help="Learning rate of the transfer arm (default: the strategy's)."),
    metric: str | None = typer.Option(None, help="Compared metric (default: macro_f1 if imbalanced, else accuracy)."),
    others: str = typer.Option("", help="Extra strategies to report beside transfer, comma-separated."),
    source_max: int = typer.Option(10000, help="Subsample the source to at most this many examples (0: all)."),
    target_max: int = typer.Option(0, help="Subsample the target to at most this many examples (0: all)."),
    source_epochs: int = typer.Option(5, help="Epochs of source pre-training."),
    batch_size: int = typer.Option(32, help="Training batch size."),
    patience: int = typer.Option(0, help="Early-stopping patience in epochs (0: none, train the whole budget)."),
    workers: int = typer.Option(0, help="DataLoader worker processes preparing batches (GPU runs: 4-8)."),
    keep_head: bool = typer.Option(True, "--keep-head/--new-head", help="With --source and the same label set: "
                                   "start from the source head (default) or a new one."),
    data_root: str = DATA_ROOT_OPTION,
    runs: str = RUNS_OPTION,
    quiet: bool = typer.Option(False, "--quiet", help="No progress messages."),
    mlflow: str | None = MLFLOW_OPTION,
) -> None:
    """Transfer a backbone to a target and prove it: strategy vs scratch over paired seeds and label budgets."""
    import torch
    from accelerate import PartialState

    from transferkit.experiments.fit import run_fit
    from transferkit.reports.run import make_run_dir

    set_data_root(data_root)
    # cpu=True on CPU-only machines so that `accelerate launch` / torchrun processes join a gloo group
    main = PartialState(cpu=not torch.cuda.is_available()).is_main_process
    t0 = time.perf_counter()
    if main:
        rule("fit", f": {backbone} -> {target} ({strategy})")
    on_step = say if (main and not quiet) else None
    res = run_fit(target, backbone, strategy, budgets=budgets, seeds=seeds, source=source, target_test=target_test,
                  epochs=epochs, lr=lr, metric=metric, others=others, source_max=source_max or None,
                  target_max=target_max or None, source_epochs=source_epochs, batch_size=batch_size,
                  patience=patience or None, keep_head=keep_head, on_step=on_step, workers=workers)
    if main:
        finish_run(make_run_dir("fit", runs), res, mlflow, started=t0)
