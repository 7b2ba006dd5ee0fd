"""``transferkit fit``: transfer a backbone to a target data set, prove it against scratch, ship the model.

Parses the options and calls :func:`transferkit.experiments.fit.run_fit` (or ``resume_fit`` with
``--resume RUN``); the run folder (``results.json``, ``report.html``, rewritten after every cell, and
``model/``) and the tables come from :func:`finish_run`. Runs under ``accelerate launch`` too: every
process trains, only the main one writes and prints.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from transferkit.cli._app import app, console
from transferkit.cli._common import finish_run, friendly_errors, rule, say
from transferkit.cli._options import (
    MLFLOW_OPTION,
    OUT_OPTION,
    QUIET_OPTION,
    WORKERS_OPTION,
    batch_size_option,
    given,
    seed_option,
)
from transferkit.cli._shared import reads_data


@app.command("fit")
@friendly_errors
@reads_data("target", "source", "target_test")
def fit(
    target: str | None = typer.Option(None, "--target", "-t", help="Target data: a named set (sms-spam, usps@train) or a "
                                      "path."),
    backbone: str | None = typer.Option(None, "--backbone", "-b", help="Backbone spec (minilm, smallcnn, timm:..., zoo:..., "
                                        "model:RUN/model)."),
    strategy: str = typer.Option("auto", help="Strategy name (auto, linear_probe, finetune, lp_ft, l2sp, ...); options "
                                "after ? (auto?search=full trains every candidate in full; the default halves)."),
    budgets: str = typer.Option("10,50,all", help="Label budgets: per class (10), fractions (0.1), stratified "
                                "totals (64total) or all."),
    seeds: int = typer.Option(5, help="Paired seeds per budget."),
    seed: int = seed_option(),
    source: str | None = typer.Option(None, "--source", "-s", help="Pre-train the backbone on this labelled source first."),
    target_test: str | None = typer.Option(None, "--target-test", help="Official target test split (e.g. usps@test)."),
    epochs: int = typer.Option(20, help="Training epochs per arm (both arms get the same)."),
    lr: float | None = typer.Option(None, help="Learning rate of the transfer arm (default: the strategy's)."),
    metric: str | None = typer.Option(None, help="Compared metric (default: macro_f1 if imbalanced, else accuracy)."),
    others: str = typer.Option("", help="Extra strategies to report beside transfer, comma-separated."),
    source_max: int = typer.Option(10000, help="Subsample the source to at most this many examples (0: all)."),
    target_max: int = typer.Option(0, help="Subsample the target to at most this many examples (0: all)."),
    source_epochs: int = typer.Option(5, help="Epochs of source pre-training."),
    batch_size: int = batch_size_option(32, "Training batch size.", min_value=None),
    patience: int = typer.Option(0, help="Early-stopping patience in epochs (0: none, train the whole budget)."),
    workers: int = WORKERS_OPTION,
    keep_head: bool = typer.Option(True, "--keep-head/--new-head", help="With --source and the same label set: "
                                   "start from the source head (default) or a new one."),
    out: str | None = OUT_OPTION,
    quiet: bool = QUIET_OPTION,
    mlflow: str | None = MLFLOW_OPTION,
    save: str | None = typer.Option(None, "--save", metavar="DIR", help="Also copy the shipped model folder to DIR "
                                    "(every run writes it to RUN/model)."),
    resume: str | None = typer.Option(None, "--resume", metavar="RUN", help="Continue the fit run in folder RUN where "
                                      "it stopped (its own settings are used; other options are ignored, and another --seed is refused)."),
    min_test_per_class: int = typer.Option(10, "--min-test-per-class", help="Fewer test examples than this in any "
                                           "class and the verdict is 'insufficient test data'."),
    classical: bool = typer.Option(True, "--classical/--no-classical", help="Also fit the classical baseline "
                                   "(TF-IDF + logistic regression, gradient boosting, or pixels + logistic regression) "
                                   "and report it beside scratch with its own verdict."),
    scratch_min_steps: int = typer.Option(300, "--scratch-min-steps", help="The fewest optimiser steps the scratch "
                                          "baseline trains (it also gets at least --epochs)."),
    validation: str = typer.Option("holdout", "--validation", help="How choices inside the budget are made (auto's "
                                   "strategy, learning rates, epochs, the model to ship): holdout (on a validation "
                                   "split of the budget) or cv (mean over --cv-folds folds; then every label trains)."),
    cv_folds: int = typer.Option(5, "--cv-folds", help="Folds of --validation cv (every class needs at least this "
                                 "many labels in each budget)."),
) -> None:
    """Transfer a backbone to a target and prove it: strategy vs scratch over paired seeds and label budgets."""
    import torch
    from accelerate import PartialState

    from transferkit.experiments.fit import resume_fit, run_fit
    from transferkit.reports.run import RunWriter, make_run_dir

    # cpu=True on CPU-only machines so that `accelerate launch` / torchrun processes join a gloo group
    main = PartialState(cpu=not torch.cuda.is_available()).is_main_process
    t0 = time.perf_counter()
    if resume is None and (target is None or backbone is None):
        raise typer.BadParameter("--target and --backbone are needed (or --resume RUN to continue a run)")
    folder: list[Path] = [Path(resume)] if resume else []
    if main:
        title = f"continuing {resume}" if resume else f"{backbone} -> {target} ({strategy})"
        rule("fit", f": {title}")
    on_step = say if (main and not quiet) else None
    status = console.status("") if (main and not quiet and console.is_terminal) else None

    def new_dir() -> Path:  # called by run_fit once every option has been checked
        folder.append(make_run_dir("fit", out))
        return folder[0]

    writer: list[RunWriter] = []

    def update(res: dict[str, Any]) -> None:  # results.json after every cell, report.html when it is cheap
        if not writer:
            writer.append(RunWriter(folder[0]))
        writer[0](res)

    def show(p: Any) -> None:
        if status is not None:
            status.update(p.line())
        else:
            console.print(Text(p.line(), style="dim"), highlight=False)

    hooks: dict[str, Any] = {"on_step": on_step, "on_update": update if main else None,
                             "on_progress": show if (main and not quiet) else None}
    if status is not None:
        status.start()
    try:
        if resume:
            res = resume_fit(resume, workers=workers, seed=given("seed", seed), **hooks)
        else:
            assert target is not None and backbone is not None
            res = run_fit(target, backbone, strategy, budgets=budgets, seeds=seeds, source=source,
                          target_test=target_test, epochs=epochs, lr=lr, metric=metric, others=others,
                          source_max=source_max or None, target_max=target_max or None, source_epochs=source_epochs,
                          batch_size=batch_size, patience=patience or None, keep_head=keep_head, workers=workers,
                          run_dir=new_dir if main else None, save=save if main else None,
                          min_test_per_class=min_test_per_class, classical=classical,
                          scratch_min_steps=scratch_min_steps, seed=seed, validation=validation, cv_folds=cv_folds,
                          **hooks)
    except KeyboardInterrupt:
        if status is not None:
            status.stop()
        if main and folder:
            where = str(folder[0])
            done = (f"the report in {where} is marked incomplete" if (folder[0] / "results.json").is_file()
                    else f"no cell had finished in {where}")
            console.print(Text.assemble(("stopped:", "bold yellow"), f" {done}; continue with: transferkit fit "
                                        f"--resume {where}"))
        raise typer.Exit(130) from None
    finally:
        if status is not None:
            status.stop()
    if main:
        finish_run(folder[0], res, mlflow, started=t0)
