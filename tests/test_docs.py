"""The documentation site builds with `mkdocs build --strict` (what CI runs), its generated reference
pages cover every command and named data set, and CI runs the README's test command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
           "NO_MKDOCS_2_WARNING": "1"}
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(REPO / "mkdocs.yml"),
                          "-d", str(out)], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    return out


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def test_docs_build_strict_with_every_how_to(site: Path) -> None:
    for page in ("getting-started", "how-to/choose", "how-to/measure", "how-to/transfer", "how-to/prove",
                 "how-to/adapt", "how-to/multitask", "how-to/ship-predict", "how-to/applications"):
        assert (site / page / "index.html").is_file(), page


def test_cli_reference_lists_every_command_and_option(site: Path) -> None:
    import typer

    from transferkit.cli import app

    html = _text(site / "reference" / "cli" / "index.html")
    group = typer.main.get_command(app)
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        assert f"transferkit {name}" in html, name
        for p in cmd.params:
            for opt in getattr(p, "opts", []):
                if opt.startswith("--"):
                    assert opt in html, (name, opt)
    assert "transferkit datasets download" in html and "--older-than" in html


def test_api_and_data_set_references_are_generated(site: Path) -> None:
    api = _text(site / "reference" / "api" / "index.html")
    for name in ("tk.rank", "tk.fit", "tk.load_model", "download_dataset", "clear_cache"):
        assert name in api, name
    assert "Score every candidate on the target data" in api  # a docstring, rendered
    from transferkit.data import DATASETS
    from transferkit.data.sources import remote_set

    ds = _text(site / "reference" / "datasets" / "index.html")
    for e in DATASETS:
        if e.info.folder is None:
            continue
        assert f"<code>{e.name}</code>" in ds, e.name
        for f in remote_set(e.name).files:
            assert f.sha256 in ds, f.name


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert "-c constraints.txt" in ci and "TRANSFERKIT_DATA=../shared/data" in ci
    assert ci in (REPO / "README.md").read_text()
