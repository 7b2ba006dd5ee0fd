"""``transferkit multitask CONFIG.yaml``: one shared model for many tasks, its gain per task measured."""

from __future__ import annotations

import time
from typing import Any

import typer
from rich.table import Table

from transferkit.cli._app import app, console
from transferkit.cli._common import DATA_ROOT_OPTION, RUNS_OPTION, friendly_errors, set_data_root

_STYLE = {"positive": "green", "inconclusive": "", "negative": "bold red"}


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.3f}"


def multitask_table(section: dict[str, Any]) -> Table:
    """Per-task test scores (single vs each weighting) with the paired difference and its 95% CI."""
    ws = list(section.get("delta_m", {}))
    metric = section["metric"] if isinstance(section["metric"], str) else "per-task metric"
    t = Table(title=f"Test {metric} per task (mean over seeds); diff = multi - single [95% CI]")
    t.add_column("task")
    t.add_column("single", justify="right")
    for w in ws:
        t.add_column(w, justify="right")
    for row in section["rows"]:
        cells = [row["task"], _fmt(row["single"])]
        for w in ws:
            lo, hi = row["diff_ci"][w]
            v = row["verdict"][w]
            cell = f"{_fmt(row[f'multi_{w}'])}\n{row['diff'][w]:+.3f} [{lo:+.2f}, {hi:+.2f}]"
            cells.append(f"[{_STYLE[v]}]{cell}[/]" if _STYLE[v] else cell)
        t.add_row(*cells)
    dm = section.get("delta_m", {})
    ci = section.get("delta_m_ci", {})
    t.add_section()
    t.add_row("Δm % (lower = better)", "", *(f"{dm[w]:+.2f} [{ci[w][0]:+.1f}, {ci[w][1]:+.1f}]" for w in ws))
    return t


def metrics_table(rows: list[dict[str, Any]], arms: list[str]) -> Table:
    """The other metrics (accuracy, balanced accuracy, AUROC...) per task and arm."""
    t = Table(title="Other test metrics (mean over seeds)")
    for c in ("task", "metric", *arms):
        t.add_column(c, justify="left" if c in ("task", "metric") else "right")
    for r in rows:
        t.add_row(r["task"], r["metric"], *(_fmt(r.get(a)) for a in arms))
    return t


@app.command("multitask")
@friendly_errors
def multitask(
    config: str = typer.Argument(
        ...,
        help="YAML config: backbone, tasks (name, data, head, budget), weightings, "
        "seeds, epochs (see examples/multitask_heart.yaml).",
    ),
    seeds: int = typer.Option(None, help="Override: number of seeds (0..N-1)."),
    epochs: int = typer.Option(None, help="Override: maximum epochs."),
    weightings: str = typer.Option(
        None, help="Override: comma-separated weightings (equal,uncertainty,dwa,gradnorm,pcgrad,cagrad)."
    ),
    data_root: str = DATA_ROOT_OPTION,
    runs: str = RUNS_OPTION,
    quiet: bool = typer.Option(False, "--quiet", help="No per-step messages."),
) -> None:
    """Train one shared trunk with a head per task and compare every task with its single-task model."""
    from transferkit.multitask import load_config, run_multitask
    from transferkit.reports.run import make_run_dir, write_results

    set_data_root(data_root)
    cfg = load_config(config, seeds=seeds, epochs=epochs, weightings=weightings)
    console.rule(f"[bold]transferkit multitask[/]: {len(cfg.tasks)} tasks on one {cfg.backbone} trunk")
    t0 = time.perf_counter()
    say = (lambda m: None) if quiet else (lambda m: console.print(f"[dim]·[/] {m}"))
    res = run_multitask(cfg, on_step=say)
    run_dir = make_run_dir("multitask", runs, cfg.name)
    write_results(run_dir, res)
    section = res["sections"]["multitask"]
    if "delta_m" in section:
        console.print(multitask_table(section))
        arms = ["single", *(f"multi_{w}" for w in section["delta_m"])]
        console.print(metrics_table(res["sections"]["multitask_metrics"], arms))
        console.print(f"[dim]{section['delta_m_note']}[/]")
        negatives = [(r["task"], w) for r in section["rows"] for w, neg in r["negative"].items() if neg]
        if negatives:
            console.print(
                "[bold red]Negative transfer[/] (multi-task worse, whole 95% CI below 0): "
                + ", ".join(f"{t} with {w}" for t, w in negatives)
            )
        else:
            console.print("No task shows significant negative transfer (no 95% CI wholly below 0).")
    console.print(f"Results: [bold]{run_dir}/results.json[/]; {time.perf_counter() - t0:.0f} s.")
