"""``transferkit report RUN_DIR``: rebuild ``report.html`` from ``results.json`` and print the summary.

Also holds :func:`finish_run`, the common ending of every command that produces results (write
``results.json`` and ``report.html``, print the summary table, log to MLflow when asked), and
:data:`MLFLOW_OPTION`, the ``--mlflow URI`` option those commands share.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from transferkit.cli._app import app, console, err_console
from transferkit.errors import TransferkitError

MLFLOW_OPTION = typer.Option(
    None, "--mlflow", metavar="URI",
    help="Also log parameters, metrics and the report to MLflow at URI (e.g. file:./mlruns). "
    "Needs the mlflow extra.",
)


def finish_run(run_dir: str | os.PathLike[str], results: dict[str, Any], mlflow: str | None = None,
               out: Console | None = None) -> Path:
    """Write ``results.json`` + ``report.html`` into ``run_dir``, print the summary, log to MLflow if asked.

    Returns the path of ``report.html``.
    """
    from transferkit.reports.run import write_results
    from transferkit.reports.terminal import print_summary

    out = out or console
    write_results(run_dir, results)  # writes report.html too
    page = Path(run_dir) / "report.html"
    print_summary(results, out)
    out.print(Text(f"results: {Path(run_dir) / 'results.json'}\nreport:  {page}"))
    if mlflow:
        from transferkit.reports.tracking import log_run

        rid = log_run(run_dir, mlflow)
        out.print(Text(f"mlflow:  run {rid} at {mlflow}"))
    return page


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
    page = write_report(run_dir)
    if not quiet:
        print_summary(results, console)
    console.print(Text(f"report: {page}"))
    if mlflow:
        from transferkit.reports.tracking import log_run

        try:
            rid = log_run(run_dir, mlflow)
        except TransferkitError as exc:
            err_console.print(Text(f"error: {exc}"))
            raise typer.Exit(2) from None
        console.print(Text(f"mlflow: run {rid} at {mlflow}"))
