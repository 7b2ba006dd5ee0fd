"""What a long command shares while it runs: its run folder made once the options are checked, results.json
and report.html after every cell, one progress line per cell, and Ctrl-C leaving a report marked incomplete.

Used by ``adapt``, ``multitask`` and ``har`` (``fit`` has the same behaviour in its own module). Typical use::

    live = LiveRun("adapt", runs, quiet)
    with live:
        res = run_adapt(..., run_dir=live.new_dir, on_update=live.update, on_progress=live.show)
    finish_run(live.folder, res, ...)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from transferkit.cli._console import console

SAVE_OPTION = typer.Option(None, "--save", metavar="DIR", help="Also copy what the run ships (its model folder) to "
                           "DIR; every run writes it into the run folder.")


def resume_option(command: str) -> Any:
    """``--resume RUN`` of ``command``."""
    return typer.Option(None, "--resume", metavar="RUN", help=f"Continue the {command} run in folder RUN where it "
                        "stopped (its own settings are used; other options are ignored, and another --seed is refused).")


class LiveRun:
    """The run folder, its writer and progress display; ``with`` turns Ctrl-C into exit 130 and a resume hint.

    Args:
        command: the command name (run folder names, the resume hint).
        runs: the ``--runs`` folder (None: ``$TRANSFERKIT_RUNS`` or ``runs``).
        quiet: no progress lines.
        resume: the run folder being continued (``--resume RUN``), if any.
        name: the run folder's name suffix.
    """

    def __init__(self, command: str, runs: str | None, quiet: bool = False, resume: str | None = None,
                 name: str | None = None) -> None:
        self.command, self.runs, self.quiet, self.name = command, runs, quiet, name
        self.folders: list[Path] = [Path(resume)] if resume else []
        self._writer: Any = None
        self._status = console.status("") if (not quiet and console.is_terminal) else None

    @property
    def folder(self) -> Path:
        """The run folder (made on first use)."""
        return self.folders[0] if self.folders else self.new_dir()

    def new_dir(self) -> Path:
        """Make the run folder (called by the library once every option has been checked)."""
        from transferkit.reports.run import make_run_dir

        if not self.folders:
            self.folders.append(make_run_dir(self.command, self.runs, self.name))
        return self.folders[0]

    def update(self, results: dict[str, Any]) -> None:
        """results.json after every cell, report.html when it is cheap (always when stopped or done)."""
        from transferkit.reports.run import RunWriter

        if self._writer is None:
            self._writer = RunWriter(self.folder)
        self._writer(results)

    def show(self, progress: Any) -> None:
        """One progress line: a status line in a terminal, plain lines otherwise."""
        if self.quiet:
            return
        if self._status is not None:
            self._status.update(progress.line())
        else:
            console.print(Text(progress.line(), style="dim"), highlight=False)

    def __enter__(self) -> LiveRun:
        if self._status is not None:
            self._status.start()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if self._status is not None:
            self._status.stop()
        if exc_type is KeyboardInterrupt:
            if self.folders:
                where = str(self.folders[0])
                done = (f"the report in {where} is marked incomplete" if (self.folders[0] / "results.json").is_file()
                        else f"no cell had finished in {where}")
                console.print(Text.assemble(("stopped:", "bold yellow"), f" {done}; continue with: transferkit "
                                            f"{self.command} --resume {where}"))
            raise typer.Exit(130) from None
        return False


__all__ = ["SAVE_OPTION", "LiveRun", "resume_option"]
