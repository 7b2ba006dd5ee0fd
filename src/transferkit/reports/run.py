"""Run folders: every command that produces results ends in :func:`finish_run`.

``finish_run`` writes ``results.json`` once, renders ``report.html`` from the same dict in memory,
prints the run's terminal summary and logs to MLflow when asked. Nothing in a run reads
``results.json`` back; only ``transferkit report RUN`` does.

The ``results.json`` format itself (schema header, run folders, atomic writes, JSON conversion) lives
on the ground floor in :mod:`transferkit._io`, so that lower layers can build results without
importing the reports package; it is re-exported here under its old names.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transferkit._io import (
    SCHEMA,
    atomic_write_text,
    make_run_dir,
    new_results,
    read_results,
    to_jsonable,
    versions,
)
from transferkit.reports.html import write_report

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "SCHEMA",
    "RunWriter",
    "atomic_write_text",
    "finish_run",
    "make_run_dir",
    "new_results",
    "read_results",
    "to_jsonable",
    "versions",
    "write_results",
]


def _checked(results: dict[str, Any]) -> dict[str, Any]:
    data = to_jsonable(results)
    if data.get("schema") != SCHEMA:
        raise ValueError(f"results must carry schema {SCHEMA!r}")
    return data


def write_results(run_dir: str | os.PathLike[str], results: dict[str, Any], report: bool = True) -> Path:
    """Write ``results.json`` into ``run_dir`` and (with ``report``) render ``report.html`` from the same dict.

    Returns the path of ``results.json``.
    """
    run_dir = Path(run_dir)
    data = _checked(results)
    out = run_dir / "results.json"
    atomic_write_text(out, json.dumps(data, indent=2, allow_nan=False))
    if report:
        write_report(run_dir, data)
    return out


class RunWriter:
    """Rewrites a running command's ``results.json`` after every step and its ``report.html`` as often as is cheap.

    The page is rendered again unless the last rendering is more recent than ``factor`` times its own
    duration (plots take about a second; a run of tiny cells would otherwise spend most of its time
    drawing), and always when the run is marked finished or stopped.
    """

    def __init__(self, run_dir: str | os.PathLike[str], factor: float = 4.0) -> None:
        self.run_dir, self.factor = Path(run_dir), factor
        self._last, self._took = -1e9, 0.0

    def __call__(self, results: dict[str, Any]) -> None:
        """Write ``results`` (and, when due, the page)."""
        import time

        state = (results.get("status") or {}).get("state", "complete")
        now = time.perf_counter()
        due = state != "running" or now - self._last >= self.factor * self._took
        write_results(self.run_dir, results, report=False)
        if due:
            write_report(self.run_dir, _checked(results))
            self._last, self._took = time.perf_counter(), time.perf_counter() - now


def finish_run(run_dir: str | os.PathLike[str], results: dict[str, Any], mlflow: str | None = None,
               out: Console | None = None, *, seconds: float | None = None) -> Path:
    """The common ending of a run: files, terminal summary, MLflow.

    Writes ``results.json`` and ``report.html`` (rendered from the same in-memory dict) into
    ``run_dir``, prints the command's summary tables (:func:`~transferkit.reports.terminal.print_run_summary`)
    and where the files are, and, with ``mlflow`` (a tracking URI such as ``file:./mlruns``), logs
    the run there. ``seconds``: how long the run took, printed with the paths.

    Returns the path of ``report.html``.
    """
    from rich.console import Console
    from rich.text import Text

    from transferkit.reports.terminal import print_run_summary

    out = out or Console(markup=False)
    run_dir = Path(run_dir)
    data = _checked(results)
    path = write_results(run_dir, data)
    page = run_dir / "report.html"
    print_run_summary(data, out)
    took = f" ({seconds:.0f} s)" if seconds is not None else ""
    out.print(Text(f"results: {path}{took}\nreport:  {page}"))
    if mlflow:
        from transferkit.reports.tracking import log_run

        rid = log_run(run_dir, mlflow, results=data)
        out.print(Text(f"mlflow:  run {rid} at {mlflow}"))
    return page
