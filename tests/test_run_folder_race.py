"""Issue 17 item 4: two processes writing the same run folder (results.json, report.html and a run's journal)
never leave a torn file for a reader: every read parses and is one writer's whole document."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="concurrent writers: POSIX only")

SRC = str(Path(__file__).resolve().parents[1] / "src")

# a writer that rewrites one run folder over and over with its own results (big enough for writes to overlap)
WRITER = """
    import sys
    from pathlib import Path
    from transferkit._io import new_results
    from transferkit.experiments.journal import RunJournal
    from transferkit.reports.run import RunWriter

    folder, who, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    res = new_results("adapt")
    res["sections"]["note"] = {"writer": who, "padding": [who * 50] * 4000}
    write, journal = RunWriter(folder, factor=0.0), RunJournal(folder)
    for i in range(rounds):
        res["status"] = {"complete": False, "state": "running", "cells_done": i, "cells_total": rounds,
                         "writer": who}
        write(res)
        journal.put_record(f"{who}-{i}", {"writer": who, "padding": [who * 50] * 2000})
"""


def test_two_writers_on_one_run_folder_never_show_a_torn_results_json(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    folder = tmp_path / "run"
    folder.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER), str(folder), who, "15"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for who in ("a", "b")]
    reads, seen = 0, set()
    deadline = time.monotonic() + 300
    while any(p.poll() is None for p in procs):
        assert time.monotonic() < deadline, "the writers never finished"
        for name in ("results.json", "checkpoint/cells.json"):
            path = folder / name
            if path.exists():
                doc = json.loads(path.read_text())  # a torn file would not parse
                reads += 1
                if name == "results.json":
                    note = doc["sections"]["note"]
                    assert note["padding"] == [note["writer"] * 50] * 4000 and doc["status"]["writer"] == note["writer"]
                    seen.add(note["writer"])
                else:
                    assert all(r["padding"] == [r["writer"] * 50] * 2000 for r in doc.values())
        time.sleep(0.002)
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-2000:]
    assert reads > 0 and seen <= {"a", "b"}
    final = json.loads((folder / "results.json").read_text())
    assert final["sections"]["note"]["writer"] in ("a", "b")
    html = (folder / "report.html").read_text()
    assert html.rstrip().endswith("</html>")
    assert not list(folder.glob(".*.tmp")) and not list((folder / "checkpoint").glob(".*.tmp"))
