"""``--seed`` (the base seed) on every command with ``--seeds``: the seeds run are SEED..SEED+N-1, results.json
records them and the base seed, the split moves with it, and ``--resume`` refuses another seed.

Tiny real runs: CORAL between two Office-Caltech SURF domains, the two-hospital heart-disease multi-task
config, the digits demo with one epoch per arm, UCI HAR with one source and one target subject, and PPO on
CartPole for a few hundred steps.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from _runs import tiny_heart
from typer.testing import CliRunner

from transferkit.cli import app


@pytest.fixture(autouse=True)
def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def _cli(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


def _run(out: Path) -> tuple[Path, dict]:
    [run] = [p for p in out.iterdir() if p.is_dir()]
    return run, json.loads((run / "results.json").read_text())


ADAPT = ["adapt", "--source", "office-caltech10-surf:dslr", "--target", "office-caltech10-surf:webcam", "--method",
         "coral", "--seeds", "2", "--target-labels", "3"]


def test_adapt_seed_moves_the_seeds_and_the_held_out_rows(data_root: Path, tmp_path: Path) -> None:
    from transferkit.data import load_dataset
    from transferkit.data.splits import stratified_indices

    r = _cli(*ADAPT, "--seed", "5", "--data-root", str(data_root), "-o", str(tmp_path / "a"))
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    run, five = _run(tmp_path / "a")
    assert five["seeds"] == [5, 6] and five["config"]["seed"] == 5
    assert {row["seed"] for row in five["sections"]["adaptation"]["rows"]} == {5, 6}
    # the held-out target rows are drawn with the base seed (seed 0: the rows of earlier versions)
    webcam = load_dataset("office-caltech10-surf:webcam", data_root)

    def held_out(seed: int) -> str:
        return webcam.subset(stratified_indices(webcam.y, len(webcam), (0.7, 0.3), seed)[1]).fingerprint()[:16]

    assert five["data"]["target_test"]["fingerprint"] == held_out(5) != held_out(0)

    r = _cli("adapt", "--resume", str(run), "--seed", "6", "-o", str(tmp_path / "r"))
    assert r.exit_code == 2, r.output  # type: ignore[attr-defined]
    assert "started with --seed 5, not --seed 6" in " ".join(r.output.split())  # type: ignore[attr-defined]
    r = _cli("adapt", "--resume", str(run), "--seed", "5", "-o", str(tmp_path / "r"))  # the run's own seed: fine
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    assert json.loads((run / "results.json").read_text())["seeds"] == [5, 6]


def test_multitask_seed_moves_the_seeds(data_root: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(tiny_heart(seeds=2, epochs=1))
    r = _cli("multitask", str(cfg), "--seed", "4", "--data-root", str(data_root), "-o", str(tmp_path / "out"))
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    run, res = _run(tmp_path / "out")
    assert res["seeds"] == [4, 5] and res["config"]["seed"] == 4 and res["config"]["seeds"] == [4, 5]
    r = _cli("multitask", "--resume", str(run), "--seed", "0", "-o", str(tmp_path / "r"))
    assert r.exit_code == 2 and "started with --seed 4" in " ".join(r.output.split())  # type: ignore[attr-defined]


def test_multitask_config_seed_rules(tmp_path: Path) -> None:
    from transferkit.multitask import load_config
    from transferkit.multitask.config import MultitaskConfigError

    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(tiny_heart(seeds=2, epochs=1))
    assert load_config(cfg).seeds == (0, 1)  # no base seed: as before
    assert load_config(cfg, seed=7).seeds == (7, 8)
    assert load_config(cfg, seeds=3).seeds == (0, 1, 2)
    assert load_config(cfg, seeds=3, seed=2).seeds == (2, 3, 4)
    listed = tmp_path / "listed.yaml"
    listed.write_text(tiny_heart().replace("seeds: 2", "seeds: [3, 9]"))
    assert load_config(listed).seeds == (3, 9) and load_config(listed, seed=1).seeds == (1, 2)
    based = tmp_path / "based.yaml"
    based.write_text(tiny_heart() + "seed: 10\n")
    assert load_config(based).seeds == (10, 11) and load_config(based, seed=0).seeds == (0, 1)
    with pytest.raises(MultitaskConfigError, match="base seed"):
        load_config(based, seed=-1)


def test_demo_seed_moves_the_seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import transferkit.demo as demo

    real = demo.run_demo
    # the command's own settings, with one epoch per arm: a real run that takes seconds
    monkeypatch.setattr(demo, "run_demo", lambda cfg, on_step=None: real(
        dataclasses.replace(cfg, source_epochs=1, target_epochs=1), on_step))
    r = _cli("demo", "--seeds", "2", "--budgets", "2", "--seed", "3", "--batch-size", "8", "-q", "-o", str(tmp_path))
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    _, res = _run(tmp_path)
    assert res["seeds"] == [3, 4] and res["config"]["seed"] == 3 and res["config"]["batch_size"] == 8
    assert len(res["sections"]["comparison"]["transfer"]["per_seed"]) == 2


def test_har_seed_moves_the_seeds(data_root: Path, tmp_path: Path) -> None:
    r = _cli("har", "--source-subjects", "1", "--target-subjects", "21", "--shots", "1", "--seeds", "2", "--seed", "7",
             "--source-epochs", "1", "--target-epochs", "1", "--data-root", str(data_root), "-q", "-o", str(tmp_path))
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    _, res = _run(tmp_path)
    assert res["seeds"] == [7, 8] and res["config"]["seed"] == 7
    [row] = res["sections"]["biosignals"]["per_subject"]
    assert len(row["transfer"]["per_seed"]) == 2


def test_agents_seed_moves_the_seeds(tmp_path: Path) -> None:
    pytest.importorskip("stable_baselines3")
    r = _cli("agents", "--variants", "length=1.0", "--seeds", "2", "--seed", "7", "--source-steps", "256", "--steps",
             "128", "--eval-every", "64", "--eval-episodes", "1", "-q", "-o", str(tmp_path))
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    _, res = _run(tmp_path)
    assert res["seeds"] == [7, 8] and res["config"]["seed"] == 7


def test_fit_resume_refuses_another_seed(tmp_path: Path) -> None:
    from transferkit.experiments.journal import RunJournal

    RunJournal(tmp_path).start("fit", {"target": "sms-spam", "backbone": "minilm", "seed": 2}, {})
    r = _cli("fit", "--resume", str(tmp_path), "--seed", "3")
    text = " ".join(r.output.split())  # type: ignore[attr-defined]
    assert r.exit_code == 2 and "started with --seed 2, not --seed 3" in text and "--seed 2" in text
