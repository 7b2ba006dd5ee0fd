"""``transferkit models``, ``transferkit datasets [download|verify]``, ``transferkit cache info|clear`` and
``transferkit features``."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from transferkit.cli._app import App, app, console
from transferkit.cli._common import friendly_errors, say
from transferkit.cli._options import DATA_ROOT_OPTION, WORKERS_OPTION, batch_size_option
from transferkit.cli._shared import reads_data


@app.command("models")
@friendly_errors
def models() -> None:
    """List backbone providers: what they read, size, whether they work offline, where the weights come from."""
    from transferkit.backbones import list_providers  # the catalogue: no torch import

    t = Table(title="Backbones (spec: PROVIDER[:ARG][?key=value&...])")
    for c in ("name", "input", "size", "offline", "weights from", "description"):
        t.add_column(c)
    for row in list_providers():
        t.add_row(Text(row["name"]), Text(row["input"]), Text(row["size"] or "-"),
                  "yes" if row["offline"] else "needs hub or file", Text(row["weights"]), Text(row["description"]))
    console.print(t)


datasets_app = App(shared_callback=True, help="The named public data sets: list them (no sub-command), download, "
                   "verify.", invoke_without_command=True, no_args_is_help=False)
app.add_typer(datasets_app, name="datasets")
cache_app = App(help="The cache folder (features, converted weights): see its size, clear it.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")
ROOT_OPTION = typer.Option(None, "--root", "--data-root", help="Data root to download into (default: "
                           "$TRANSFERKIT_DATA, else the user data folder; see `transferkit datasets`).")


@datasets_app.callback()
@friendly_errors
def datasets(ctx: typer.Context, data_root: str = DATA_ROOT_OPTION) -> None:
    """List the named data sets and whether their files are found."""
    if ctx.invoked_subcommand is not None:
        return  # download / verify take the root themselves
    list_datasets(data_root)


def list_datasets(data_root: str | None = None) -> None:
    """The table of named data sets under ``data_root`` (default: the current data root)."""
    from transferkit.data import DATASETS
    from transferkit.data import data_root as root_of

    root = root_of(data_root)
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
    console.print("Missing files: transferkit datasets download NAME (or all).")


@datasets_app.command("download")
@friendly_errors
def datasets_download(
    names: list[str] = typer.Argument(..., metavar="NAME", help="Named data sets (see `transferkit datasets`), or all."),
    root: str = ROOT_OPTION,
    mirror: str = typer.Option(None, "--mirror", metavar="URL", help="Fetch from URL/<folder>/<file> instead of "
                               "the public sources (default: $TRANSFERKIT_DATA_MIRROR)."),
) -> None:
    """Download named data sets from their public sources, verify each file's SHA-256, place them atomically.

    Files already present and verified are kept; an interrupted download resumes where it stopped.
    """
    from rich.progress import BarColumn, DownloadColumn, TextColumn, TransferSpeedColumn

    from transferkit._progress import progress_bar
    from transferkit.data import DATASETS
    from transferkit.data.sources import download_dataset, remote_set

    wanted = [e.name for e in DATASETS if e.info.folder is not None] if names == ["all"] else names
    sets = [(n, remote_set(n)) for n in wanted]  # unknown or embedded names fail before any download
    bars = progress_bar(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                        label="download", unit="bytes")  # a bar in a terminal, plain lines in a log, none with -q
    tasks: dict[str, Any] = {}

    def progress(name: str, done: int, total: int | None) -> None:
        if name not in tasks:
            tasks[name] = bars.add_task(name, total=total)
        bars.update(tasks[name], completed=done, total=total)

    for name, rs in sets:
        with bars:
            folder = download_dataset(name, root, mirror=mirror, on_progress=progress,
                                      on_file=lambda f, fetched, where=rs.folder: say(
                                          f"{where}/{f}: {'downloaded' if fetched else 'present'}, SHA-256 verified"))
        console.print(Text.assemble((f"{name}", "bold"), f": ready in {folder}"))


@datasets_app.command("verify")
@friendly_errors
def datasets_verify(
    names: list[str] = typer.Argument(None, metavar="NAME", help="Named data sets (default: every one with files)."),
    root: str = ROOT_OPTION,
) -> None:
    """Check the SHA-256 of every file of named data sets under the data root (exit code 3 if one is damaged)."""
    from transferkit.data import DATASETS
    from transferkit.data.sources import verify_dataset

    t = Table(title="Data set files (SHA-256)")
    for c in ("data set", "file", "state"):
        t.add_column(c)
    damaged = []
    for name in names or [e.name for e in DATASETS if e.info.folder is not None]:
        for f, state in verify_dataset(name, root).items():
            style = {"ok": "green", "missing": "yellow", "damaged": "bold red"}[state]
            t.add_row(name, f, Text(state, style=style))
            damaged += [f"{name}: {f}"] if state == "damaged" else []
    console.print(t)
    if damaged:
        from transferkit.errors import DataError

        raise DataError(f"{len(damaged)} file(s) do not match their SHA-256: {', '.join(damaged)}; "
                        "run `transferkit datasets download NAME` to replace them")


@cache_app.command("info")
@friendly_errors
def cache_info_cmd() -> None:
    """Where the cache folder is ($TRANSFERKIT_CACHE, else $XDG_CACHE_HOME/transferkit) and what it holds."""
    from transferkit.features.cache import cache_info

    info = cache_info()
    t = Table(title=f"Cache: {info['root']}")
    for c in ("part", "files", "size", "oldest", "newest"):
        t.add_column(c, justify="right" if c in ("files", "size") else "left")
    for part, d in sorted(info["parts"].items()):
        t.add_row(part, str(d["files"]), _size(d["bytes"]), _when(d["oldest"]), _when(d["newest"]))
    t.add_row(Text("total", style="bold"), str(info["files"]), _size(info["bytes"]), "", "")
    console.print(t)


@cache_app.command("clear")
@friendly_errors
def cache_clear_cmd(
    older_than: str = typer.Option(None, "--older-than", metavar="AGE",
                                   help="Only files not written for AGE (e.g. 30d, 12h, 90m)."),
    part: list[str] = typer.Option(None, "--part", help="Only this part of the cache (features, weights)."),
) -> None:
    """Delete cached files (all, or those older than AGE); everything there can be recomputed."""
    from transferkit.features.cache import cache_root, clear_cache, parse_age

    age = parse_age(older_than) if older_than is not None else None
    n, size = clear_cache(older_than_s=age, parts=tuple(part or ()))
    console.print(f"removed {n} file(s), {_size(size)}, from {cache_root()}")


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


@app.command("features")
@friendly_errors
@reads_data("data")
def features(
    data: str = typer.Option(..., "--data", help="Data spec or path."),
    backbone: str = typer.Option(..., "--backbone", "-b", help="Backbone spec, e.g. minilm or smallcnn."),
    out: Path = typer.Option(None, "--out", "-o", metavar="FILE", help="Save features (and labels) to this .npz (a folder: "
                             "<data>-features.npz in it; .npz is added when missing)."),
    batch_size: int = batch_size_option(64, "Forward-pass batch size."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the feature cache."),
    workers: int = WORKERS_OPTION,
) -> None:
    """Extract (and cache) backbone features of a data set.

    Under `accelerate launch -m transferkit features ...` (or torchrun) every process extracts one block
    of the rows; the main process joins them into one cache entry and is the one that prints and writes --out.
    """
    import numpy as np

    from transferkit._io import atomic_write_with
    from transferkit.backbones import create_backbone
    from transferkit.data import load_dataset
    from transferkit.features import extract_features
    from transferkit.features.shard import process_group

    ds = load_dataset(data)
    bb = create_backbone(backbone, ds)
    t0 = time.perf_counter()
    f = extract_features(bb, ds, batch_size=batch_size, cache=not no_cache, num_workers=workers, split=True)
    dt = time.perf_counter() - t0
    group = process_group()
    if group is not None:
        group.wait_for_everyone()  # every process has its array: leave the gloo/NCCL group together, cleanly
        group.destroy_process_group()
        if not group.is_main_process:
            return
    split = f", {group.num_processes} processes" if group is not None else ""
    console.print(f"{ds.name}: {f.shape[0]} x {f.shape[1]} features from {bb.spec} in {dt:.2f} s{split} "
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
