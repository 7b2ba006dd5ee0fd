"""Runs that survive, for ``adapt`` and ``multitask`` (issue 14 item 6, issue 17 item 4): Ctrl-C leaves a
report marked incomplete, kill -9 loses at most the cell being fitted, and ``--resume RUN`` ends with the
figures and the shipped model of an uninterrupted run. Same pattern as ``test_fit_resume.py``."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from _runs import DATA, cells_done, start_cli, stop_after, tiny_heart

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL: POSIX only")

ADAPT = ["adapt", "--source", "office-caltech10-surf:dslr", "--target", "office-caltech10-surf:webcam", "--method",
         "coral", "--seeds", "4", "--target-labels", "3"]
VOLATILE = ("seconds", "created", "argv", "model", "resume", "saved_to", "versions", "platform")


def _strip(o):  # everything but wall-clock times and paths
    if isinstance(o, dict):
        return {k: _strip(v) for k, v in o.items() if k not in VOLATILE}
    if isinstance(o, list):
        return [_strip(v) for v in o]
    return o


def _figures(run: Path) -> dict:
    res = json.loads((run / "results.json").read_text())
    card = json.loads((run / "model" / "model_card.json").read_text())
    return {"sections": _strip({k: v for k, v in res["sections"].items() if k != "curves"}),
            "curves": _strip(res["sections"].get("curves")), "weights": card["weights"]["sha256"],
            "fingerprint": card["model_fingerprint"], "status": res.get("status")}


def _survive(tmp_path: Path, args: list[str], command: str, first: int, second: int) -> None:
    """Reference run; a run stopped by Ctrl-C after ``first`` cells, resumed, killed with SIGKILL after
    ``second`` cells, resumed to the end: the same figures and shipped model as the reference."""


    ref_runs, runs = tmp_path / "ref", tmp_path / "runs"
    # the reference runs as the stopped run does (a process with one BLAS thread): thread counts change
    # floating-point sums in the last digits
    ref_proc = start_cli(args, ref_runs)
    assert ref_proc.wait(600) == 0, ref_proc.stdout.read()
    (ref,) = list(ref_runs.iterdir())

    p = start_cli(args, runs)
    stop_after(p, runs, first, signal.SIGINT)
    out = p.stdout.read()
    assert p.returncode == 130, out
    (run,) = list(runs.iterdir())
    res = json.loads((run / "results.json").read_text())
    assert res["status"]["complete"] is False and res["status"]["state"] == "interrupted (Ctrl-C)"
    assert res["status"]["resume"] == f"transferkit {command} --resume {run}" and "shipped" not in res["sections"]
    assert "Incomplete run (interrupted (Ctrl-C))" in (run / "report.html").read_text()
    assert f"continue with: transferkit {command} --resume {run}" in " ".join(out.split())

    done = cells_done(runs)
    p = start_cli([command, "--resume", str(run)], runs)
    stop_after(p, runs, done + second, signal.SIGKILL)
    assert p.returncode == -signal.SIGKILL
    res = json.loads((run / "results.json").read_text())
    assert res["status"]["state"] == "running" and res["status"]["cells_done"] >= done + second - 1
    killed_at = cells_done(runs)

    p = start_cli([command, "--resume", str(run)], runs)
    out = p.communicate(timeout=600)[0]
    assert p.returncode == 0, out
    assert _figures(run) == _figures(ref)
    # at most one cell of work was lost: every cell finished before the kill was read back, not fitted again
    progress = [line for line in out.splitlines() if " cells] " in line]
    assert len(progress) == res["status"]["cells_total"]
    assert sum("(read back)" in line for line in progress) == killed_at >= done + second


@pytest.mark.slow
def test_adapt_survives_ctrl_c_and_kill_9(data_root, tmp_path: Path) -> None:
    _survive(tmp_path, ADAPT, "adapt", 2, 3)


@pytest.mark.slow
def test_multitask_survives_ctrl_c_and_kill_9(tmp_path: Path) -> None:
    if not (DATA / "uci_heart_disease").is_dir():
        pytest.skip(f"UCI heart disease data not found under {DATA}")
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(tiny_heart(seeds=3))
    _survive(tmp_path, ["multitask", str(cfg)], "multitask", 3, 4)


def test_resume_refuses_a_run_of_another_command(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from transferkit.cli import app
    from transferkit.experiments.journal import RunJournal

    RunJournal(tmp_path).start("fit", {"target": "x"}, {})
    for cmd in (["adapt", "--resume", str(tmp_path)], ["multitask", "--resume", str(tmp_path)]):
        r = CliRunner().invoke(app, cmd)
        assert r.exit_code == 2 and "is a `fit` run" in " ".join(r.output.split()), r.output
    r = CliRunner().invoke(app, ["adapt", "--resume", str(tmp_path / "nowhere")])
    assert r.exit_code == 2 and "cannot be resumed" in " ".join(r.output.split())


class _Crash(Exception):
    """Stands in for a kill: raised from the results writer once some cells are done."""


def _crash_after(n: int):
    def update(res: dict) -> None:
        if res["status"]["cells_done"] >= n:
            raise _Crash

    return update


def _same(a: Path, b: Path, ra: dict, rb: dict) -> None:
    assert _strip({k: v for k, v in ra["sections"].items()}) == _strip({k: v for k, v in rb["sections"].items()})
    ca, cb = (json.loads((p / "model" / "model_card.json").read_text()) for p in (a, b))
    assert ca["weights"]["sha256"] == cb["weights"]["sha256"] and ca["model_fingerprint"] == cb["model_fingerprint"]


def test_adapt_resumes_in_process_to_the_same_figures(data_root, tmp_path: Path) -> None:
    from transferkit.adaptation.run import resume_adapt, run_adapt
    from transferkit.experiments.journal import RunJournal

    args = dict(source="office-caltech10-surf:dslr", target="office-caltech10-surf:webcam", method="coral", seeds=2,
                target_labels=3)
    ref = run_adapt(**args, run_dir=tmp_path / "ref")
    with pytest.raises(_Crash):
        run_adapt(**args, run_dir=tmp_path / "run", on_update=_crash_after(3))
    assert len(RunJournal(tmp_path / "run")) == 3 and not (tmp_path / "run" / "model").exists()
    seen = []
    res = resume_adapt(tmp_path / "run", on_progress=seen.append)
    assert [p.restored for p in seen] == [True, True, True, False]
    _same(tmp_path / "ref", tmp_path / "run", ref, res)


def test_multitask_resumes_in_process_to_the_same_figures(tmp_path: Path) -> None:
    if not (DATA / "uci_heart_disease").is_dir():
        pytest.skip(f"UCI heart disease data not found under {DATA}")
    from transferkit.experiments.journal import RunJournal
    from transferkit.multitask import config_from_dict, resume_multitask, run_multitask

    cfg = config_from_dict({"name": "t", "backbone": "tabmlp?hidden=8", "seeds": 2, "epochs": 2, "threads": 1,
                            "weightings": ["equal"], "data_root": str(DATA),
                            "tasks": [{"name": "hungarian", "data": "heart-disease:hungarian"},
                                      {"name": "va", "data": "heart-disease:va"}]})
    ref = run_multitask(cfg, run_dir=tmp_path / "ref")
    with pytest.raises(_Crash):
        run_multitask(cfg, run_dir=tmp_path / "run", on_update=_crash_after(4))
    assert len(RunJournal(tmp_path / "run")) == 4
    seen = []
    res = resume_multitask(tmp_path / "run", on_progress=seen.append)
    assert [p.restored for p in seen] == [True] * 4 + [False] * 2
    _same(tmp_path / "ref", tmp_path / "run", ref, res)
