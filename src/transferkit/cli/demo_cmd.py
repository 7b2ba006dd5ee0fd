"""``transferkit demo``."""

from __future__ import annotations

import time

import typer
from rich.table import Table

from transferkit.cli._app import app, console
from transferkit.cli._common import RUNS_OPTION, friendly_errors
from transferkit.cli.report_cmd import MLFLOW_OPTION, finish_run


def comparison_table(section: dict, title: str) -> Table:
    """A rich table of a transfer-vs-scratch comparison section."""
    t = Table(title=title, show_lines=False)
    t.add_column("model")
    t.add_column(f"test {section['metric']} (mean)", justify="right")
    t.add_column("per seed", justify="left")
    arms = [section["transfer"], section["scratch"], *section.get("others", {}).values()]
    for arm in arms:
        t.add_row(arm["name"], f"{arm['mean']:.3f}", "  ".join(f"{v:.3f}" for v in arm["per_seed"]))
    return t


VERDICT_STYLE = {"positive": "bold green", "inconclusive": "bold yellow", "negative": "bold red"}


@app.command("demo")
@friendly_errors
def demo(
    seeds: int = typer.Option(5, help="Paired seeds per label budget."),
    budgets: str = typer.Option("2,5,10", help="Labelled target images per class, comma-separated."),
    runs: str = RUNS_OPTION,
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
    mlflow: str | None = MLFLOW_OPTION,
) -> None:
    """Transfer vs scratch on embedded data (digits 0-4 -> 5-9): no files, no network, ~2 minutes."""
    from transferkit.demo import DemoConfig, run_demo
    from transferkit.reports.run import make_run_dir

    cfg = DemoConfig(seeds=seeds, budgets=tuple(int(b) for b in budgets.split(",")), progress=not quiet)
    console.rule("[bold]transferkit demo[/]: does a CNN pre-trained on digits 0-4 help learn 5-9 from few labels?")
    t0 = time.perf_counter()
    with console.status("working...") if quiet else _null():
        res = run_demo(cfg, on_step=lambda m: console.print(f"[dim]·[/] {m}"))
    run_dir = make_run_dir("demo", runs)
    finish_run(run_dir, res, mlflow=mlflow, out=console)
    le = res["sections"]["label_efficiency"]
    table = Table(title="Label efficiency: test accuracy on digits 5-9 (mean over seeds)")
    for col in ("labels/class", "transfer", "scratch", "transfer - scratch [95% CI]", "verdict"):
        table.add_column(col, justify="right" if col != "verdict" else "left")
    for i, b in enumerate(le["budgets"]):
        d = le["diff"][i]
        v = le["verdicts"][i]
        table.add_row(str(b), f"{le['transfer']['mean'][i]:.3f}", f"{le['scratch']['mean'][i]:.3f}",
                      f"{d['mean']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]", f"[{VERDICT_STYLE[v]}]{v}[/]")
    console.print(table)
    comp = res["sections"]["comparison"]
    console.print(comparison_table(comp, f"At {comp['budget_label']} (all models)"))
    stop = le["crossover"]
    console.print(f"[bold]Verdict at {comp['budget_label']}:[/] [{VERDICT_STYLE[comp['verdict']]}]{comp['verdict']}"
                  f"[/] transfer. {comp['advice']}")
    if stop is not None:
        console.print(f"Transfer stops helping clearly at [bold]{stop}[/] labels per class.")
    console.print(f"Done in {time.perf_counter() - t0:.0f} s. Open [bold]{run_dir}/report.html[/] for the plots.")


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *a: object) -> None:
        return None
