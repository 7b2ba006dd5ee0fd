"""Helpers shared by CLI commands: error reporting, shared options, and the common ending of a run."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.text import Text

from transferkit.cli._app import console, err_console
from transferkit.errors import TransferkitError

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(fn: F) -> F:
    """Turn transferkit errors (bad data, missing weights, unknown names...) into a red message and exit code 2.

    :class:`~transferkit.errors.UnknownName` (a typo in a backbone, strategy, score... name) is a
    user error like the others: its plain message lists the closest and the known names.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (TransferkitError, FileNotFoundError, KeyError, ValueError) as exc:
            if os.environ.get("TRANSFERKIT_DEBUG"):
                raise
            plain_key_error = isinstance(exc, KeyError) and not isinstance(exc, TransferkitError) and exc.args
            msg = exc.args[0] if plain_key_error else str(exc)
            err_console.print(Text.assemble(("error:", "bold red"), " ", str(msg)), highlight=False)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def say(message: object) -> None:
    """Print one progress line (``· message``); the message is never parsed as markup."""
    console.print(Text.assemble(("·", "dim"), " ", str(message)))


def rule(command: str, rest: str) -> None:
    """A rule with the command in bold and ``rest`` (user strings: paths, specs) printed literally."""
    console.rule(Text.assemble((f"transferkit {command}", "bold"), rest))


def set_data_root(data_root: str | None) -> None:
    """Make ``--data-root`` visible to every loader (as ``TRANSFERKIT_DATA``)."""
    if data_root:
        os.environ["TRANSFERKIT_DATA"] = data_root


DATA_ROOT_OPTION = typer.Option(None, "--data-root", help="Folder holding the named data sets "
                                "(default: $TRANSFERKIT_DATA, else ../shared/data or ./data).")
RUNS_OPTION = typer.Option(None, "--runs", help="Folder for run folders (default: $TRANSFERKIT_RUNS or ./runs).")
MLFLOW_OPTION = typer.Option(
    None, "--mlflow", metavar="URI",
    help="Also log parameters, metrics and the report to MLflow at URI (e.g. file:./mlruns). "
    "Needs the mlflow extra.",
)


def finish_run(run_dir: str | os.PathLike[str], results: dict[str, Any], mlflow: str | None = None,
               started: float | None = None) -> Path:
    """End a command that produced results: :func:`transferkit.reports.run.finish_run` on the CLI's console.

    ``started``: the ``time.perf_counter()`` at the start of the run, to print how long it took.
    """
    from transferkit.reports.run import finish_run as finish

    seconds = None if started is None else time.perf_counter() - started
    return finish(run_dir, results, mlflow, console, seconds=seconds)
