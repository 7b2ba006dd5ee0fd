"""``transferkit har``: cross-subject transfer on UCI HAR (or any subject-grouped signal set).

Parses the options and calls :func:`transferkit.biosignals.run_har`; every held-out subject's model
ships to ``RUN/models/subject-<id>`` (and ``--save DIR``) with that subject's normalisation;
:func:`finish_run` writes the run folder and prints the table.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.text import Text

from transferkit.cli import _options as opt
from transferkit.cli._app import app, console
from transferkit.cli._common import finish_run, friendly_errors, say
from transferkit.cli._live import SAVE_OPTION
from transferkit.cli._shared import reads_data


@app.command("har")
@friendly_errors
@reads_data(columns=False)
def har(
    source_subjects: str = typer.Option("1-20", help="Subjects to pre-train on, e.g. 1-20 or 1,3,5-9."),
    target_subjects: str = typer.Option("21-30", help="Held-out subjects to transfer to."),
    shots: str = typer.Option("1,5,10,20", help="Labelled windows per class from each target subject."),
    seeds: int = typer.Option(3, min=1, help="Paired seeds per subject and k (split, k-shot draw and initialisation)."),
    seed: int = opt.seed_option(),
    norm: str = typer.Option("channel", help="Per-subject normalisation: none, channel, ea (Euclidean "
                                             "alignment) or channel+ea; applied to source and target alike."),
    dataset: str = typer.Option("uci-har", help="A signal data set (N, C, T) with subject ids as groups."),
    backbone: str = typer.Option("signalcnn?width=16&num_features=64", "--backbone", "-b",
                                 help="Backbone spec (a signal net)."),
    source_epochs: int = typer.Option(15, min=1, help="Pre-training epochs on the source subjects."),
    target_epochs: int = typer.Option(20, min=1, help="Fine-tuning / scratch epochs per target run."),
    batch_size: int = opt.batch_size_option(16, "Target training batch size (transfer and scratch)."),
    workers: int = opt.WORKERS_OPTION,
    out: str | None = opt.OUT_OPTION,
    quiet: bool = opt.QUIET_OPTION,
    mlflow: str | None = opt.MLFLOW_OPTION,
    save: str | None = SAVE_OPTION,
) -> None:
    """Pre-train on some subjects, transfer to each held-out subject with k labels per class, vs scratch
    and source-only, with the per-subject negative-transfer verdict."""
    from transferkit.biosignals import CrossSubjectConfig, run_har
    from transferkit.data.public import parse_subjects
    from transferkit.reports.run import make_run_dir

    cfg = CrossSubjectConfig(source_subjects=tuple(parse_subjects(source_subjects)),
                             target_subjects=tuple(parse_subjects(target_subjects)),
                             shots=tuple(int(k) for k in shots.split(",") if k.strip()), seeds=seeds, norm=norm,
                             backbone=backbone, source_epochs=source_epochs, target_epochs=target_epochs,
                             seed=seed, batch_size=batch_size, workers=workers)
    t0 = time.perf_counter()
    folder: list[Path] = []

    def new_dir() -> Path:  # made once the run has results to ship
        folder.append(make_run_dir("har", out))
        return folder[0]

    res = run_har(dataset, cfg, on_step=None if quiet else say, run_dir=new_dir, save=save)
    finish_run(folder[0] if folder else make_run_dir("har", out), res, mlflow, started=t0)
    shipped = res["sections"].get("shipped") or {}
    if shipped.get("model"):
        console.print(Text.assemble((str(shipped["headline"]), "bold"), f" Models: {shipped['model']}/subject-<id> "
                                    "(predict on that subject's raw windows)"), highlight=False)
