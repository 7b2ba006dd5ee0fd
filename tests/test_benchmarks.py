"""The GPU fine-tuning benchmark runs end to end (CPU smoke mode: tiny sizes, no figures asserted)."""

import importlib.util
from pathlib import Path

import pytest


def _load(name: str):
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_gpu_finetune_smoke_measures_both_sides(capsys):
    bench = _load("gpu_finetune")
    rows = bench.main(["--smoke", "--models", "resnet18", "--workers", "0"])
    assert [r["model"] for r in rows] == ["resnet18"]
    r = rows[0]
    assert r["plain_img_s"] > 0 and r["toolkit_img_s"] > 0
    assert r["ratio"] == pytest.approx(r["toolkit_img_s"] / r["plain_img_s"])
    out = capsys.readouterr().out
    assert "plain img/s" in out and "toolkit img/s" in out and "ratio" in out


def test_gpu_finetune_without_gpu_says_so(monkeypatch):
    bench = _load("gpu_finetune")
    monkeypatch.setattr(bench.torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit, match="no CUDA GPU"):
        bench.main([])
