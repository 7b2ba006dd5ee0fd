"""Run folders: every command that produces results writes ``results.json`` and ``report.html``.

The ``results.json`` format itself (schema header, run folders, atomic writes, JSON conversion) lives
on the ground floor in :mod:`transferkit._io`, so that lower layers can write results without
importing the reports package; it is re-exported here under its old names. This module adds the one
step that needs the renderer: write the results *and* the page.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

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

__all__ = [
    "SCHEMA",
    "atomic_write_text",
    "make_run_dir",
    "new_results",
    "read_results",
    "to_jsonable",
    "versions",
    "write_results",
]


def write_results(run_dir: str | os.PathLike[str], results: dict[str, Any]) -> Path:
    """Write ``results.json`` into ``run_dir``, then render ``report.html`` from it."""
    run_dir = Path(run_dir)
    data = to_jsonable(results)
    if data.get("schema") != SCHEMA:
        raise ValueError(f"results must carry schema {SCHEMA!r}")
    out = run_dir / "results.json"
    atomic_write_text(out, json.dumps(data, indent=2, allow_nan=False))
    write_report(run_dir)
    return out
