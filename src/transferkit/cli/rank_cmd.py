"""``transferkit rank``: score candidate backbones on a target data set and rank them.

Parses the options and calls :func:`transferkit.transferability.run_rank`; :func:`finish_run`
writes the run folder and prints the ranking.
"""

from __future__ import annotations

import re

import typer

from transferkit.cli._app import app
from transferkit.cli._common import finish_run, friendly_errors, set_data_root
from transferkit.cli._options import DATA_ROOT_OPTION, MLFLOW_OPTION, RUNS_OPTION
from transferkit.transferability.rank import DEFAULT_SCORES


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
def rank_command(
    target: str = typer.Option(..., "--target", "-t", help="Target data set: a named set (sms-spam) or a path."),
    models: str = typer.Option(..., "--models", "-m", help="Comma-separated backbone specs to rank."),
    scores: str = typer.Option(
        ",".join(DEFAULT_SCORES),
        "--scores",
        "-s",
        help="Comma-separated transferability scores: logme, regularized_h_score, h_score, nleep, gbc, "
        "transrate, knn_accuracy, linear_probe_accuracy; leep and nce need a source classifier head.",
    ),
    rank_by: str | None = typer.Option(None, "--rank-by", help="Score that orders the table (default: first)."),
    max_samples: int | None = typer.Option(
        None, "--max-samples", min=1, help="Use a class-stratified subset of this many target samples."
    ),
    seed: int = typer.Option(0, "--seed", min=0, max=2**32 - 1, help="Seed of the subset."),
    score_limits: str = typer.Option(
        "", "--score-limits",
        help="Where super-linear scores switch to a seeded stratified subsample, as key=value pairs: "
        "max_rows (NLEEP mixture, linear probe; default 20000), max_pairs (exact leave-one-out k-NN "
        "distance pairs; default 1e9), min_queries, warn_seconds. E.g. 'max_rows=50000,max_pairs=4e9'.",
    ),
    runs: str | None = RUNS_OPTION,
    data_root: str | None = DATA_ROOT_OPTION,
    mlflow: str | None = MLFLOW_OPTION,
) -> None:
    """Rank backbones for TARGET with transferability scores; write a run folder with results.json."""
    from transferkit.reports.run import make_run_dir
    from transferkit.transferability import run_rank

    set_data_root(data_root)
    names = [s.strip() for s in scores.split(",") if s.strip()]
    results = run_rank(target, split_specs(models), names, rank_by=rank_by, max_samples=max_samples, seed=seed,
                       limits=parse_limits(score_limits))
    run_dir = make_run_dir("rank", root=runs, name=results["data"]["target"]["name"])
    finish_run(run_dir, results, mlflow)
