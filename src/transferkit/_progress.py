"""Progress of long loops: a rich bar in a terminal, plain one-line updates otherwise, nothing when quiet.

Every loop that shows progress (training epochs, feature extraction) gets its display from
:func:`progress_bar`. When standard output is a terminal that is a transient :class:`rich.progress.Progress`;
when it is not (a log file, CI, a pipe) it is a :class:`PlainProgress` writing one line to standard error
at most every :data:`INTERVAL` seconds (and a last line when a loop that printed finishes), so logs show
that work goes on without a line per step. ``transferkit -q`` (:func:`set_quiet`) turns both off.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, TextIO

INTERVAL = 10.0
"""Seconds between two plain progress lines of the same loop (0: a line for every update)."""

_STATE: dict[str, Any] = {"quiet": False, "interval": INTERVAL, "stream": None}


def set_quiet(quiet: bool) -> None:
    """Show no progress at all (``-q/--quiet``) or show it again."""
    _STATE["quiet"] = bool(quiet)


def is_quiet() -> bool:
    """Whether progress is turned off for this process."""
    return bool(_STATE["quiet"])


def configure(*, interval: float | None = None, stream: TextIO | None = None) -> None:
    """Seconds between plain lines, and where they go (default: ``sys.stderr`` at the time of writing)."""
    if interval is not None:
        _STATE["interval"] = float(interval)
    _STATE["stream"] = stream


def progress_bar(*columns: Any, label: str = "", unit: str = "", show: bool = True, transient: bool = True) -> Any:
    """A progress display with rich's ``Progress`` interface (``add_task``, ``update``, ``advance``, ``with``).

    ``columns`` are the rich columns of the terminal bar; ``label`` and ``unit`` word the plain lines
    (``features smallcnn on usps: 2048/7291 rows (28%, 12 s)``). ``show=False`` or quiet: nothing shown.
    """
    from rich import get_console
    from rich.progress import Progress

    if not show or is_quiet():
        return Progress(*columns, disable=True)
    if get_console().is_terminal:
        return Progress(*columns, transient=transient)
    return PlainProgress(label, unit)


class PlainProgress:
    """rich ``Progress``'s task interface, printed as plain lines at most every few seconds."""

    def __init__(self, label: str = "", unit: str = "") -> None:
        self.label, self.unit = label, unit
        self.tasks: dict[int, dict[str, Any]] = {}

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            for task in self.tasks.values():
                if task["printed"] and task["last_done"] != task["completed"]:
                    self._emit(task)

    def start(self) -> None:
        """Nothing to start (rich API)."""

    def stop(self) -> None:
        """Nothing to stop (rich API)."""

    def add_task(self, description: str, total: float | None = None, completed: float = 0, **fields: Any) -> int:
        """A new task; returns its id."""
        tid = len(self.tasks)
        now = time.perf_counter()
        self.tasks[tid] = {"description": description, "total": total, "completed": completed, "fields": fields,
                           "t0": now, "last": now, "printed": False, "last_done": None}
        return tid

    def advance(self, task_id: int, advance: float = 1) -> None:
        """Move ``task_id`` on by ``advance``."""
        self.update(task_id, advance=advance)

    def update(self, task_id: int, *, total: float | None = None, completed: float | None = None,
               advance: float | None = None, description: str | None = None, **fields: Any) -> None:
        """Change a task; prints a line when the interval has passed since the last one."""
        task = self.tasks[task_id]
        if total is not None:
            task["total"] = total
        if completed is not None:
            task["completed"] = completed
        if advance is not None:
            task["completed"] += advance
        if description is not None:
            task["description"] = description
        task["fields"].update(fields)
        now = time.perf_counter()
        if now - task["last"] >= _STATE["interval"]:
            self._emit(task)

    def remove_task(self, task_id: int) -> None:
        """Forget a task."""
        self.tasks.pop(task_id, None)

    def _line(self, task: dict[str, Any]) -> str:
        done, total = task["completed"], task["total"]
        count = f"{done:g}/{total:g}" if total else f"{done:g}"
        pct = f"{100 * done / total:.0f}%, " if total else ""
        head = " ".join(str(p) for p in (self.label, task["fields"].get("name", ""), task["description"]) if p)
        info = str(task["fields"].get("info", "") or "").strip()
        unit = f" {self.unit}" if self.unit else ""
        return (f"{head}: {count}{unit} ({pct}{time.perf_counter() - task['t0']:.0f} s)"
                + (f" {info}" if info else ""))

    def _emit(self, task: dict[str, Any]) -> None:
        print(self._line(task), file=_STATE["stream"] or sys.stderr, flush=True)
        task["last"], task["printed"], task["last_done"] = time.perf_counter(), True, task["completed"]
