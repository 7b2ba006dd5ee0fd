"""``transferkit fit``: transfer a backbone to a target data set and prove it against scratch.

Writes a run folder with ``results.json`` (comparison at the first budget, label-efficiency
curve over all budgets, training curves, confusion matrix) and prints rich tables. Runs under
``accelerate launch`` too: every process trains, only the main one writes and prints.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from transferkit.cli._app import app, console
from transferkit.cli._common import DATA_ROOT_OPTION, RUNS_OPTION, friendly_errors, set_data_root
from transferkit.errors import TransferkitError


def _subsample(ds: Any, limit: int | None, seed: int = 0) -> Any:
    from transferkit.data import label_budget

    if not limit or len(ds) <= limit:
        return ds
    if ds.task == "classification":
        return label_budget(ds, limit / len(ds), seed)
    import numpy as np

    return ds.subset(np.sort(np.random.default_rng(seed).choice(len(ds), limit, replace=False)))


def run_fit(target: str, backbone: str, strategy: str = "auto", budgets: str = "10,50,all", seeds: int = 5,
            source: str | None = None, target_test: str | None = None, epochs: int = 20, lr: float | None = None,
            metric: str | None = None, others: str = "", source_max: int | None = 10000,
            target_max: int | None = None, source_epochs: int = 5, batch_size: int = 32,
            patience: int | None = None, keep_head: bool = True, on_step: Any = None, progress: bool = False,
            workers: int = 0) -> dict[str, Any]:
    """Everything ``transferkit fit`` does except printing and writing; returns the results dict."""
    from transferkit.backbones import needs_pretrained_message
    from transferkit.data import TransferTask, load_dataset, parse_budget
    from transferkit.experiments.compare import label_efficiency, pretrain_source
    from transferkit.reports.run import new_results
    from transferkit.strategies import get_strategy
    from transferkit.training import TrainConfig

    say = on_step or (lambda m: None)
    for name in [strategy, *[o for o in others.split(",") if o.strip()]]:
        get_strategy(name)  # unknown names fail now, before any pre-training
    blist = [parse_budget(b) for b in budgets.split(",") if b.strip()]
    tgt = _subsample(load_dataset(target), target_max)
    test = load_dataset(target_test) if target_test else None
    src = _subsample(load_dataset(source), source_max) if source else None
    if src is None:
        msg = needs_pretrained_message(backbone, tgt.kind)
        if msg:
            raise TransferkitError(msg)
    task = TransferTask(target=tgt, source=src, target_test=test, seed=0)
    bb_or_model: Any = backbone
    models: dict[str, Any] = {"backbone": backbone}
    if src is not None:
        say(f"pre-training {backbone} on the source {src.name}: {len(src)} examples, up to {source_epochs} epochs")
        model, res = pretrain_source(src, backbone, TrainConfig(epochs=source_epochs, lr=2e-3, batch_size=64,
                                                                patience=3, progress=progress))
        bb_or_model = model
        models["pretrained_on_source"] = {"source": src.name, "source_val_accuracy": res.best_score,
                                          "best_epoch": res.best_epoch, "seconds": res.seconds,
                                          "fingerprint": model.backbone.fingerprint()[:16]}
    # no early stopping by default: both arms get the whole budget (a scratch net with BatchNorm can sit at
    # chance on a tiny validation split for several epochs before it takes off); the best epoch is kept
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, patience=patience, progress=progress, num_workers=workers)
    le = label_efficiency(task, bb_or_model, strategy, budgets=blist, seeds=seeds, config=cfg, lr=lr, metric=metric,
                          others=[o for o in others.split(",") if o.strip()], keep_source_head=keep_head, on_step=say)
    first = le.budgets[0]
    from accelerate import PartialState

    out = new_results("fit")
    out["seeds"] = first.seeds
    out["config"] = {"target": target, "target_test": target_test, "source": source, "backbone": backbone,
                     "strategy": strategy, "budgets": blist, "epochs": epochs, "patience": patience, "lr": lr, "batch_size": batch_size,
                     "metric": first.metric, "source_max": source_max, "target_max": target_max,
                     "num_processes": PartialState().num_processes}
    out["data"] = {"target": tgt.describe(), "splits": task.describe(),
                   **({"source": src.describe()} if src is not None else {})}
    out["models"] = models
    out["sections"]["comparison"] = first.section()
    out["sections"]["label_efficiency"] = le.label_efficiency()
    out["sections"]["curves"] = first.curves
    if first.confusion_matrix is not None:
        out["sections"]["confusion_matrix"] = first.confusion_matrix
    out["comparisons_by_budget"] = [c.section() for c in le.budgets]
    return out


def _tables(res: dict[str, Any]) -> None:
    from transferkit.cli.demo_cmd import VERDICT_STYLE, comparison_table

    le = res["sections"]["label_efficiency"]
    comps = res["comparisons_by_budget"]
    metric = le["metric"]
    t = Table(title=f"Label efficiency: test {metric} (mean over {len(res['seeds'])} seeds)")
    for col in ("budget", "transfer", "scratch", "transfer - scratch [95% CI]", "verdict", "strategy"):
        t.add_column(col, justify="left" if col in ("verdict", "strategy", "budget") else "right")
    for i, label in enumerate(le["budget_labels"]):
        d, v = le["diff"][i], le["verdicts"][i]
        chosen = comps[i]["transfer"]["name"].split(" + ", 1)[-1]
        ci = (f"{d['mean']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]" if d["mean"] is not None else "-")
        t.add_row(label, f"{le['transfer']['mean'][i]:.3f}", f"{le['scratch']['mean'][i]:.3f}", ci,
                  f"[{VERDICT_STYLE[v]}]{v}[/]", chosen)
    console.print(t)
    comp = res["sections"]["comparison"]
    table = comparison_table(comp, f"At {comp['budget_label']} (all models)")
    if "source_only" in comp:
        so = comp["source_only"]
        table.add_row(so["name"], f"{so['mean']:.3f}", "(same model every seed)")
    console.print(table)
    for c in comps:
        reason = (c.get("strategy") or {}).get("reason")
        if reason:
            console.print(f"[dim]auto at {c['budget_label']}:[/] {reason}")
    speed = [s["transfer"]["epochs"] for s in comp["time_to_scratch_best"]]
    if speed:
        reached = [e for e in speed if e is not None]
        console.print(f"Transfer reached scratch's best validation score in {len(reached)}/{len(speed)} seeds" +
                      (f" (median {sorted(reached)[len(reached) // 2]:.0f} epochs/fits)" if reached else "") + ".")
    console.print(f"[bold]Verdict at {comp['budget_label']}:[/] [{VERDICT_STYLE[comp['verdict']]}]{comp['verdict']}[/]"
                  f" transfer. {comp['advice']}")
    console.print(f"Label efficiency: {le['summary']}.")


@app.command("fit")
@friendly_errors
def fit(
    target: str = typer.Option(..., "--target", help="Target data: a named set (sms-spam, usps@train) or a path."),
    backbone: str = typer.Option(..., "--backbone", help="Backbone spec (minilm, smallcnn, timm:..., zoo:...)."),
    strategy: str = typer.Option("auto", help="Strategy name (auto, linear_probe, finetune, lp_ft, l2sp, ...)."),
    budgets: str = typer.Option("10,50,all", help="Label budgets: per class (10), fractions (0.1), stratified "
                                "totals (64total) or all."),
    seeds: int = typer.Option(5, help="Paired seeds per budget."),
    source: str | None = typer.Option(None, "--source", help="Pre-train the backbone on this labelled source first."),
    target_test: str | None = typer.Option(None, "--target-test", help="Official target test split (e.g. usps@test)."),
    epochs: int = typer.Option(20, help="Training epochs per arm (both arms get the same)."),
    lr: float | None = typer.Option(None, help="Learning rate of the transfer arm (default: the strategy's)."),
    metric: str | None = typer.Option(None, help="Compared metric (default: macro_f1 if imbalanced, else accuracy)."),
    others: str = typer.Option("", help="Extra strategies to report beside transfer, comma-separated."),
    source_max: int = typer.Option(10000, help="Subsample the source to at most this many examples (0: all)."),
    target_max: int = typer.Option(0, help="Subsample the target to at most this many examples (0: all)."),
    source_epochs: int = typer.Option(5, help="Epochs of source pre-training."),
    batch_size: int = typer.Option(32, help="Training batch size."),
    patience: int = typer.Option(0, help="Early-stopping patience in epochs (0: none, train the whole budget)."),
    workers: int = typer.Option(0, help="DataLoader worker processes preparing batches (GPU runs: 4-8)."),
    keep_head: bool = typer.Option(True, "--keep-head/--new-head", help="With --source and the same label set: "
                                   "start from the source head (default) or a new one."),
    data_root: str = DATA_ROOT_OPTION,
    runs: str = RUNS_OPTION,
    quiet: bool = typer.Option(False, "--quiet", help="No progress messages."),
) -> None:
    """Transfer a backbone to a target and prove it: strategy vs scratch over paired seeds and label budgets."""
    from accelerate import PartialState

    from transferkit.reports.run import make_run_dir, write_results

    set_data_root(data_root)
    import torch

    # cpu=True on CPU-only machines so that `accelerate launch` / torchrun processes join a gloo group
    main = PartialState(cpu=not torch.cuda.is_available()).is_main_process
    t0 = time.perf_counter()
    if main:
        console.rule(f"[bold]transferkit fit[/]: {backbone} -> {target} ({strategy})")
    say = (lambda m: console.print(f"[dim]·[/] {m}")) if (main and not quiet) else None
    res = run_fit(target, backbone, strategy, budgets, seeds, source, target_test, epochs, lr, metric, others,
                  source_max or None, target_max or None, source_epochs, batch_size, patience or None, keep_head,
                  on_step=say, workers=workers)
    if not main:
        return
    run_dir = make_run_dir("fit", runs)
    write_results(run_dir, res)
    _tables(res)
    console.print(f"Results: [bold]{Path(run_dir) / 'results.json'}[/]; {time.perf_counter() - t0:.0f} s.")
