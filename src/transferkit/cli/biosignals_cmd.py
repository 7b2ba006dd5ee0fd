"""``transferkit har``: cross-subject transfer on UCI HAR (or any subject-grouped signal set)."""

from __future__ import annotations

import time

import typer
from rich.markup import escape
from rich.table import Table

from transferkit.cli._app import app, console
from transferkit.cli._common import DATA_ROOT_OPTION, RUNS_OPTION, friendly_errors, set_data_root

_STYLE = {"positive": "green", "inconclusive": "yellow", "negative": "bold red"}


def har_table(section: dict) -> Table:
    """Mean test accuracy over held-out subjects per k, and subjects per verdict."""
    t = Table(title=f"Cross-subject transfer, {section['dataset']}: mean accuracy over "
                    f"{len(section['settings']['target_subjects'])} held-out subjects "
                    f"(norm={section['settings']['norm']}, {section['settings']['seeds']} seeds each)")
    for col in ("k/class", "transfer", "scratch", "source-only", "transfer - scratch [95% CI, subjects]",
                "subjects +/~/-"):
        t.add_column(col, justify="right")
    for s in section["summary"]:
        d, c = s["diff_over_subjects"], s["verdict_counts"]
        t.add_row(str(s["k"]), f"{s['transfer']['mean']:.3f}", f"{s['scratch']['mean']:.3f}",
                  f"{s['source_only']['mean']:.3f}",
                  f"[{_STYLE[d['verdict']]}]{d['mean']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}][/]",
                  f"{c['positive']}/{c['inconclusive']}/[{_STYLE['negative'] if c['negative'] else 'dim'}]"
                  f"{c['negative']}[/]")
    return t


@app.command("har")
@friendly_errors
def har(
    source_subjects: str = typer.Option("1-20", help="Subjects to pre-train on, e.g. 1-20 or 1,3,5-9."),
    target_subjects: str = typer.Option("21-30", help="Held-out subjects to transfer to."),
    shots: str = typer.Option("1,5,10,20", help="Labelled windows per class from each target subject."),
    seeds: int = typer.Option(3, help="Paired seeds per subject and k (split, k-shot draw and initialisation)."),
    norm: str = typer.Option("channel", help="Per-subject normalisation: none, channel, ea (Euclidean "
                                             "alignment) or channel+ea; applied to source and target alike."),
    dataset: str = typer.Option("uci-har", help="A signal data set (N, C, T) with subject ids as groups."),
    backbone: str = typer.Option("signalcnn?width=16&num_features=64", help="Backbone spec (a signal net)."),
    source_epochs: int = typer.Option(15, help="Pre-training epochs on the source subjects."),
    target_epochs: int = typer.Option(20, help="Fine-tuning / scratch epochs per target run."),
    data_root: str = DATA_ROOT_OPTION,
    runs: str = RUNS_OPTION,
    quiet: bool = typer.Option(False, "--quiet", help="Less output."),
) -> None:
    """Pre-train on some subjects, transfer to each held-out subject with k labels per class, vs scratch
    and source-only, with the per-subject negative-transfer verdict."""
    from transferkit.biosignals import CrossSubjectConfig, label_efficiency, run_cross_subject
    from transferkit.data import load_dataset
    from transferkit.data.public import parse_subjects
    from transferkit.reports.run import make_run_dir, new_results, write_results

    set_data_root(data_root)
    cfg = CrossSubjectConfig(source_subjects=tuple(parse_subjects(source_subjects)),
                             target_subjects=tuple(parse_subjects(target_subjects)),
                             shots=tuple(int(k) for k in shots.split(",") if k.strip()), seeds=seeds, norm=norm,
                             backbone=backbone, source_epochs=source_epochs, target_epochs=target_epochs)
    t0 = time.perf_counter()
    data = load_dataset(dataset)
    section = run_cross_subject(data, cfg, on_step=None if quiet else (lambda m: console.print(f"[dim]·[/] {escape(m)}")))
    res = new_results("har", seeds=list(range(seeds)))
    res["config"] = section["settings"]
    res["data"] = {"dataset": data.describe(), "source_subjects": list(cfg.source_subjects),
                   "target_subjects": list(cfg.target_subjects)}
    res["models"] = {"pretrained": {"spec": cfg.backbone, **section["source"]}}
    res["sections"]["biosignals"] = section
    res["sections"]["label_efficiency"] = label_efficiency(section)
    run_dir = make_run_dir("har", runs)
    write_results(run_dir, res)
    console.print(har_table(section))
    for s in section["summary"]:
        if s["negative_subjects"]:
            console.print(f"[bold red]negative transfer[/] at k={s['k']} for subjects {s['negative_subjects']}: "
                          "for them, scratch training was better.")
    console.print(f"Results: [bold]{run_dir}/results.json[/]; {time.perf_counter() - t0:.0f} s.")
