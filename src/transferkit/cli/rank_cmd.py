"""``transferkit rank``: score candidate backbones on a target data set and rank them."""

from __future__ import annotations

import re

import typer

from transferkit.cli._app import app, console
from transferkit.cli._common import DATA_ROOT_OPTION, RUNS_OPTION, friendly_errors, set_data_root
from transferkit.cli.report_cmd import MLFLOW_OPTION, finish_run
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
        None, "--max-samples", help="Use a class-stratified subset of this many target samples."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the subset."),
    runs: str | None = RUNS_OPTION,
    data_root: str | None = DATA_ROOT_OPTION,
    mlflow: str | None = MLFLOW_OPTION,
) -> None:
    """Rank backbones for TARGET with transferability scores; write a run folder with results.json."""
    from transferkit.data import load_dataset
    from transferkit.reports.run import make_run_dir, new_results
    from transferkit.transferability import SCORES, rank

    set_data_root(data_root)
    names = [s.strip() for s in scores.split(",") if s.strip()]
    for s in names + ([rank_by] if rank_by else []):
        SCORES.canonical(s)  # an unknown name fails now, before any feature extraction
    dataset = load_dataset(target)
    table = rank(split_specs(models), dataset, scores=names, rank_by=rank_by, max_samples=max_samples, seed=seed)

    for r in table.rows:
        for note in r.notes:
            console.print(f"[dim]{r.model}: {note}[/dim]")
    for note in table.notes:
        console.print(f"[dim]{note}[/dim]")

    section = table.to_section()
    for row in section["rows"]:  # flat values render best in the report
        row["seconds"] = round(sum(row["seconds"].values()), 3)
        row["notes"] = "; ".join(row["notes"])
    results = new_results(
        "rank",
        seeds=[seed],
        data={"target": dataset.describe(), "max_samples": max_samples},
        models={r.model: {"fingerprint": r.fingerprint, "num_features": r.num_features} for r in table.rows},
    )
    results["sections"]["ranking"] = section
    run_dir = make_run_dir("rank", root=runs, name=dataset.name)
    finish_run(run_dir, results, mlflow)  # writes results.json + report.html, prints the ranking table
