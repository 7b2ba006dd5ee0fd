"""The similarity report reads: a plain line per distance, the source model's accuracy on the target,
and raw columns of very different scales standardised (with a note) before any distance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from transferkit.errors import DataArgumentError
from transferkit.similarity import similarity_section
from transferkit.similarity.reading import SCALE_RATIO_LIMIT, column_scale_ratio, standardize_pair


def gauss(n: int, d: int, shift: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d)) + shift


def test_every_measure_carries_a_plain_reading() -> None:
    same = similarity_section(gauss(300, 4, 0, 1), gauss(300, 4, 0, 2), None, None, permutations=50)
    far = similarity_section(gauss(300, 4, 0, 1), gauss(300, 4, 3.0, 2), None, None, permutations=50)
    for sec in (same, far):
        assert set(sec["measures"]) == {"mmd", "proxy_a", "coral", "frechet"}
        assert all(m["reading"] for m in sec["measures"].values())
    pa_same, pa_far = same["measures"]["proxy_a"]["reading"], far["measures"]["proxy_a"]["reading"]
    assert "0 = indistinguishable, 2 = fully separable" in pa_same
    assert "look alike" in pa_same and "clearly separable" in pa_far
    assert "right 100% of the time" in pa_far
    assert "no difference detectable" in same["measures"]["mmd"]["reading"]
    assert "differ beyond chance" in far["measures"]["mmd"]["reading"]
    # Frechet against the spread: a shift of 3 in each of 4 unit-variance columns is |dmu|^2 = 36,
    # nine times the total variance (4)
    ratio = float(far["measures"]["frechet"]["reading"].split(": ")[-1].split(" times")[0])
    assert 8.0 < ratio < 10.0
    assert float(same["measures"]["frechet"]["reading"].split(": ")[-1].split(" times")[0]) < 0.1


def test_a_column_scaled_by_1e6_is_standardised_with_a_note() -> None:
    rng = np.random.default_rng(7)
    xs, xt = rng.standard_normal((300, 5)), rng.standard_normal((300, 5))
    xt[:, 1] += 1.0  # the shift: one standard deviation in column 1
    xs[:, 0] *= 1e6
    xt[:, 0] *= 1e6  # same distribution, a million times the scale of the others
    assert column_scale_ratio(xs, xt)[0] > 1e5
    auto = similarity_section(xs, xt, None, None, measures=("mmd",), permutations=100)
    raw = similarity_section(xs, xt, None, None, measures=("mmd",), permutations=100, standardize="never")
    assert auto["preprocessing"]["standardized"] and auto["preprocessing"]["largest_column"] == 0
    assert len(auto["notes"]) == 1 and "standardised" in auto["notes"][0] and "column 0" in auto["notes"][0]
    assert not raw["preprocessing"]["standardized"] and raw["notes"] == []
    # the raw scale hides the shift from the kernel; standardised, it is found
    assert raw["measures"]["mmd"]["p_value"] > 0.05
    assert auto["measures"]["mmd"]["p_value"] < 0.05


def test_similar_scales_are_left_alone_and_modes_are_checked() -> None:
    xs, xt = gauss(100, 6, 0, 3), gauss(100, 6, 0.5, 4)
    ys, yt, rec = standardize_pair(xs, xt, "auto")
    assert ys is xs and yt is xt and not rec["standardized"] and rec["column_scale_ratio"] < SCALE_RATIO_LIMIT
    zs, zt, rec = standardize_pair(xs, xt, "always")
    pooled = np.vstack([zs, zt])
    assert rec["standardized"] and "note" not in rec
    np.testing.assert_allclose(pooled.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(pooled.std(axis=0), 1, atol=1e-12)
    assert zt.mean() > zs.mean()  # pooled statistics keep the shift between the sides
    with pytest.raises(DataArgumentError, match="auto, always, never"):
        standardize_pair(xs, xt, "sometimes")


def test_raw_heart_disease_tables_are_standardised(data_root: Path) -> None:
    from transferkit.similarity import measure_similarity

    res = measure_similarity("heart-disease:cleveland", "heart-disease:hungarian", "raw", measures=("proxy_a",),
                             class_measures=(), permutations=0)
    sec = res["sections"]["similarity"]
    assert sec["preprocessing"]["standardized"], sec["preprocessing"]
    assert sec["preprocessing"]["column_scale_ratio"] > SCALE_RATIO_LIMIT
    assert sec["notes"] and "source_model" not in sec  # raw inputs have no source classifier


def test_similarity_cli_reads_and_reports_the_source_models_accuracy(
        data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from transferkit.backbones import create_backbone
    from transferkit.cli import app
    from transferkit.data import load_dataset

    monkeypatch.setenv("TRANSFERKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TRANSFERKIT_RUNS", str(tmp_path / "runs"))
    res = CliRunner().invoke(app, ["similarity", "--source", "mnist@test", "--target", "usps@test", "--backbone",
                                   "zoo:mnist-cnn", "--max-samples", "400", "--permutations", "20"])
    assert res.exit_code == 0, res.output
    (folder,) = list((tmp_path / "runs").iterdir())
    sec = json.loads((folder / "results.json").read_text())["sections"]["similarity"]
    src = sec["source_model"]
    # MNIST digits classified by the MNIST network on USPS: well above chance, well below MNIST itself
    assert 0.6 < src["accuracy"] < 0.9 and src["source_accuracy"] > 0.93
    assert src["n"] == 400 and src["shared_classes"] == src["target_classes"] == 10
    # the same number straight from the model's head on the same 400 target images
    from transferkit.similarity.api import stratified_subset

    usps = load_dataset("usps@test")
    usps = usps.subset(stratified_subset(usps.y, len(usps), 400, 0))
    model = create_backbone("zoo:mnist-cnn", data=usps)
    probs = model.source_probs(usps)
    assert src["accuracy"] == pytest.approx(float(np.mean(probs.argmax(1) == usps.y)))
    flat = " ".join(res.output.split())
    assert "Source model on the target: its own classifier head labels" in flat
    assert "indistinguishable" in flat and "covariance mismatch" in flat  # readings in the terminal table
    html = (folder / "report.html").read_text()
    assert "Source model on the target" in html and "fully separable" in html


def test_report_shows_readings_notes_and_source_accuracy() -> None:
    from transferkit._io import new_results
    from transferkit.reports.html import render_report
    from transferkit.reports.terminal import print_summary

    xs, xt = gauss(200, 3, 0, 5), gauss(200, 3, 0.3, 6)
    xs[:, 2] *= 1e6
    xt[:, 2] *= 1e6
    sec = similarity_section(xs, xt, None, None, permutations=20)
    sec["source_model"] = {"accuracy": 0.75, "reading": "its own classifier head labels 75.0% of 200 target samples"}
    res = new_results("similarity", seeds=[0])
    res["sections"]["similarity"] = sec
    con = Console(record=True, width=400, color_system=None)
    print_summary(res, con)
    text = con.export_text()
    assert "note: feature columns differ in scale" in text
    assert "Source model on the target: its own classifier head labels 75.0%" in text
    assert sec["measures"]["proxy_a"]["reading"] in text
    html = render_report(res)
    assert "feature columns differ in scale" in html and "labels 75.0% of 200" in html
    assert "fully separable" in html


def test_a_source_head_without_shared_class_names_reports_none() -> None:
    from transferkit.similarity.reading import source_accuracy

    out = source_accuracy(np.eye(3)[[0, 1, 2, 0]], ("cat", "dog", "cow"), np.array(["benign", "malignant"] * 2))
    assert out["accuracy"] is None and "share no name" in out["reading"]
    out = source_accuracy(np.eye(3)[[0, 1, 2, 0]], ("0", "1", "2"), np.array(["0", "1", "1", "7"]))
    assert out["accuracy"] == pytest.approx(2 / 3) and out["n"] == 3 and out["shared_classes"] == 2


def test_a_bad_standardize_mode_fails_before_any_data_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    import transferkit.data
    from transferkit.similarity import measure_similarity

    def no_data(*_a: object, **_k: object) -> None:
        raise AssertionError("data were read before the option was checked")

    monkeypatch.setattr(transferkit.data, "load_dataset", no_data)
    with pytest.raises(DataArgumentError, match="auto, always, never"):
        measure_similarity("usps@train", "usps@test", "raw", standardize="sometimes")
