"""CLI start-up: ``transferkit --help``, ``--version``, ``datasets`` and ``models`` against importing torch and
scikit-learn, which is what every one of them paid before the command line imported lazily.

Each command runs in a fresh Python process (``python -m transferkit ...``), interleaved with the
baseline process ``python -c "import torch, sklearn.linear_model"``, ``--repeats`` times each; the
ratio is the command's median wall-clock time over the baseline's (below 1: the command starts faster
than the libraries it no longer imports alone). Each command's run also reports the modules it
imported and whether torch or scikit-learn were among them.

    python benchmarks/cli_start.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
COMMANDS = (["--help"], ["--version"], ["datasets"], ["models"])
BASELINE = "import torch, sklearn.linear_model"
PROBE = ("import json, sys, runpy\nsys.argv = ['transferkit', *json.loads(sys.argv[1])]\n"
         "try:\n    runpy.run_module('transferkit', run_name='__main__')\nexcept SystemExit:\n    pass\n"
         "heavy = [m for m in ('torch', 'sklearn') if m in sys.modules]\n"
         "print(json.dumps({'modules': len(sys.modules), 'heavy': heavy}), file=sys.stderr)")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _run(argv: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, env=_env(), capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return seconds, proc.stderr


def main(args: list[str] | None = None) -> list[dict[str, object]]:
    """Measure every command against the baseline; print one row each and return the rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    opts = parser.parse_args(args)
    times: dict[str, list[float]] = {"baseline": [], **{" ".join(c): [] for c in COMMANDS}}
    facts: dict[str, dict[str, object]] = {}
    for _ in range(opts.repeats):
        times["baseline"].append(_run([sys.executable, "-c", BASELINE])[0])
        for command in COMMANDS:
            seconds, err = _run([sys.executable, "-c", PROBE, json.dumps(command)])
            times[" ".join(command)].append(seconds)
            facts[" ".join(command)] = json.loads(err.strip().splitlines()[-1])
    base = statistics.median(times["baseline"])
    print(f"baseline `python -c \"{BASELINE}\"`: {base:.2f} s (median of {opts.repeats})")
    print(f"{'command':<22}{'median s':>10}{'ratio':>8}{'modules':>9}  torch/sklearn imported")
    rows = []
    for name, values in times.items():
        if name == "baseline":
            continue
        med = statistics.median(values)
        row = {"command": name, "seconds": med, "ratio": med / base, **facts[name]}
        rows.append(row)
        print(f"transferkit {name:<10}{med:>10.2f}{med / base:>8.2f}{row['modules']:>9}  {row['heavy'] or 'no'}")
    return rows


if __name__ == "__main__":
    main()
