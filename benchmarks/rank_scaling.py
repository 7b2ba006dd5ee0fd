"""How the default ``rank`` scores scale: CPU time and peak memory at N = 10k, 100k, 1M.

Features are float32 Gaussian class blobs (D = 512, C = 10; plus C = 1000 at N = 100k), made in
chunks so that generating them allocates nothing beyond the array. Each size runs in its own child
process (one thread): after the data exist, each default score runs once while a sampler thread
reads the process's resident memory every 20 ms; the input check ``rank`` does first is timed too.
Per score it prints CPU seconds, wall seconds, the peak resident memory of the process (features
included) and the peak above what the process held before the score started; per size the total
CPU seconds. The growth exponent of a score between two sizes is ``log(t2 / t1) / log(N2 / N1)``
of its CPU time (1 = linear, 2 = quadratic). Goal: every default score at 1M x 512 in <= 120 s CPU
in total and <= 6 GB peak.

    python benchmarks/rank_scaling.py [--sizes 10000,100000,1000000] [--dim 512] [--classes 10]
                                      [--many-classes 1000] [--scores logme,...] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import threading
import time
from typing import Any


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakSampler:
    """Peak resident memory of this process while the ``with`` block runs (sampled every 20 ms)."""

    def __enter__(self) -> PeakSampler:
        self.start = _rss()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss())
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def make_blobs(n: int, d: int, c: int, seed: int = 0) -> tuple[Any, Any]:
    """float32 class blobs ``(n, d)`` and labels, written chunk by chunk."""
    import numpy as np

    rng = np.random.default_rng(seed)
    y = np.arange(n) % c
    rng.shuffle(y)
    means = rng.standard_normal((c, d)).astype(np.float32)
    means *= 1.5 / np.linalg.norm(means, axis=1, keepdims=True)
    x = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 65536):
        stop = min(start + 65536, n)
        x[start:stop] = rng.standard_normal((stop - start, d), dtype=np.float32) + means[y[start:stop]]
    return x, y


def child(n: int, d: int, c: int, scores: list[str] | None = None) -> dict[str, Any]:
    """Run in a fresh process: make the data, time and measure each score (default: rank's defaults)."""
    import torch

    torch.set_num_threads(1)
    from transferkit.transferability import DEFAULT_SCORES, SCORES
    from transferkit.transferability._guard import collect_notes
    from transferkit.transferability._validate import check_rows

    x, y = make_blobs(n, d, c)
    out: dict[str, Any] = {"n": n, "d": d, "c": c, "data_rss": _rss(), "scores": {}}
    steps = [("check_rows", lambda: check_rows(x))] + [(s, (lambda s=s: SCORES.get(s)(x, y)))
                                                       for s in (scores or DEFAULT_SCORES)]
    for name, fn in steps:
        with PeakSampler() as mem, collect_notes() as notes:
            c0, w0 = time.process_time(), time.perf_counter()
            value = fn()
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        out["scores"][name] = {"cpu_s": cpu, "wall_s": wall, "peak_rss": mem.peak, "extra_rss": mem.peak - mem.start,
                               "value": None if name == "check_rows" else float(value), "notes": notes}
    return out


def _run_child(n: int, d: int, c: int, scores: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", f"{n},{d},{c}", "--scores", scores]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child N={n} C={c} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def exponent(t1: float, t2: float, n1: int, n2: int) -> float:
    """Growth exponent of a time between two sizes."""
    return math.log(max(t2, 1e-9) / max(t1, 1e-9)) / math.log(n2 / n1)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run every size in a child process and print the table, totals and growth exponents."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--many-classes", type=int, default=1000, help="also C = this at the middle size (0: skip)")
    ap.add_argument("--scores", default="", help="comma-separated scores (default: rank's DEFAULT_SCORES)")
    ap.add_argument("--json", default=None, help="also write the measurements to this file")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        n, d, c = (int(v) for v in args.child.split(","))
        print(json.dumps(child(n, d, c, [s for s in args.scores.split(",") if s] or None)))
        return []
    sizes = [int(s) for s in args.sizes.split(",")]
    runs = [(n, args.dim, args.classes) for n in sizes]
    if args.many_classes and len(sizes) > 1:
        runs.append((sizes[len(sizes) // 2], args.dim, args.many_classes))
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print(f"rank scaling: D={args.dim}, one thread per process, CPU cores {os.cpu_count()}, load average {load:.1f}")
    print(f"{'N':>9} {'C':>5} {'step':<22} {'CPU s':>8} {'wall s':>8} {'peak GB':>8} {'extra GB':>9}  value")
    rows = []
    for n, d, c in runs:
        r = _run_child(n, d, c, args.scores)
        rows.append(r)
        for name, m in r["scores"].items():
            value = "" if m["value"] is None else f"{m['value']:.6g}"
            print(f"{n:>9} {c:>5} {name:<22} {m['cpu_s']:>8.2f} {m['wall_s']:>8.2f} {m['peak_rss'] / 1e9:>8.2f} "
                  f"{m['extra_rss'] / 1e9:>9.2f}  {value}")
            for note in m["notes"]:
                print(f"{'':>16} note: {note}")
        total = sum(m["cpu_s"] for m in r["scores"].values())
        peak = max(m["peak_rss"] for m in r["scores"].values())
        print(f"{n:>9} {c:>5} {'all default scores':<22} {total:>8.2f} {'':>8} {peak / 1e9:>8.2f}")
    base = [r for r in rows if r["c"] == args.classes]
    print("growth exponent of CPU time (1 = linear in N):")
    for name in base[0]["scores"]:
        parts = []
        for a, b in zip(base, base[1:], strict=False):
            e = exponent(a["scores"][name]["cpu_s"], b["scores"][name]["cpu_s"], a["n"], b["n"])
            parts.append(f"{a['n']}->{b['n']}: {e:.2f}")
        print(f"  {name:<22} " + ", ".join(parts))
    largest = base[-1]
    total = sum(m["cpu_s"] for m in largest["scores"].values())
    peak = max(m["peak_rss"] for m in largest["scores"].values())
    print(f"at N={largest['n']}: {total:.1f} s CPU in total (goal <= 120), peak {peak / 1e9:.2f} GB (goal <= 6)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"load_average": load, "runs": rows}, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
