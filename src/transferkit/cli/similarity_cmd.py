"""``transferkit similarity``: how far apart are a source and a target data set, seen by one backbone.

Parses the options and calls :func:`transferkit.similarity.measure_similarity`; :func:`finish_run`
writes the run folder and prints the measures and the label relation.
"""

from __future__ import annotations

import typer

from transferkit.cli._app import app
from transferkit.cli._common import finish_run, friendly_errors
from transferkit.cli._options import MLFLOW_OPTION, OUT_OPTION, WORKERS_OPTION, batch_size_option, seed_option
from transferkit.cli._shared import reads_data


@app.command("similarity")
@friendly_errors
@reads_data("source", "target")
def similarity_command(
    source: str = typer.Option(..., "--source", "-s", help="Source data set: a named set (mnist) or a path."),
    target: str = typer.Option(..., "--target", "-t", help="Target data set: a named set (usps) or a path."),
    backbone: str = typer.Option(
        ...,
        "--backbone",
        "-b",
        help="Backbone spec whose features are compared ('raw': the inputs themselves).",
    ),
    measures: str = typer.Option("mmd,proxy_a,coral,frechet", "--measures", help="Comma-separated distances."),
    class_measures: str = typer.Option(
        "mmd", "--class-measures", help="Distances computed class by class (empty: none)."
    ),
    max_samples: int | None = typer.Option(
        2000, "--max-samples", min=0, help="Random (stratified) subset per side; 0 keeps everything."
    ),
    permutations: int = typer.Option(200, "--permutations", min=0, help="MMD permutation-test permutations."),
    standardize: str = typer.Option(
        "auto", "--standardize", metavar="auto|always|never",
        help="Z-score both sides with pooled statistics first: 'auto' when feature columns differ in scale by "
        "more than 50x (a note says so), 'always' or 'never'.",
    ),
    seed: int = seed_option("Seed of the subsets, the permutation test and the domain classifier."),
    batch_size: int = batch_size_option(64, "Feature-extraction batch size."),
    workers: int = WORKERS_OPTION,
    out: str | None = OUT_OPTION,
    mlflow: str | None = MLFLOW_OPTION,
) -> None:
    """Domain distances between SOURCE and TARGET features, per class, and their label relation."""
    from transferkit.reports.run import make_run_dir
    from transferkit.similarity import measure_similarity

    results = measure_similarity(source, target, backbone, measures=measures, class_measures=class_measures,
                                 max_samples=max_samples, permutations=permutations, seed=seed,
                                 batch_size=batch_size, workers=workers, standardize=standardize)
    data = results["data"]
    run_dir = make_run_dir("similarity", root=out, name=f"{data['source']['name']}-{data['target']['name']}")
    finish_run(run_dir, results, mlflow)
