"""Command-line interface: a thin layer over the Python API.

Each command lives in its own module and registers itself on :data:`app`; adding a command is
one new module and one import line below. A command parses its options, calls one library
function, and ends in :func:`~transferkit.cli._common.finish_run` (``results.json``,
``report.html``, the terminal summary, ``--mlflow``).
"""

from __future__ import annotations

# command modules: one import line each (they register on `app`)
from transferkit.cli import (  # noqa: F401
    adapt_cmd,
    agents_cmd,
    biosignals_cmd,
    demo_cmd,
    export_cmd,
    fit_cmd,
    info_cmds,
    multitask_cmd,
    predict_cmd,
    pretrain_cmd,
    rank_cmd,
    report_cmd,
    similarity_cmd,
)
from transferkit.cli._app import app, console

__all__ = ["app", "console"]
