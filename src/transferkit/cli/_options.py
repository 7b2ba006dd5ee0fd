"""The options commands share: one long name, one short name and one meaning in every command.

Every command also gets ``-q/--quiet``, ``-v/--verbose`` and ``-c/--config FILE`` from
:func:`transferkit.cli._shared.with_shared_options` (added when the command is registered). A short
flag means the same long option everywhere (``tests/test_cli_flags.py`` walks every command to check):

==========  =========================================================
``-o``      ``--out`` (alias ``--runs`` where the output is a run folder)
``-t``      ``--target``
``-s``      ``--source``
``-b``      ``--backbone``
``-m``      ``--models``
``-q``      ``--quiet``
``-v``      ``--verbose`` (repeat for more: ``-vv``)
``-c``      ``--config``
``-V``      ``--version`` (the ``transferkit`` command itself)
==========  =========================================================
"""

from __future__ import annotations

from typing import Any

import typer

DATA_ROOT_OPTION = typer.Option(None, "--data-root", metavar="DIR", help="Folder holding the named data sets "
                                "(default: $TRANSFERKIT_DATA, else the user data folder; `transferkit datasets "
                                "download NAME` fills it).")
OUT_OPTION = typer.Option(None, "--out", "-o", "--runs", metavar="DIR",
                          help="Folder the run folder is created in, as DIR/<time>-<command>[-name] "
                          "(default: $TRANSFERKIT_RUNS or ./runs; --runs is the same option).")
RUNS_OPTION = OUT_OPTION  # the old name of the same option
MLFLOW_OPTION = typer.Option(
    None, "--mlflow", metavar="URI",
    help="Also log parameters, metrics and the report to MLflow at URI (e.g. file:./mlruns). "
    "Needs the mlflow extra.",
)
QUIET_OPTION = typer.Option(False, "--quiet", "-q", help="No progress bars or progress messages; results only.")
DEVICE_OPTION = typer.Option("auto", "--device", metavar="DEVICE",
                             help="auto (a GPU when one is visible), cpu, cuda or cuda:N.")
WORKERS_OPTION = typer.Option(0, "--workers", min=0, metavar="N",
                              help="DataLoader worker processes preparing batches (0: in the main process; "
                              "GPU runs: 4-8).")
LABEL_COLUMN_OPTION = typer.Option(None, "--label-column", metavar="NAME",
                                   help="Label column of CSV/TSV/JSONL/Parquet files (default: label), or the label "
                                   "array of an .npz; the same as FILE?label=NAME.")
TEXT_COLUMN_OPTION = typer.Option(None, "--text-column", metavar="NAME",
                                  help="Text column of CSV/TSV/JSONL/Parquet files (default: text, when present); "
                                  "the same as FILE?text=NAME.")
SEED_HELP = ("Base seed: the seeds run are SEED, SEED+1, ... (--seeds of them); each draws its own split and "
             "labelled examples where the command draws any.")
"""The help of ``--seed`` on every command with ``--seeds`` (fit, demo, adapt, multitask, har, agents)."""


def seed_option(help: str = SEED_HELP) -> Any:
    """``--seed N`` (0 <= N < 2**32)."""
    return typer.Option(0, "--seed", min=0, max=2**32 - 1, metavar="N", help=help)


def batch_size_option(default: int | None, help: str = "Examples per batch.", min_value: int | None = 1) -> Any:
    """``--batch-size N`` with the command's own default (``min_value=None``: the library checks it)."""
    return typer.Option(default, "--batch-size", min=min_value, metavar="N", help=help)


def given(name: str, value: Any) -> Any:
    """``value`` when option ``name`` was given (command line, environment or ``--config``), else None.

    What ``--resume`` compares: a run is refused under another ``--seed`` only when one was asked for.
    """
    import click
    from click.core import ParameterSource

    ctx = click.get_current_context(silent=True)
    source = ctx.get_parameter_source(name) if ctx is not None else ParameterSource.COMMANDLINE
    return None if source in (None, ParameterSource.DEFAULT) else value
