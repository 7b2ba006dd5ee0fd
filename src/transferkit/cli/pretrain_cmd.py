"""``transferkit pretrain`` (build a zoo entry) and ``transferkit zoo`` (list the entries found).

``pretrain`` parses the options and calls :func:`transferkit.pretraining.run_pretrain`;
:func:`finish_run` writes the run folder and prints the entry's metrics.
"""

from __future__ import annotations

import time

import typer
from rich.table import Table
from rich.text import Text

from transferkit.cli import _options as opt
from transferkit.cli._app import app, console
from transferkit.cli._common import finish_run, friendly_errors
from transferkit.cli._shared import reads_data

ZOO_OPTION = typer.Option(
    None, "--zoo", help="Zoo folder (default: first folder of $TRANSFERKIT_ZOO, else ./zoo)."
)


def _fmt(v: object) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


@app.command("pretrain")
@friendly_errors
@reads_data("source")
def pretrain_command(
    source: str = typer.Option(..., "--source", "-s", help="Source data set: a named set (mnist@train) or a path."),
    backbone: str = typer.Option(
        ..., "--backbone", "-b", help="Architecture spec, e.g. smallcnn, signalcnn, tabmlp."
    ),
    name: str = typer.Option(..., "--name", help="Entry name; later loaded as --backbone zoo:NAME."),
    objective: str = typer.Option("supervised", "--objective", help="supervised, simclr or denoise."),
    zoo: str = ZOO_OPTION,
    epochs: int = typer.Option(10, "--epochs", min=1, help="Training epochs."),
    batch_size: int = opt.batch_size_option(64, "Training batch size."),
    lr: float = typer.Option(1e-3, "--lr", help="AdamW learning rate."),
    workers: int = opt.WORKERS_OPTION,
    seed: int = opt.seed_option("Seed of subsampling, splits, initialisation and batches."),
    max_samples: int = typer.Option(
        None, "--max-samples", min=1, help="Use a stratified random subset of this many."
    ),
    resume: bool = typer.Option(
        True, "--resume/--no-resume", help="Continue an interrupted run of the same name."
    ),
    description: str = typer.Option("", "--description", help="One line for the model card."),
    out: str | None = opt.OUT_OPTION,
    quiet: bool = opt.QUIET_OPTION,
    mlflow: str | None = opt.MLFLOW_OPTION,
) -> None:
    """Pre-train a backbone on SOURCE and save it as a zoo entry (safetensors weights + model card)."""
    from transferkit.backbones.zoo import use_zoo_dir
    from transferkit.pretraining import default_zoo_dir, run_pretrain
    from transferkit.reports.run import make_run_dir

    zoo_dir = zoo or str(default_zoo_dir())
    t0 = time.perf_counter()
    console.print(Text.assemble(("pretrain", "bold"), f" {backbone} on {source} ({objective}) -> {zoo_dir}/{name}"))
    results = run_pretrain(backbone, source, objective, name=name, zoo_dir=zoo_dir, epochs=epochs,
                           batch_size=batch_size, lr=lr, seed=seed, max_samples=max_samples, resume=resume,
                           progress=not quiet, description=description, workers=workers)
    use_zoo_dir(zoo_dir)
    finish_run(make_run_dir("pretrain", out, name=name), results, mlflow, started=t0)


@app.command("zoo")
@friendly_errors
def zoo_command(zoo: str = ZOO_OPTION) -> None:
    """List zoo entries (--zoo folder, $TRANSFERKIT_ZOO, the starter zoo) with their source metric."""
    from transferkit.backbones.zoo import list_zoo, zoo_dirs

    t = Table(title="Zoo entries (use as --backbone zoo:NAME)")
    t.add_column("name", no_wrap=True)
    for col in ("input", "source", "objective", "source metric"):
        t.add_column(col)
    for e in list_zoo(zoo):
        m = e["metrics"] or {}
        key = m.get("primary")
        metric = f"{key.replace('_', ' ')} {_fmt(m.get(key))}" if key else ""
        t.add_row(e["name"], f"{e['input']} ({e['architecture']})", str(e["source"]), str(e["objective"]), metric)
    console.print(t)
    console.print("searched: " + ", ".join(str(d) for d in zoo_dirs(zoo)), soft_wrap=True)
