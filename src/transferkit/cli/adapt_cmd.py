"""``transferkit adapt``: domain adaptation with source-only beside it, and an honest verdict."""

from __future__ import annotations

from typing import Any

import numpy as np
import typer
from rich.table import Table

from transferkit.cli._app import app, console
from transferkit.cli._common import DATA_ROOT_OPTION, RUNS_OPTION, friendly_errors, set_data_root
from transferkit.errors import DataError


def adaptation_section(result: Any, rows: list[dict[str, Any]], n_target_labels: int) -> dict[str, Any]:
    """The ``results["sections"]["adaptation"]`` dict of a run."""
    v = result.verdict
    return {
        "method": result.method,
        "kind": result.kind,
        "rows": [
            {
                "model": r["model"],
                "seed": r["seed"],
                "target_accuracy": r["target_accuracy"],
                "target_val_accuracy": r.get("target_val_accuracy"),
                "selection_scores": r["selection_scores"],
            }
            for r in rows
        ],
        "verdict": v.verdict,
        "recommended": v.recommended,
        "gain_on_target_val": v.mean_gain,
        "gain_ci": [v.ci_low, v.ci_high] if v.ci_low is not None else None,
        "advice": v.advice,
        "label_free_choice": result.label_free_choice,
        "caveats": result.caveats,
        "target_labels_per_class": n_target_labels,
        "note": "target_accuracy is measured on held-out target test rows after training and selection; "
        "those labels never reach training or selection.",
    }


def print_table(section: dict[str, Any]) -> None:
    """Rich table: one line per model with mean target accuracy and mean selection scores."""
    table = Table(title=f"adaptation: {section['method']} vs source-only")
    table.add_column("model")
    table.add_column("target acc (test)", justify="right")
    if section["target_labels_per_class"]:
        table.add_column("target val acc", justify="right")
    score_names = list(section["rows"][0]["selection_scores"])
    for s in score_names:
        table.add_column(s.replace("_", " "), justify="right")
    for model in dict.fromkeys(r["model"] for r in section["rows"]):
        rs = [r for r in section["rows"] if r["model"] == model]
        acc = [r["target_accuracy"] for r in rs]
        cells = [model, f"{np.mean(acc):.3f} ± {np.std(acc):.3f}"]
        if section["target_labels_per_class"]:
            cells.append(f"{np.mean([r['target_val_accuracy'] for r in rs]):.3f}")
        cells += [f"{np.mean([r['selection_scores'][s] for r in rs]):.3f}" for s in score_names]
        table.add_row(*cells)
    console.print(table)
    console.print(f"label-free choice per score: {section['label_free_choice']}")
    style = {"negative transfer": "bold red", "adaptation helped": "bold green"}.get(
        section["verdict"], "bold yellow"
    )
    console.print(f"[{style}]verdict: {section['verdict']}[/] - recommended model: {section['recommended']}")
    console.print(section["advice"])


@app.command("adapt")
@friendly_errors
def adapt_command(
    source: str = typer.Option(..., "--source", "-s", help="Labelled source data (named set or path)."),
    target: str = typer.Option(
        ...,
        "--target",
        "-t",
        help="Target data; its labels are only used for the "
        "held-out test accuracy and the --target-labels examples.",
    ),
    method: str = typer.Option("dann", "--method", "-m", help="Adaptation method (shallow or deep)."),
    target_labels: int = typer.Option(
        0,
        "--target-labels",
        help="Labelled target examples per class for selection and the verdict (0: none).",
    ),
    seeds: int = typer.Option(3, "--seeds", help="Number of seeds (0..N-1)."),
    target_test: str | None = typer.Option(
        None,
        "--target-test",
        help="Separate labelled target test set (default: a stratified 30% of --target is held out).",
    ),
    backbone: str | None = typer.Option(
        None, "--backbone", help="Deep methods: lenet (default for images) or a backbone spec."
    ),
    steps: int = typer.Option(1000, "--steps", help="Deep methods: training steps."),
    batch_size: int = typer.Option(64, "--batch-size", help="Deep methods: rows per stream per step."),
    lr: float = typer.Option(0.01, "--lr", help="Deep methods: initial learning rate."),
    runs: str | None = RUNS_OPTION,
    data_root: str | None = DATA_ROOT_OPTION,
) -> None:
    """Adapt from SOURCE to TARGET with METHOD; report source-only beside it and a verdict."""
    from transferkit.adaptation.api import adapt
    from transferkit.adaptation.deep import DeepConfig
    from transferkit.data import label_budget, load_dataset
    from transferkit.data.splits import stratified_indices
    from transferkit.reports.run import make_run_dir, new_results, write_results

    set_data_root(data_root)
    if seeds < 1:
        raise DataError("--seeds must be >= 1")
    if target_labels < 0:
        raise DataError("--target-labels must be >= 0")
    src = load_dataset(source)
    tgt = load_dataset(target)
    src.require_labels(2)
    if target_test is not None:
        test = load_dataset(target_test)
        pool = tgt
    else:
        tgt.require_labels(2)
        pool_idx, test_idx = stratified_indices(tgt.y, len(tgt), (0.7, 0.3), 0)[:2]
        pool, test = tgt.subset(pool_idx, f"{tgt.name}[adapt]"), tgt.subset(test_idx, f"{tgt.name}[test]")
    test.require_labels(2)
    val = None
    if target_labels > 0:
        pool.require_labels(2)
        val = label_budget(pool, target_labels, seed=0)
    result = adapt(
        src,
        pool.x,
        method,
        target_val=None if val is None else (val.x, val.y),
        seeds=list(range(seeds)),
        backbone=backbone,
        deep_config=DeepConfig(steps=steps, batch_size=batch_size, lr=lr),
    )
    rows = result.evaluate(test.x, test.y)  # the only place target test labels are read
    section = adaptation_section(result, rows, target_labels)
    results = new_results(
        "adapt",
        seeds=list(range(seeds)),
        data={
            "source": src.describe(),
            "target": pool.describe(),
            "target_test": test.describe(),
            "target_val": None if val is None else val.describe(),
        },
    )
    results["sections"]["adaptation"] = section
    run_dir = make_run_dir("adapt", root=runs, name=f"{result.method}")
    print_table(section)
    write_results(run_dir, results)
    console.print(f"results: {run_dir / 'results.json'}")
