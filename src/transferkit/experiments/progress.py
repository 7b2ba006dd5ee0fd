"""A run's overall progress after every cell: cells done of all, time spent, and a time-to-finish estimate.

:class:`CellClock` is what ``adapt``, ``multitask`` and ``har`` tick after every cell (``fit``
prices its cells per budget itself); it hands out :class:`~transferkit.experiments.fit.RunProgress`
lines. Cells read back from a run's journal (``--resume``) count as done but do not price the rest.
"""

from __future__ import annotations

import time

from transferkit.experiments.fit import RunProgress


class CellClock:
    """Counts finished cells and estimates the time left from the cells fitted in this session."""

    def __init__(self, total: int) -> None:
        self.total = int(total)
        self.done = 0
        self.t0 = self.last = time.perf_counter()
        self.took: list[float] = []

    def tick(self, what: str, restored: bool = False) -> RunProgress:
        """One more cell finished (``restored``: read back, not fitted); the progress so far."""
        now = time.perf_counter()
        if not restored:
            self.took.append(now - self.last)
        self.last = now
        self.done += 1
        left = max(self.total - self.done, 0)
        eta = (sum(self.took) / len(self.took)) * left if self.took else None
        return RunProgress(self.done, self.total, now - self.t0, eta if left else 0.0, what, restored)


def status(done: int, total: int, resume_hint: str, state: str = "running") -> dict[str, object]:
    """The ``status`` record of an unfinished run's results (what the report's first line reads)."""
    return {"complete": False, "state": state, "cells_done": done, "cells_total": total, "resume": resume_hint}


__all__ = ["CellClock", "status"]
