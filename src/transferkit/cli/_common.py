"""Helpers shared by CLI commands: error reporting, shared options, and the common ending of a run."""

from __future__ import annotations

import functools
import logging
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.text import Text
from typer.exceptions import TyperException

from transferkit.cli._console import console, err_console
from transferkit.errors import TransferkitError

F = TypeVar("F", bound=Callable[..., Any])


EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_DATA = 0, 1, 2, 3
"""Exit codes: success, internal error (a bug), usage error, bad data or model file."""

REPORT = ("this is a bug in transferkit, not in your data: please report it (the command line and the output of "
          "the same command with TRANSFERKIT_DEBUG=1, which adds the traceback)")


def exit_code(exc: BaseException) -> int:
    """The exit code of an exception that ended a command (see :data:`EXIT_OK` ...)."""
    if isinstance(exc, TransferkitError):
        return int(exc.exit_code)
    if isinstance(exc, OSError) and not isinstance(exc, (ConnectionError, TimeoutError)):
        return EXIT_USAGE  # a path that does not exist or cannot be written, a full disk: fixable by the user
    return EXIT_INTERNAL


def friendly_errors(fn: F) -> F:
    """End a command on an error with one red line and its exit code, never a traceback.

    Exit codes: 2 for a usage error (:class:`~transferkit.errors.UsageError`,
    :class:`~transferkit.errors.UnknownName`, a plain :class:`~transferkit.errors.TransferkitError`,
    a path that cannot be read or written), 3 for bad data or a bad model file
    (:class:`~transferkit.errors.DataError`, :class:`~transferkit.errors.BackboneError`), 1 for
    anything else: a bug, shown as an internal error with a line asking to report it. With
    ``TRANSFERKIT_DEBUG=1`` the traceback is printed first; the exit code stays the same.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, TyperException):
            raise  # typer's own endings: typer.Exit(n) from a command, usage errors (BadParameter) it prints
        except KeyboardInterrupt:
            err_console.print(Text("interrupted", style="bold red"))
            raise typer.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - the one place every error becomes a message and an exit code
            raise typer.Exit(report_error(exc)) from None

    return wrapper  # type: ignore[return-value]


def report_error(exc: BaseException) -> int:
    """Print ``exc`` as the CLI does (traceback first under ``TRANSFERKIT_DEBUG=1``) and return its exit code."""
    code = exit_code(exc)
    if os.environ.get("TRANSFERKIT_DEBUG", "") not in ("", "0") or logging.getLogger("transferkit").isEnabledFor(
            logging.DEBUG):  # TRANSFERKIT_DEBUG=1 or -vv
        import traceback

        err_console.print(Text("".join(traceback.format_exception(exc)).rstrip()), highlight=False)
    if code == EXIT_INTERNAL:
        if isinstance(exc, MemoryError):
            err_console.print(Text.assemble(("error:", "bold red"), " out of memory; use fewer samples "
                                            "(--max-samples) or a smaller --batch-size"), highlight=False)
            return code
        err_console.print(Text.assemble(("internal error:", "bold red"), f" {type(exc).__name__}: {exc}"),
                          highlight=False)
        err_console.print(Text(REPORT), highlight=False)
        return code
    err_console.print(Text.assemble(("error:", "bold red"), " ", str(exc)), highlight=False)
    return code


def say(message: object) -> None:
    """Print one progress line (``· message``; nothing under ``-q``); the message is never parsed as markup."""
    from transferkit._progress import is_quiet

    if not is_quiet():
        console.print(Text.assemble(("·", "dim"), " ", str(message)))


def rule(command: str, rest: str) -> None:
    """A rule with the command in bold and ``rest`` (user strings: paths, specs) printed literally."""
    console.rule(Text.assemble((f"transferkit {command}", "bold"), rest))


def set_data_root(data_root: str | None) -> None:
    """Make ``--data-root`` visible to every loader (as ``TRANSFERKIT_DATA``)."""
    if data_root:
        os.environ["TRANSFERKIT_DATA"] = data_root


def set_device(device: str | None) -> None:
    """Apply ``--device``: ``auto`` (a GPU when one is visible), ``cpu``, ``cuda`` or ``cuda:N``.

    ``cpu`` hides every GPU from this process and ``cuda:N`` shows only GPU N (``CUDA_VISIBLE_DEVICES``,
    set before the command imports torch), so every step of the command (extraction, training,
    Accelerate) runs there; ``cuda`` without a visible GPU is a usage error.
    """
    value = (device or "auto").strip().lower()
    match = re.fullmatch(r"cuda(?::(\d+))?", value)
    if value not in ("auto", "cpu") and match is None:
        raise typer.BadParameter(f"--device must be auto, cpu, cuda or cuda:N (got {device!r})")
    if value == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    elif match is not None:
        if match.group(1) is not None:
            os.environ["CUDA_VISIBLE_DEVICES"] = match.group(1)
        import torch

        if not torch.cuda.is_available():
            from transferkit.errors import UsageError

            raise UsageError(f"--device {value}: no CUDA GPU is visible to this process; use --device cpu or auto")
    logging.getLogger("transferkit").info("device: %s", value)


def with_columns(label_column: str | None, text_column: str | None, *specs: str | None) -> list[str | None]:
    """The data ``specs`` with ``--label-column``/``--text-column`` as spec parameters (``data.csv?label=NAME``).

    Named data sets are returned unchanged (their columns are fixed); when the options are given but
    every spec is a named set (or absent), the options would do nothing: a usage error says so.
    """
    if label_column is None and text_column is None:
        return list(specs)
    from transferkit.data.paths import data_spec
    from transferkit.data.public import is_named
    from transferkit.errors import UsageError

    files = [s is not None and not is_named(s.split("?", 1)[0]) for s in specs]
    if not any(files):
        raise UsageError("--label-column and --text-column name the columns of your own files (CSV, TSV, JSONL, "
                         f"Parquet, .npz); {', '.join(s for s in specs if s) or 'no data'} "
                         "is a named data set with fixed columns")
    return [data_spec(s, label_column, text_column) if f and s is not None else s for s, f in zip(specs, files)]




def finish_run(run_dir: str | os.PathLike[str], results: dict[str, Any], mlflow: str | None = None,
               started: float | None = None) -> Path:
    """End a command that produced results: :func:`transferkit.reports.run.finish_run` on the CLI's console.

    ``started``: the ``time.perf_counter()`` at the start of the run, to print how long it took.
    """
    from transferkit.reports.run import finish_run as finish

    seconds = None if started is None else time.perf_counter() - started
    return finish(run_dir, results, mlflow, console, seconds=seconds)
