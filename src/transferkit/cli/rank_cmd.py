"""``transferkit rank``: score candidate backbones on a target data set and rank them.

Parses the options and calls :func:`transferkit.transferability.run_rank`; :func:`finish_run`
writes the run folder and prints the ranking.
"""

from __future__ import annotations

import re

import typer

from transferkit.cli._app import app
from transferkit.cli._common import finish_run, friendly_errors
from transferkit.cli._options import MLFLOW_OPTION, OUT_OPTION, WORKERS_OPTION, batch_size_option, seed_option
from transferkit.cli._shared import reads_data


def split_specs(text: str) -> list[str]:
    """Split ``"a,b?hidden=64,32,c"`` into specs; a piece that cannot start a spec (a number)
    continues the previous spec's options."""
    out: list[str] = []
    for piece in (p.strip() for p in text.split(",")):
        if not piece:
            continue
        if out and "?" in out[-1] and re.match(r"^[0-9.]", piece):
            out[-1] += "," + piece
        else:
            out.append(piece)
    return out


def parse_limits(text: str) -> dict[str, float]:
    """``"max_rows=50000,max_pairs=4e9"`` as a dict (integers where the value is whole)."""
    from transferkit.errors import UsageError

    out: dict[str, float] = {}
    for piece in (p.strip() for p in text.split(",")):
        if not piece:
            continue
        key, sep, value = piece.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not sep or not key.strip() or not number == number:
            raise UsageError(f"--score-limits: {piece!r} is not key=number (e.g. max_rows=50000)")
        out[key.strip()] = int(number) if number.is_integer() and key.strip() != "warn_seconds" else number
    return out


@app.command("rank")
@friendly_errors
@reads_data("target")
def rank_command(
    target: str = typer.Option(..., "--target", "-t", help="Target data set: a named set (sms-spam) or a path."),
    models: str = typer.Option(..., "--models", "-m", help="Comma-separated backbone specs to rank."),
    scores: str | None = typer.Option(
        None,
        "--scores",
        metavar="NAMES",
        help="Comma-separated transferability scores: logme, regularized_h_score, h_score, sfda, ncti, etran, "
        "ped, nleep, gbc, transrate, knn_accuracy, linear_probe_accuracy; leep and nce need a source classifier "
        "head (default: logme,regularized_h_score,knn_accuracy,sfda,ncti,etran,ped).",
    ),
    rank_by: str | None = typer.Option(
        None, "--rank-by", help="What orders the table: 'combined' (default with two or more scores: the mean "
        "position over every score's ranking) or one score's name."),
    max_samples: int | None = typer.Option(
        None, "--max-samples", min=1, help="Use a class-stratified subset of this many target samples."
    ),
    seed: int = seed_option("Seed of the subset and of candidates with random weights (built-in nets without "
                            "?weights=)."),
    score_limits: str = typer.Option(
        "", "--score-limits",
        help="Where super-linear scores switch to a seeded stratified subsample, as key=value pairs: "
        "max_rows (NLEEP mixture, linear probe; default 20000), max_pairs (exact leave-one-out k-NN "
        "distance pairs; default 1e9), min_queries, warn_seconds. E.g. 'max_rows=50000,max_pairs=4e9'.",
    ),
    batch_size: int = batch_size_option(64, "Feature-extraction batch size."),
    workers: int = WORKERS_OPTION,
    out: str | None = OUT_OPTION,
    mlflow: str | None = MLFLOW_OPTION,
) -> None:
    """Rank backbones for TARGET with transferability scores; write a run folder with results.json."""
    from transferkit.reports.run import make_run_dir
    from transferkit.transferability import run_rank
    from transferkit.transferability.rank import DEFAULT_SCORES

    names = [s.strip() for s in scores.split(",") if s.strip()] if scores is not None else list(DEFAULT_SCORES)
    results = run_rank(target, split_specs(models), names, rank_by=rank_by, max_samples=max_samples, seed=seed,
                       limits=parse_limits(score_limits), batch_size=batch_size, workers=workers)
    run_dir = make_run_dir("rank", root=out, name=results["data"]["target"]["name"])
    finish_run(run_dir, results, mlflow)
