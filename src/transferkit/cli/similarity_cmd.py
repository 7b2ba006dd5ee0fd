"""``transferkit similarity``: how far apart are a source and a target data set, seen by one backbone."""

from __future__ import annotations

from typing import Any

import numpy as np
import typer
from rich.table import Table

from transferkit.cli._app import app, console
from transferkit.cli._common import DATA_ROOT_OPTION, RUNS_OPTION, friendly_errors, set_data_root
from transferkit.cli.report_cmd import MLFLOW_OPTION, finish_run
from transferkit.errors import DataError, TransferkitError
from transferkit.transferability._validate import stratified_sample
from transferkit.transferability.rank import RAW, raw_features


def stratified_subset(y: np.ndarray | None, n: int, max_samples: int | None, seed: int) -> np.ndarray | None:
    """Indices of a (class-stratified when labelled) random subset, or None to keep everything."""
    if max_samples is None or max_samples >= n:
        return None
    if y is None or len(np.unique(y)) < 2:
        return np.sort(np.random.default_rng(seed).choice(n, max_samples, replace=False))
    return stratified_sample(y, max_samples, seed)


def similarity_section(
    xs: np.ndarray,
    xt: np.ndarray,
    ys: np.ndarray | None,
    yt: np.ndarray | None,
    *,
    source_classes: tuple[str, ...] | None = None,
    target_classes: tuple[str, ...] | None = None,
    measures: tuple[str, ...] = ("mmd", "proxy_a", "coral", "frechet"),
    class_measures: tuple[str, ...] = ("mmd",),
    permutations: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """The ``results["sections"]["similarity"]`` record for two feature samples (and labels)."""
    from transferkit.similarity import (
        DISTANCES,
        class_conditional,
        label_relation_from_features,
        mmd_test,
    )

    out: dict[str, Any] = {"measures": {}, "class_conditional": {}, "label_relation": None}
    for name in measures:
        entry = DISTANCES.entry(name)
        if entry.name == "mmd":
            r = mmd_test(xs, xt, n_permutations=permutations, seed=seed)
            note = f"{r.estimator} estimator, bandwidth {r.bandwidth:.4g}, {permutations} permutations"
            out["measures"]["mmd"] = {"value": r.value, "p_value": r.p_value, "note": note}
        else:
            kwargs = {"seed": seed} if entry.info.randomized else {}
            value = float(entry.obj(xs, xt, **kwargs))
            out["measures"][entry.name] = {"value": value, "p_value": None, "note": entry.info.summary}
    if ys is None or yt is None:
        return out
    s_names = np.array(source_classes, dtype=object)[ys] if source_classes else ys
    t_names = np.array(target_classes, dtype=object)[yt] if target_classes else yt
    for name in class_measures:
        try:
            cc = class_conditional(name, xs, s_names, xt, t_names, min_count=10)
        except DataError as exc:
            out["class_conditional"][name] = {"error": str(exc)}
            continue
        out["class_conditional"][name] = cc.to_dict()
    if len(np.unique(ys)) >= 2:
        rel = label_relation_from_features(xs, s_names, xt, t_names)
        out["label_relation"] = rel.to_dict()
    return out


def _labels(ds: Any) -> np.ndarray | None:
    if ds.y is None or ds.task != "classification":
        return None
    return np.asarray(ds.y)


@app.command("similarity")
@friendly_errors
def similarity_command(
    source: str = typer.Option(..., "--source", help="Source data set: a named set (mnist) or a path."),
    target: str = typer.Option(..., "--target", help="Target data set: a named set (usps) or a path."),
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
        2000, "--max-samples", help="Random (stratified) subset per side; 0 keeps everything."
    ),
    permutations: int = typer.Option(200, "--permutations", help="MMD permutation-test permutations."),
    seed: int = typer.Option(0, "--seed"),
    runs: str | None = RUNS_OPTION,
    data_root: str | None = DATA_ROOT_OPTION,
    mlflow: str | None = MLFLOW_OPTION,
) -> None:
    """Domain distances between SOURCE and TARGET features, per class, and their label relation."""
    from transferkit.backbones import create_backbone
    from transferkit.data import load_dataset
    from transferkit.features import extract_features
    from transferkit.reports.run import make_run_dir, new_results
    from transferkit.similarity import DISTANCES

    set_data_root(data_root)

    names = tuple(m.strip() for m in measures.split(",") if m.strip())
    per_class = tuple(m.strip() for m in class_measures.split(",") if m.strip())
    for m in names + per_class:
        DISTANCES.canonical(m)  # an unknown name fails now, before any feature extraction
    ds, dt = load_dataset(source), load_dataset(target)
    if ds.kind != dt.kind:
        raise TransferkitError(f"source is {ds.kind} data but target is {dt.kind} data: one backbone cannot read both")
    limit = max_samples or None
    keep_s = stratified_subset(_labels(ds), len(ds), limit, seed)
    keep_t = stratified_subset(_labels(dt), len(dt), limit, seed)
    ds = ds if keep_s is None else ds.subset(keep_s)
    dt = dt if keep_t is None else dt.subset(keep_t)
    if backbone.strip().lower() == RAW:
        model = None
        xs, xt = raw_features(ds), raw_features(dt)
        if xs.shape[1] != xt.shape[1]:
            raise DataError(
                f"raw inputs differ in size ({xs.shape[1]} vs {xt.shape[1]} values): pick a backbone "
                "that maps both to the same features (it resizes images)"
            )
    else:
        model = create_backbone(backbone, data=ds)
        xs = np.asarray(extract_features(model, ds), dtype=np.float64)
        xt = np.asarray(extract_features(model, dt), dtype=np.float64)
    section = similarity_section(
        xs,
        xt,
        _labels(ds),
        _labels(dt),
        source_classes=ds.class_names,
        target_classes=dt.class_names,
        measures=names,
        class_measures=per_class,
        permutations=permutations,
        seed=seed,
    )

    for name, cc in section["class_conditional"].items():
        if "error" in cc:
            console.print(f"[dim]class-conditional {name}: {cc['error']}[/dim]")
        for key in ("only_source", "only_target", "skipped"):
            if cc.get(key):
                console.print(f"[dim]{name} per class, {key.replace('_', ' ')}: {', '.join(cc[key])}[/dim]")
    rel = section["label_relation"]
    if rel is not None:
        console.print(relation_table(rel))

    results = new_results(
        "similarity",
        seeds=[seed],
        data={"source": ds.describe(), "target": dt.describe(), "max_samples": max_samples},
        models={
            backbone: {
                "fingerprint": model.fingerprint()[:16] if model is not None else None,
                "num_features": int(xs.shape[1]),
            }
        },
    )
    results["sections"]["similarity"] = section
    run_dir = make_run_dir("similarity", root=runs, name=f"{ds.name}-{dt.name}")
    finish_run(run_dir, results, mlflow)  # writes results.json + report.html, prints the measures table


def relation_table(rel: dict[str, Any], max_rows: int = 20) -> Table:
    """For each source class (heaviest first): its mass and the target classes it stands for."""
    mass = np.asarray(rel["source_mass"])
    order = np.argsort(-mass, kind="stable")[:max_rows]
    acc = rel.get("accuracy")
    title = "Label relation P(target | source); source model = backbone + linear head fitted on source"
    if acc is not None:
        title += f"; its accuracy on target {acc:.3f}"
    t = Table(title=title)
    for col in ("source class", "mass", "most likely target", "P", "second", "P"):
        t.add_column(col, justify="right" if col in ("mass", "P") else "left")
    targets = rel["target_classes"]
    for z in order:
        row = np.asarray(rel["matrix"][z])
        first, second = np.argsort(-row, kind="stable")[:2] if len(row) > 1 else (0, 0)
        t.add_row(
            rel["source_classes"][z],
            f"{mass[z]:.3f}",
            str(targets[first]),
            f"{row[first]:.2f}",
            str(targets[second]) if len(row) > 1 else "-",
            f"{row[second]:.2f}" if len(row) > 1 else "-",
        )
    return t


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"
