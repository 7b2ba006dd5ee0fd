"""``transferkit report RUN_DIR``: rebuild ``report.html`` from ``results.json`` and print the summary.

The only command that reads ``results.json`` back; every other command ends in
:func:`transferkit.reports.run.finish_run` with the results it holds in memory.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text

from transferkit.cli._app import app, console, err_console
from transferkit.cli._options import MLFLOW_OPTION
from transferkit.errors import TransferkitError


@app.command("report")
def report(
    run_dir: Path = typer.Argument(..., help="A run folder written by a transferkit command."),
    mlflow: str | None = MLFLOW_OPTION,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only write the page; print no summary."),
) -> None:
    """Rebuild RUN_DIR/report.html from RUN_DIR/results.json and print the summary table."""
    from transferkit.reports.html import write_report
    from transferkit.reports.run import read_results
    from transferkit.reports.terminal import print_summary

    try:
        results = read_results(run_dir)
    except (OSError, ValueError) as exc:
        err_console.print(Text(f"error: {exc}"))
        raise typer.Exit(2) from None
    page = write_report(run_dir, results)
    if not quiet:
        print_summary(results, console)
    console.print(Text(f"report: {page}"))
    if mlflow:
        from transferkit.reports.tracking import log_run

        try:
            rid = log_run(run_dir, mlflow, results=results)
        except TransferkitError as exc:
            err_console.print(Text(f"error: {exc}"))
            raise typer.Exit(2) from None
        console.print(Text(f"mlflow: run {rid} at {mlflow}"))
