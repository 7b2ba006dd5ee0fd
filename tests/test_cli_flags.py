"""The flags every command shares, columns named by flag or spec, --version, python -m, --config, fast start.

Real data: a CSV with a ``diagnosis`` column written from the UCI heart-disease records, and SMS
messages written as a CSV with ``body``/``category`` columns.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.main import get_command
from typer.testing import CliRunner

from transferkit.cli import app

REPO = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


def _text(result: object) -> str:
    return " ".join(result.output.split())  # type: ignore[attr-defined]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}


@pytest.fixture(scope="module")
def heart_csv(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> Path:
    """The Cleveland heart-disease records as a CSV whose label column is called ``diagnosis``."""
    import pandas as pd

    from transferkit.data import load_dataset

    ds = load_dataset("heart-disease:cleveland", data_root)
    df = pd.DataFrame(ds.x, columns=list(ds.feature_names))
    df["diagnosis"] = [ds.class_names[i] for i in ds.y]
    path = tmp_path_factory.mktemp("csv") / "heart.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def sms_csv(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> Path:
    """60 SMS messages (30 ham, 30 spam) as a CSV with ``body`` and ``category`` columns."""
    import pandas as pd

    from transferkit.data import load_dataset

    ds = load_dataset("sms-spam", data_root)
    idx = np.concatenate([np.flatnonzero(ds.y == c)[:30] for c in range(2)])
    df = pd.DataFrame({"id": idx, "body": ds.x[idx], "category": [ds.class_names[i] for i in ds.y[idx]]})
    path = tmp_path_factory.mktemp("csv") / "msgs.csv"
    df.to_csv(path, index=False)
    return path


def _results(out: Path) -> dict:
    [run] = [p for p in out.iterdir() if p.is_dir()]
    return json.loads((run / "results.json").read_text())


# ----------------------------------------------------------------------------- version, python -m, help
def test_version_flag_prints_the_version() -> None:
    from transferkit import __version__

    for flag in ("--version", "-V"):
        r = _cli(flag)
        assert r.exit_code == 0 and r.output.startswith(f"transferkit {__version__} ")  # type: ignore[attr-defined]


def test_python_m_transferkit_help_lists_the_commands() -> None:
    r = subprocess.run([sys.executable, "-m", "transferkit", "--help"], env=_env(), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Usage: transferkit" in r.stdout
    for command in ("fit", "rank", "similarity", "adapt", "predict", "datasets", "models"):
        assert f" {command} " in r.stdout
    assert "--install-completion" in r.stdout  # shell completion is on


def test_help_has_no_type_tags() -> None:
    for name in _options():
        text = _cli(*name.split(), "--help").output  # type: ignore[attr-defined]
        for tag in ("<str>", "<bool>", "<int", "<float", "<path>"):
            assert tag not in text, f"{name} --help shows {tag}"


# ----------------------------------------------------------------------------- one set of flags
def _options() -> dict[str, dict[str, list[str]]]:
    """command (``fit``, ``datasets``, ``datasets download``...) -> {parameter name: its option strings}."""
    group = get_command(app)
    ctx = group.make_context("transferkit", [], resilient_parsing=True)
    out: dict[str, dict[str, list[str]]] = {}
    todo = list(group.commands.items())  # type: ignore[attr-defined]
    while todo:
        name, command = todo.pop()
        if command.callback is not None:  # a group without an action of its own (`cache`) has only --help
            out[name] = {p.name: [*p.opts, *p.secondary_opts] for p in command.get_params(ctx)
                         if getattr(p, "param_type_name", "") == "option"}
        todo += [(f"{name} {sub}", c) for sub, c in getattr(command, "commands", {}).items()]
    return out


def test_every_short_flag_means_one_long_option_everywhere() -> None:
    meaning: dict[str, set[str]] = {}
    for options in _options().values():
        for opts in options.values():
            longs = sorted(o for o in opts if o.startswith("--"))
            for short in (o for o in opts if not o.startswith("--")):
                meaning.setdefault(short, set()).add(longs[0])
    clashes = {short: longs for short, longs in meaning.items() if len(longs) > 1}
    assert not clashes, f"short flags with several meanings: {clashes}"
    assert meaning["-s"] == {"--source"} and meaning["-m"] == {"--models"} and meaning["-o"] == {"--out"}


def test_every_command_has_the_shared_options() -> None:
    writes_runs = {"fit", "rank", "similarity", "adapt", "pretrain", "multitask", "har", "demo", "agents"}
    reads_files = {"fit", "rank", "similarity", "adapt", "pretrain", "features", "predict"}
    for name, options in _options().items():
        flat = {o for opts in options.values() for o in opts}
        assert {"--quiet", "-q", "--verbose", "-v", "--config", "-c", "--help"} <= flat, name
        if name in writes_runs:
            assert {"--out", "-o", "--runs", "--device", "--mlflow"} <= flat, name
        if name in reads_files:
            assert {"--label-column", "--text-column", "--device"} <= flat, name
    opts = _options()
    assert {"--workers", "--batch-size"} <= {o for flags in opts["fit"].values() for o in flags}
    for name in ("rank", "similarity", "pretrain"):
        assert "--seed" in {o for flags in opts[name].values() for o in flags}, name


SEEDED = {"fit", "demo", "adapt", "multitask", "har", "agents"}  # --seeds N: the paired seeds
WORKERS = {"fit", "rank", "similarity", "features", "pretrain", "demo", "adapt", "har"}  # a DataLoader to feed
BATCHES = WORKERS | {"predict", "multitask"}  # forward passes or training steps in batches


def test_seed_workers_and_batch_size_where_they_belong() -> None:
    """--seed on every command with --seeds (one help text), --workers and --batch-size on every command that
    extracts features or trains through a DataLoader; each spelled one way everywhere (no short forms)."""
    group = get_command(app)
    ctx = group.make_context("transferkit", [], resilient_parsing=True)
    helps: dict[str, str] = {}
    for name, options in _options().items():
        flat = {o for opts in options.values() for o in opts}
        for flag, owners in (("--seeds", SEEDED), ("--workers", WORKERS), ("--batch-size", BATCHES)):
            assert (flag in flat) == (name in owners), f"{name}: {flag}"
        if name in SEEDED:
            assert options["seed"] == ["--seed"] and options["seeds"] == ["--seeds"], name
            [param] = [p for p in group.commands[name].get_params(ctx) if p.name == "seed"]  # type: ignore[attr-defined]
            helps[name] = param.help
        for key, flag in (("workers", "--workers"), ("batch_size", "--batch-size")):
            if key in options:
                assert options[key] == [flag], (name, options[key])
    assert len(set(helps.values())) == 1 and "SEED, SEED+1" in helps["fit"], helps
    assert {"rank", "similarity", "pretrain"} <= {n for n, o in _options().items() if "seed" in o}


# ----------------------------------------------------------------------------- columns by name
def test_label_column_on_a_csv_with_a_diagnosis_column(heart_csv: Path, tmp_path: Path) -> None:
    r = _cli("rank", "--target", str(heart_csv), "--models", "raw", "--scores", "logme", "-o", str(tmp_path / "a"))
    assert r.exit_code == 3 and "--label-column" in _text(r) and "diagnosis" in _text(r)
    r = _cli("rank", "-t", str(heart_csv), "--label-column", "diagnosis", "-m", "raw", "--scores", "logme",
             "-q", "-o", str(tmp_path / "b"))
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    target = _results(tmp_path / "b")["data"]["target"]
    assert target["classes"] == ["disease", "no disease"] or set(target["classes"]) == {"disease", "no disease"}
    assert target["n"] == 303 and target["kind"] == "table"
    # the same as a spec parameter, and the flag on a named set is refused (it would do nothing)
    r = _cli("rank", "-t", f"{heart_csv}?label=diagnosis", "-m", "raw", "--scores", "logme", "-o", str(tmp_path / "c"))
    assert r.exit_code == 0 and _results(tmp_path / "c")["data"]["target"]["n"] == 303
    r = _cli("rank", "-t", "breast-cancer", "--label-column", "diagnosis", "-m", "raw", "-o", str(tmp_path / "d"))
    assert r.exit_code == 2 and "named data set" in _text(r)


def test_text_column_reads_a_csv_as_text(sms_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.npz"
    r = _cli("features", "--data", str(sms_csv), "--text-column", "body", "--label-column", "category",
             "-b", "minilm", "--no-cache", "-q", "-o", str(out))
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    with np.load(out) as z:
        assert z["x"].shape == (60, 384) and list(z["class_names"]) == ["ham", "spam"]
        assert np.bincount(z["y"]).tolist() == [30, 30]
    r = _cli("features", "--data", str(sms_csv), "--label-column", "category", "-b", "minilm", "--no-cache")
    assert r.exit_code == 3 and "--text-column" in _text(r)  # 'body' is not numeric: name the text column


def test_spec_parameters_and_errors(heart_csv: Path, sms_csv: Path) -> None:
    from transferkit.data import data_spec, load_dataset, split_data_spec
    from transferkit.errors import DataArgumentError

    ds = load_dataset(f"{sms_csv}?text=body&label=category")
    assert ds.kind == "text" and ds.class_names == ("ham", "spam") and len(ds) == 60
    assert load_dataset(str(sms_csv), text_column="body", label_column="category").x.tolist() == ds.x.tolist()
    assert split_data_spec("a.csv?label=y&text=t") == ("a.csv", {"label_column": "y", "text_column": "t"})
    assert data_spec("a b.csv", "my label") == "a b.csv?label=my%20label"
    assert load_dataset(data_spec(str(heart_csv), "diagnosis")).feature_names[-1] != "diagnosis"
    for bad, words in [(f"{heart_csv}?lable=diagnosis", "unknown data parameter"),
                       (f"{heart_csv}?label=", "needs a column name"),
                       ("usps?label=x", "fixed columns")]:
        with pytest.raises(DataArgumentError, match=words):
            load_dataset(bad)
    with pytest.raises(DataArgumentError, match="give it once"):
        data_spec(f"{heart_csv}?label=a", "b")


# ----------------------------------------------------------------------------- --config
def test_config_file_values_are_overridden_by_the_command_line(heart_csv: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "rank.yaml"
    cfg.write_text(f"target: {heart_csv}\nlabel-column: diagnosis\nmodels: raw\nscores: [logme]\nseed: 3\n"
                   "max_samples: 120\nrank:\n  seed: 4\nfit:\n  epochs: 2\n")
    r = _cli("rank", "--config", str(cfg), "-o", str(tmp_path / "a"))
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    res = _results(tmp_path / "a")
    assert res["seeds"] == [4] and res["data"]["max_samples"] == 120  # the command's section beats the top level
    assert [row["model"] for row in res["sections"]["ranking"]["rows"]] == ["raw"]
    r = _cli("rank", "-c", str(cfg), "--seed", "7", "--max-samples", "100", "-o", str(tmp_path / "b"))
    res = _results(tmp_path / "b")
    assert r.exit_code == 0 and res["seeds"] == [7] and res["data"]["max_samples"] == 100
    cfg.write_text("models: raw\nepochz: 3\n")
    r = _cli("rank", "-c", str(cfg), "-t", str(heart_csv))
    assert r.exit_code == 2 and "epochz" in _text(r)
    r = _cli("rank", "-c", str(tmp_path / "missing.yaml"))
    assert r.exit_code == 2 and "missing.yaml" in _text(r)


# ----------------------------------------------------------------------------- output
def test_device_option_is_checked() -> None:
    r = _cli("rank", "-t", "breast-cancer", "-m", "raw", "--device", "tpu")
    assert r.exit_code == 2 and "--device" in _text(r)


def test_plain_progress_lines_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from transferkit import _progress

    _progress.configure(interval=0)
    try:
        with _progress.progress_bar(label="features", unit="rows") as bar:
            task = bar.add_task("smallcnn on usps", total=100)
            for _ in range(4):
                bar.advance(task, 25)
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 4 and lines[-1].startswith("features smallcnn on usps: 100/100 rows (100%")
        _progress.set_quiet(True)
        with _progress.progress_bar(label="features") as bar:
            bar.advance(bar.add_task("x", total=2), 2)
        assert capsys.readouterr().err == ""
    finally:
        _progress.set_quiet(False)
        _progress.configure(interval=_progress.INTERVAL)


def test_verbose_shows_tracebacks_and_logs(heart_csv: Path) -> None:
    r = _cli("rank", "-t", str(heart_csv), "-m", "raw", "-vv")
    assert r.exit_code == 3 and "Traceback" in r.output  # type: ignore[attr-defined]
    r = _cli("rank", "-t", str(heart_csv), "-m", "raw")
    assert r.exit_code == 3 and "Traceback" not in r.output  # type: ignore[attr-defined]


def test_third_party_bars_are_silenced() -> None:
    from transferkit.cli._shared import configure_output

    configure_output(quiet=False, verbose=0)
    assert os.environ.get("HF_HUB_DISABLE_PROGRESS_BARS") == "1"
    transformers = pytest.importorskip("transformers")
    assert not transformers.utils.logging.is_progress_bar_enabled()
    assert transformers.utils.logging.get_verbosity() >= transformers.utils.logging.ERROR


def test_short_reprs(data_root: Path) -> None:
    from transferkit.data import TransferTask, load_dataset

    task = TransferTask(target=load_dataset("usps@test", data_root), source=load_dataset("mnist@test", data_root))
    text = repr(task)
    print(task)
    assert len(text) < 400 and "array" not in text and "n=2007" in text and "1x16x16" in text and "n=10000" in text
    assert repr(load_dataset("sms-spam", data_root)) == "Dataset('sms-spam', text, n=5574, 2 classes (ham, spam))"


def test_short_reprs_of_results() -> None:
    from transferkit.experiments.records import ArmResult, BudgetResult, ExperimentResult
    from transferkit.transferability.rank import Candidate, RankRow, RankTable

    x = np.zeros((5000, 512), dtype=np.float32)
    assert repr(Candidate("zoo:mnist-cnn", x, x[:, :10])) == \
        "Candidate('zoo:mnist-cnn', features 5000x512, source_probs 5000x10)"
    table = RankTable([RankRow("a", None, {"logme": 1.5}, 1), RankRow("b", None, {"logme": None}, 2)], ["logme"],
                      "logme", "usps")
    assert repr(table) == "RankTable('usps' by logme: 1. a 1.5, 2. b -)"
    arms = {"transfer": ArmResult("transfer", "finetune", "transfer", (0.9, 0.8), {"accuracy": 0.85}),
            "scratch": ArmResult("scratch", "scratch", "baseline", (0.5, 0.7), {"accuracy": 0.6})}
    budget = BudgetResult(10, "10/class", "accuracy", True, [0, 1], arms, None,
                          curves={"transfer": list(range(10_000))})
    text = repr(budget)
    assert text.startswith("BudgetResult(10/class, accuracy over 2 seeds: transfer 0.8500, scratch 0.6000")
    assert len(text) < 200 and len(repr(ExperimentResult([budget, budget]))) < 100


# ----------------------------------------------------------------------------- fast start
@pytest.mark.parametrize("args", [["--help"], ["--version"], ["datasets"], ["models"]])
def test_fast_commands_import_neither_torch_nor_sklearn(args: list[str]) -> None:
    code = ("import sys\nfrom transferkit.cli import app\n"
            f"try:\n    app({args!r}, prog_name='transferkit')\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "heavy = sorted(m for m in ('torch', 'sklearn', 'scipy', 'transformers') if m in sys.modules)\n"
            "print('HEAVY', heavy, file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "HEAVY []" in r.stderr, r.stderr


def test_the_provider_catalogue_is_the_registry() -> None:
    """`transferkit models` lists the torch-free catalogue: it must name every registered provider, with the
    record the provider registered itself with (a provider registered without a catalogue entry fails here)."""
    from transferkit.backbones import BACKBONES, PROVIDERS, list_backbones, list_providers
    from transferkit.backbones.efficientnet_lite import VARIANTS

    assert sorted(BACKBONES.names()) == sorted(PROVIDERS)
    assert all(BACKBONES.info(name) is info for name, info in PROVIDERS.items())
    assert sorted(list_providers(), key=lambda r: r["name"]) == sorted(list_backbones(), key=lambda r: r["name"])
    assert f"<{'|'.join(VARIANTS)}>" in PROVIDERS["efficientnet-lite"].description


def test_a_command_puts_back_the_settings_it_made(tmp_path: Path) -> None:
    """--data-root and --device set environment variables for the command's run only (commands run in one
    process, as in tests or notebooks, do not leak them into the next)."""
    before = {k: os.environ.get(k) for k in ("TRANSFERKIT_DATA", "CUDA_VISIBLE_DEVICES")}
    r = _cli("rank", "-t", "breast-cancer", "-m", "raw", "--scores", "logme", "--data-root", str(tmp_path),
             "--device", "cpu", "-q", "-o", str(tmp_path / "runs"))
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    assert {k: os.environ.get(k) for k in before} == before


def test_rank_help_names_the_default_scores() -> None:
    """rank's help spells out the default scores without importing the scores (fast --help): keep it true."""
    from transferkit.transferability.rank import DEFAULT_SCORES

    result = CliRunner().invoke(app, ["rank", "--help"], env={"COLUMNS": "250"})  # no line folds the list
    text = " ".join(result.output.replace("│", " ").split())
    assert f"(default: {','.join(DEFAULT_SCORES)})" in text.replace(", ", ",")
