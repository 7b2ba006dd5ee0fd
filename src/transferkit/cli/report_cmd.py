"""``transferkit report RUN_DIR``: rebuild ``report.html`` from ``results.json`` and print the summary.

The only command that reads ``results.json`` back; every other command ends in
:func:`transferkit.reports.run.finish_run` with the results it holds in memory.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text

from transferkit.cli._app import app, console
from transferkit.cli._common import friendly_errors
from transferkit.cli._options import MLFLOW_OPTION


@app.command("report")
@friendly_errors
def report(
    run_dir: Path = typer.Argument(..., help="A run folder written by a transferkit command."),
    mlflow: str | None = MLFLOW_OPTION,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only write the page; print no summary."),
) -> None:
    """Rebuild RUN_DIR/report.html from RUN_DIR/results.json and print the summary table."""
    from transferkit.errors import DataError
    from transferkit.reports._values import ReportError
    from transferkit.reports.html import write_report
    from transferkit.reports.run import read_results
    from transferkit.reports.terminal import print_summary

    results = read_results(run_dir)  # a missing file: exit 2; a damaged one: exit 3 (friendly_errors)
    try:
        page = write_report(run_dir, results)
    except ReportError as exc:  # a field with the wrong shape: say which file holds it
        raise DataError(f"{Path(run_dir) / 'results.json'}: {exc}") from exc
    if not quiet:
        print_summary(results, console)
    console.print(Text(f"report: {page}"))
    if mlflow:
        from transferkit.reports.tracking import log_run

        rid = log_run(run_dir, mlflow, results=results)
        console.print(Text(f"mlflow: run {rid} at {mlflow}"))
