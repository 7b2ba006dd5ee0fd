"""``transferkit predict MODEL DATA``: label new data with a shipped model, into a CSV file.

Calls :func:`transferkit.experiments.predict.run_predict`. MODEL is a model folder (``RUN/model`` of a
fit, adapt, multitask or har run, or ``--save DIR``); it is verified before use. A multi-task model
predicts one task at a time (``--task NAME``). DATA is a named set or a path in any supported
format, labels optional. Progress is a bar in a terminal and plain lines otherwise.
"""

from __future__ import annotations

import time

import typer
from rich.text import Text

from transferkit.cli._app import app, console
from transferkit.cli._common import friendly_errors, say
from transferkit.cli._options import QUIET_OPTION, batch_size_option
from transferkit.cli._shared import reads_data


@app.command("predict")
@friendly_errors
@reads_data("data")
def predict(
    model: str = typer.Argument(..., help="Shipped model folder (RUN/model, or a --save DIR)."),
    data: str = typer.Argument(..., help="Data to label: a named set (usps@test) or a path (folder, CSV, npz...)."),
    out: str = typer.Option("predictions.csv", "--out", "-o", metavar="FILE", help="CSV file to write."),
    batch_size: int = batch_size_option(256, "Examples per forward pass."),
    task: str | None = typer.Option(None, "--task", metavar="NAME", help="Multi-task models: the task to predict "
                                    "(its head); needed when the model has several."),
    quiet: bool = QUIET_OPTION,
) -> None:
    """Label DATA with the shipped MODEL: row id, label and class probabilities (or values) per row."""
    from transferkit.experiments.predict import load_model, run_predict

    t0 = time.perf_counter()
    sm = load_model(model)
    if not quiet:
        say(repr(sm))
    bar = None
    last = [-1]

    def progress(done: int, total: int) -> None:
        if quiet:
            return
        if bar is not None:
            bar.update(bar_task, completed=done, total=total)
        elif done == total or done * 10 // max(total, 1) > last[0]:
            last[0] = done * 10 // max(total, 1)
            console.print(Text(f"predicted {done}/{total} rows ({time.perf_counter() - t0:.0f} s)", style="dim"),
                          highlight=False)

    if console.is_terminal and not quiet:
        from rich.progress import Progress

        with Progress(console=console, transient=True) as bar:
            bar_task = bar.add_task("predicting", total=None)
            summary = run_predict(sm, data, out, batch_size, progress, task=task)
    else:
        summary = run_predict(sm, data, out, batch_size, progress, task=task)
    line = ((f"task {summary['task']}: " if "task" in summary else "")
            + f"{summary['rows']} predictions written to {summary['file']} ({time.perf_counter() - t0:.1f} s)")
    if "accuracy" in summary:
        line += f"; accuracy against the data's labels: {summary['accuracy']:.4f}"
    if "rmse" in summary:
        line += f"; RMSE against the data's targets: {summary['rmse']:.4f}"
    console.print(line, highlight=False)  # the console never parses markup
