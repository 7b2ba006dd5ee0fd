"""The options every command that writes a run shares."""

import typer

DATA_ROOT_OPTION = typer.Option(None, "--data-root", help="Folder holding the named data sets "
                                "(default: $TRANSFERKIT_DATA, else the user data folder; `transferkit datasets download NAME` fills it).")
RUNS_OPTION = typer.Option(None, "--runs", help="Folder for run folders (default: $TRANSFERKIT_RUNS or ./runs).")
MLFLOW_OPTION = typer.Option(
    None, "--mlflow", metavar="URI",
    help="Also log parameters, metrics and the report to MLflow at URI (e.g. file:./mlruns). "
    "Needs the mlflow extra.",
)
