"""MkDocs hooks (``hooks:`` in mkdocs.yml): pages generated from the code at build time.

* ``reference/cli.md``: every command and option, from the typer application (typer's own
  ``utils docs`` renderer, the same text as ``--help``);
* ``reference/api.md``: one mkdocstrings entry per public name of ``transferkit`` (its lazy-import
  table), so a new public name appears without editing the docs;
* ``reference/datasets.md``: each named data set, its source URLs and every file's SHA-256, from
  ``transferkit.data.sources``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.structure.files import File, Files

SRC = Path(__file__).resolve().parents[1] / "src"


def _import_src() -> None:
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))


def cli_reference() -> str:
    """Markdown of every command, from typer's renderer."""
    _import_src()
    import typer
    from typer.cli import get_docs_for_click

    from transferkit.cli import app

    command = typer.main.get_command(app)
    ctx = typer.Context(command, info_name="transferkit")
    body = get_docs_for_click(obj=command, ctx=ctx, name="transferkit", title="Command line: `transferkit`")
    note = ("Generated from the command-line application at build time (the same text as "
            "`transferkit COMMAND --help`). Exit codes: 0 success, 2 usage error, 3 bad data or model "
            "file, 1 internal error.\n\n")
    head, _, rest = body.partition("\n\n")
    return f"{head}\n\n{note}{rest}"


GROUPS = {
    "The verbs": ("rank", "measure_similarity", "fit", "compare", "label_efficiency", "adapt", "run_multitask",
                  "pretrain", "run_experiment", "run_demo"),
    "Data, backbones, features": ("load_dataset", "Dataset", "TransferTask", "create_backbone", "Backbone",
                                  "extract_features", "FeatureExtractor"),
    "Training and models": ("TrainConfig", "train", "TransferModel", "Arm", "load_model", "TransferClassifier",
                            "TransferRegressor"),
}
EXTRA = {
    "Named data sets: download and verify": ("transferkit.data.sources.download_dataset",
                                             "transferkit.data.sources.verify_dataset"),
    "Cache": ("transferkit.features.cache.cache_info", "transferkit.features.cache.clear_cache"),
    "Errors": ("transferkit.errors.UsageError", "transferkit.errors.DataError", "transferkit.errors.BackboneError",
               "transferkit.errors.UnknownName"),
}


def api_reference() -> str:
    """One ``::: module.attr`` block per public name of the package, grouped."""
    _import_src()
    import transferkit

    lazy = transferkit._LAZY
    out = ["# Python API", "",
           "`import transferkit as tk` gives these names (each loads on first use). Generated from their "
           "docstrings at build time.", ""]
    listed = {n for names in GROUPS.values() for n in names}
    groups = dict(GROUPS)
    rest = tuple(n for n in sorted(lazy) if n not in listed)
    if rest:
        groups["More"] = rest
    for title, names in groups.items():
        out += [f"## {title}", ""]
        for name in names:
            obj = getattr(transferkit, name)  # where it is defined (a package may re-export it)
            out += [f"::: {obj.__module__}.{obj.__qualname__}", "    options:", f"      heading: tk.{name}", ""]
    for title, paths in EXTRA.items():
        out += [f"## {title}", ""]
        for path in paths:
            out += [f"::: {path}", ""]
    return "\n".join(out)


def datasets_reference() -> str:
    """A table per named data set: file, check, SHA-256, URLs."""
    _import_src()
    from transferkit.data import DATASETS
    from transferkit.data.sources import SOURCES

    out = ["# Data sets and downloads", "",
           "`transferkit datasets download NAME` fetches a named set into the data root (see "
           "[Environment and folders](environment.md)), checks each file's SHA-256 and only then renames it "
           "into place; an interrupted download resumes (HTTP `Range`). URLs are tried in order. "
           "`check: gunzip` means the SHA-256 is of the decompressed content, so a re-compressed copy of "
           "the same data passes. `transferkit datasets verify` re-checks the files present.", ""]
    for e in DATASETS:
        if e.info.folder is None:
            continue
        rs = SOURCES[e.info.folder]
        out += [f"## `{e.name}`", "", f"{e.info.description}. Folder `{rs.folder}/`; source: {rs.source}.", ""]
        if rs.build is not None:
            out += ["Built from its source files on download (the arrays are checked); fetched as is from a "
                    "mirror.", ""]
        out += ["| file | bytes | check | SHA-256 | URLs |", "|---|---|---|---|---|"]
        for f in rs.files:
            urls = "<br>".join(f"`{u}`" for u in f.urls) or "(built)"
            out.append(f"| `{f.name}` | {f.size or ''} | {f.check} | `{f.sha256}` | {urls} |")
        out.append("")
    out += ["Embedded sets (`digits`, `breast-cancer`) come with scikit-learn and need no download.", ""]
    return "\n".join(out)


def on_files(files: Files, config) -> Files:  # noqa: ANN001 - mkdocs' hook signature
    """Add the generated reference pages."""
    for path, make in (("reference/cli.md", cli_reference), ("reference/api.md", api_reference),
                       ("reference/datasets.md", datasets_reference)):
        files.append(File.generated(config, path, content=make()))
    return files
