"""``transferkit models``, ``transferkit datasets`` and ``transferkit features``."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import typer
from rich.table import Table
from rich.text import Text

from transferkit._io import atomic_write_with
from transferkit.cli._app import app, console
from transferkit.cli._common import friendly_errors, set_data_root
from transferkit.cli._options import DATA_ROOT_OPTION


@app.command("models")
@friendly_errors
def models() -> None:
    """List backbone providers: what they read, size, whether they work offline, where the weights come from."""
    from transferkit.backbones import list_backbones

    t = Table(title="Backbones (spec: PROVIDER[:ARG][?key=value&...])")
    for c in ("name", "input", "size", "offline", "weights from", "description"):
        t.add_column(c)
    for row in list_backbones():
        t.add_row(Text(row["name"]), Text(row["input"]), Text(row["size"] or "-"),
                  "yes" if row["offline"] else "needs hub or file", Text(row["weights"]), Text(row["description"]))
    console.print(t)


@app.command("datasets")
@friendly_errors
def datasets(data_root: str = DATA_ROOT_OPTION) -> None:
    """List the named data sets and whether their files are found."""
    from transferkit.data import DATASETS
    from transferkit.data import data_root as root_of

    set_data_root(data_root)
    root = root_of()
    t = Table(title=f"Named data sets (data root: {root})")
    t.add_column("name", no_wrap=True)
    for c in ("kind", "domains", "files", "description"):
        t.add_column(c)
    for e in DATASETS:
        info = e.info
        if info.folder is None:
            found = Text("embedded", style="green")
        else:
            ok = all((root / info.folder / f).exists() for f in info.files)
            found = Text("found", style="green") if ok else Text.assemble(("missing", "red"), f" ({info.folder}/)")
        doms = ", ".join(info.domains) if len(info.domains) <= 4 else f"{info.domains[0]}..{info.domains[-1]}"
        splits = (f" (@{'|@'.join(info.splits)})", "dim") if len(info.splits) > 1 else ""
        t.add_row(Text.assemble(e.name, splits), info.kind, doms or "-", found, info.description)
    console.print(t)
    console.print("Spec: NAME[:DOMAIN][@SPLIT], e.g. usps@test, heart-disease:va, uci-har:1-20, "
                  "office-caltech10-surf:amazon; or a path (folder of class folders, .csv, .tsv, .jsonl, "
                  ".parquet, .npz).")


@app.command("features")
@friendly_errors
def features(
    data: str = typer.Option(..., "--data", help="Data spec or path."),
    backbone: str = typer.Option(..., "--backbone", help="Backbone spec, e.g. minilm or smallcnn."),
    out: Path = typer.Option(None, "--out", help="Save features (and labels) to this .npz (a folder: "
                             "<data>-features.npz in it; .npz is added when missing)."),
    batch_size: int = typer.Option(64, min=1, help="Forward-pass batch size."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the feature cache."),
    data_root: str = DATA_ROOT_OPTION,
) -> None:
    """Extract (and cache) backbone features of a data set."""
    from transferkit.backbones import create_backbone
    from transferkit.data import load_dataset
    from transferkit.features import extract_features

    set_data_root(data_root)
    ds = load_dataset(data)
    bb = create_backbone(backbone, ds)
    t0 = time.perf_counter()
    f = extract_features(bb, ds, batch_size=batch_size, cache=not no_cache)
    dt = time.perf_counter() - t0
    console.print(f"{ds.name}: {f.shape[0]} x {f.shape[1]} features from {bb.spec} in {dt:.2f} s "
                  f"(backbone {bb.fingerprint()[:12]}, data {ds.fingerprint()[:12]})")
    if out is not None:
        arrays = {"x": f}
        if ds.y is not None:
            arrays["y"] = ds.y
            if ds.class_names:
                arrays["class_names"] = np.array(ds.class_names)
        path = features_path(out, ds.name)

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:  # a file object: numpy adds no suffix
                np.savez(fh, **arrays)

        atomic_write_with(path, write)
        console.print(f"saved {path}")


def features_path(out: Path, data_name: str) -> Path:
    """Where ``features --out OUT`` writes: OUT itself (``.npz`` added when missing), or
    ``OUT/<data>-features.npz`` when OUT is a folder; the path printed is the path written."""
    if out.is_dir():
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", data_name).strip(".-") or "data"
        return out / f"{slug}-features.npz"
    return out if out.suffix == ".npz" else out.with_name(out.name + ".npz")
