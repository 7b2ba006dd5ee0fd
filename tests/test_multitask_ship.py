"""``transferkit multitask`` ships the trunk with a head per task; ``tk.load_model`` predicts per task and
``transferkit predict MODEL DATA --task NAME`` gives back each task's reported test figure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _runs import DATA, tiny_heart
from typer.testing import CliRunner

from transferkit.cli import app

TINY = tiny_heart(seeds=2, epochs=3)


@pytest.fixture
def heart(tmp_path: Path) -> Path:
    if not (DATA / "uci_heart_disease").is_dir():
        pytest.skip(f"UCI heart disease data not found under {DATA}")
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(TINY)
    return cfg


def test_multitask_ships_a_trunk_with_a_head_per_task_and_predicts_each(heart: Path, tmp_path: Path) -> None:
    from transferkit.data import Dataset
    from transferkit.errors import DataArgumentError
    from transferkit.experiments.predict import ShippedMultitask, load_model
    from transferkit.multitask import load_config
    from transferkit.multitask.api import load_task_data, split_tasks

    runs = tmp_path / "runs"
    r = CliRunner().invoke(app, ["multitask", str(heart), "--quiet", "--data-root", str(DATA), "--runs", str(runs),
                                 "--save", str(tmp_path / "saved")])
    assert r.exit_code == 0, r.output
    (run,) = list(runs.iterdir())
    res = json.loads((run / "results.json").read_text())
    sh = res["sections"]["shipped"]
    # the weighting with the best mean validation score ships, its best-validation seed: validation only
    val = res["sections"]["multitask"]["validation"]
    assert sh["arm"] == max(val, key=lambda w: (np.mean(val[w]), -list(val).index(w)))
    assert val[sh["arm"]][res["seeds"].index(sh["seed"])] == max(val[sh["arm"]])
    sm = load_model(tmp_path / "saved")
    assert isinstance(sm, ShippedMultitask) and sm.tasks == ("hungarian", "va")
    card = json.loads((run / "model" / "model_card.json").read_text())
    assert card["format"] == "multitask" and set(card["heads"]) == {"hungarian", "va"}
    assert card["heads"]["va"]["type"] == "sequential" and card["heads"]["hungarian"]["type"] == "linear"
    assert "--task NAME" in (run / "model" / "MODEL_CARD.md").read_text()
    # each task's test rows of the shipped seed give back the card's figure, through the CLI
    cfg = load_config(heart, data_root=str(DATA))
    st = split_tasks(cfg, load_task_data(cfg), sh["seed"])
    for t in st.test:
        import pandas as pd

        ds = Dataset(x=t.x, y=t.y, kind="table", class_names=t.class_names, name=t.name)
        path = tmp_path / f"{t.name}.csv"
        df = pd.DataFrame(t.x, columns=[f"c{i}" for i in range(t.x.shape[1])])
        df["label"] = [t.class_names[i] for i in t.y]
        df.to_csv(path, index=False)
        out = tmp_path / f"{t.name}_pred.csv"
        r = CliRunner().invoke(app, ["predict", str(run / "model"), str(path), "--task", t.name, "--out", str(out)])
        assert r.exit_code == 0, r.output
        lines = out.read_text().splitlines()[1:]
        acc = float(np.mean([ln.split(",")[1] == ln.split(",")[-1] for ln in lines]))
        assert acc == pytest.approx(card["per_task"][t.name]["test_seed"], abs=1e-12), t.name
        assert sm.predict(ds, task=t.name).tolist() == [ln.split(",")[1] for ln in lines]
        assert sm.predict_proba(ds, task=t.name).shape == (len(ds), len(t.class_names))
    assert sm.embed(st.test[0].x).shape == (len(st.test[0]), 16)
    with pytest.raises(DataArgumentError, match="say which one"):
        sm.predict(st.test[0].x)
    r = CliRunner().invoke(app, ["predict", str(run / "model"), "heart-disease:va", "--out", str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and "--task NAME" in " ".join(r.output.split())
    r = CliRunner().invoke(app, ["predict", str(run / "model"), "heart-disease:va", "--task", "nope"])
    assert r.exit_code == 2 and "unknown task 'nope'" in r.output
