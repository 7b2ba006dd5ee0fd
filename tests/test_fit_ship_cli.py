"""``transferkit fit`` ships a model (RUN/model, --save), ``predict`` uses it, ``model:PATH`` transfers it again."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("typer")
from typer.testing import CliRunner  # noqa: E402

from transferkit.cli import app  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def npz(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """breast-cancer as a training file and a separate test file (an official test split)."""
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(d.target))
    folder = tmp_path_factory.mktemp("bc")
    names = np.array(["malignant", "benign"])
    np.savez(folder / "train.npz", x=d.data[idx[:400]], y=names[d.target[idx[:400]]])
    np.savez(folder / "test.npz", x=d.data[idx[400:]], y=names[d.target[idx[400:]]])
    return folder / "train.npz", folder / "test.npz"


def _run(args: list[str]) -> str:
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    return r.output


def test_fit_ships_then_predict_matches_the_report_and_model_path_transfers_again(tmp_path: Path, npz) -> None:
    train, test = npz
    runs, saved = tmp_path / "runs", tmp_path / "saved"
    _run(["fit", "--target", str(train), "--target-test", str(test), "--source", str(train), "--backbone",
          "tabmlp?hidden=16", "--strategy", "finetune", "--budgets", "5,all", "--seeds", "2", "--epochs", "3",
          "--source-epochs", "2", "--quiet", "--runs", str(runs), "--save", str(saved), "--scratch-min-steps", "0"])
    (run,) = list(runs.iterdir())
    res = json.loads((run / "results.json").read_text())
    sh = res["sections"]["shipped"]
    assert sh["model"] == str(run / "model") and sh["budget"] == "all" and "status" not in res
    assert {p.name for p in saved.iterdir()} == {p.name for p in (run / "model").iterdir()}
    page = (run / "report.html").read_text()
    page = page[page.index("<main>"):]
    assert page.index(sh["headline"].split(" (")[0]) < page.index("Did transfer help?")
    card = json.loads((run / "model" / "model_card.json").read_text())
    assert card["shipped"]["arm"] == sh["arm"] and card["metric"]["test_seed"] == sh["test_seed"]
    assert card["class_names"] == ["benign", "malignant"] and card["run"]["config"]["backbone"] == "tabmlp?hidden=16"

    out = _run(["predict", str(saved), str(test), "--out", str(tmp_path / "p.csv")])
    rows = list(csv.DictReader(open(tmp_path / "p.csv")))
    acc = np.mean([r["label"] == r["true_label"] for r in rows])
    assert len(rows) == 169 and acc == pytest.approx(sh["test_seed"], abs=1e-12)  # the report's figure
    assert f"accuracy against the data's labels: {acc:.4f}" in " ".join(out.split())

    # the shipped model as the backbone of the next transfer (no --source: it is pre-trained)
    runs2 = tmp_path / "runs2"
    _run(["fit", "--target", str(train), "--target-test", str(test), "--backbone", f"model:{run / 'model'}",
          "--strategy", "linear_probe", "--budgets", "5", "--seeds", "2", "--epochs", "2", "--quiet",
          "--runs", str(runs2)])
    (run2,) = list(runs2.iterdir())
    res2 = json.loads((run2 / "results.json").read_text())
    assert res2["config"]["backbone"] == f"model:{run / 'model'}"
    assert res2["sections"]["comparison"]["transfer"]["name"].startswith("model:")
    card2 = json.loads((run2 / "model" / "model_card.json").read_text())
    assert card2["backbone"]["spec"].startswith("model:") or card2["shipped"]["role"] != "transfer"

    # a tampered model folder is refused, with a clear message and no traceback
    w = saved / "model.safetensors"
    raw = bytearray(w.read_bytes())
    raw[-1] ^= 1
    w.write_bytes(bytes(raw))
    r = runner.invoke(app, ["predict", str(saved), str(test), "--out", str(tmp_path / "q.csv")])
    assert r.exit_code == 3 and "does not match its card" in " ".join(r.output.split()) and "Traceback" not in r.output
