"""``features`` and ``rank`` on 2 million 28x28 images memory-mapped from disk: peak resident memory.

Builds, in a temporary folder, ``x.npy`` (2,000,000 x 28 x 28 uint8, 1.57 GB, written through a
memory map) and ``y.npy`` from the 70,000 real MNIST digits (train + test): copy ``k`` of the set is
every digit shifted by a seeded random offset of up to 2 pixels in each direction (the gap filled
with black), labels kept. Then it runs, as child processes, ``transferkit features --data FOLDER``
and ``transferkit rank --target FOLDER`` (default scores) with one backbone (default
``zoo:mnist-cnn``) and a feature cache in the same temporary folder, so ``rank`` reads the
features ``features`` wrote (``--cold-rank`` also runs ``rank`` with an empty cache: extraction and
scores in one process). While each runs, a sampler reads every 0.2 s the resident memory of the
process and its children (DataLoader workers, if any): the peak of their sum, and of its anonymous
part (resident minus file-backed pages, i.e. what the memory map does not account for), and the
wall time are printed. Goal: peak resident memory under 3 GB for each command. Nothing about time is
asserted.

    python benchmarks/memmap_2m.py [--n 2000000] [--backbone zoo:mnist-cnn] [--batch-size 256]
                                   [--workdir DIR] [--keep] [--cold-rank] [--json out.json]

Needs the MNIST files under the data root (``$TRANSFERKIT_DATA``; ``transferkit datasets download mnist``)
and about 3 GB of free disk (checked first).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

GOAL_BYTES = 3 * 10**9


def build(folder: Path, n: int, seed: int = 0) -> None:
    """Write ``folder/x.npy`` (n x 28 x 28 uint8) and ``folder/y.npy`` from shifted copies of MNIST."""
    import numpy as np

    from transferkit.data import load_dataset

    mnist = load_dataset("mnist")  # 70k digits, float32 (N, 1, 28, 28) in [0, 1]
    base = np.rint(np.asarray(mnist.x)[:, 0] * 255).astype(np.uint8)
    labels = np.asarray(mnist.y)
    del mnist
    rng = np.random.default_rng(seed)
    x = np.lib.format.open_memmap(folder / "x.npy", mode="w+", dtype=np.uint8, shape=(n, 28, 28))
    y = np.empty(n, dtype=np.int64)
    for start in range(0, n, len(base)):
        stop = min(n, start + len(base))
        block = base[: stop - start]
        dy, dx = (int(v) for v in rng.integers(-2, 3, size=2))
        if start == 0:
            dy = dx = 0  # the first copy is the real digits as they are
        shifted = np.zeros_like(block)
        shifted[:, max(dy, 0):28 + min(dy, 0), max(dx, 0):28 + min(dx, 0)] = \
            block[:, max(-dy, 0):28 - max(dy, 0), max(-dx, 0):28 - max(dx, 0)]
        x[start:stop] = shifted
        y[start:stop] = labels[: stop - start]
    x.flush()
    del x
    np.save(folder / "y.npy", y)


class TreeSampler:
    """Peak resident memory of a process and its children, sampled every ``every`` seconds."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.every = every
        self.peak = self.peak_anon = self.peak_main = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        import psutil

        total = anon = 0
        try:
            procs = [self.proc, *self.proc.children(recursive=True)]
        except psutil.Error:
            return
        for p in procs:
            try:
                mi = p.memory_info()
            except psutil.Error:
                continue
            total += mi.rss
            anon += mi.rss - getattr(mi, "shared", 0)
            if p.pid == self.proc.pid:
                self.peak_main = max(self.peak_main, mi.rss)
        self.peak, self.peak_anon = max(self.peak, total), max(self.peak_anon, anon)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(self.every)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_measured(label: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``python -m transferkit ARGS``; its wall time, peak memory and exit code."""
    cmd = [sys.executable, "-m", "transferkit", *args]
    print(f"\n$ transferkit {' '.join(args)}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with TreeSampler(proc.pid) as s:
        out, _ = proc.communicate()
    wall = time.perf_counter() - t0
    tail = "\n".join(out.strip().splitlines()[-4 if proc.returncode == 0 else -40:])  # all of an error
    print(tail)
    row = {"command": label, "args": args, "exit_code": proc.returncode, "wall_s": round(wall, 1),
           "peak_rss_bytes": s.peak, "peak_anon_bytes": s.peak_anon, "peak_main_rss_bytes": s.peak_main}
    print(f"{label}: exit {proc.returncode}, wall {wall:.0f} s, peak RSS {s.peak / 1e9:.2f} GB "
          f"(anonymous {s.peak_anon / 1e9:.2f} GB; main process {s.peak_main / 1e9:.2f} GB)", flush=True)
    return row


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Build the memory-mapped set, run ``features`` and ``rank`` on it, print and return their peaks."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2_000_000, help="number of images (default 2,000,000)")
    ap.add_argument("--backbone", default="zoo:mnist-cnn")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--workdir", default=None, help="parent of the temporary folder (default: the system's)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--reuse", default=None, metavar="DIR", help="a folder kept by --keep: its data (and feature "
                    "cache) are used again and it is kept")
    ap.add_argument("--steps", default="features,rank", help="which commands to run (default: features,rank)")
    ap.add_argument("--cold-rank", action="store_true", help="also run rank with an empty feature cache")
    ap.add_argument("--json", default=None, help="write the rows to this file")
    a = ap.parse_args(argv)
    parent = Path(a.workdir or tempfile.gettempdir())
    need = a.n * 28 * 28 + a.n * 8 + a.n * 128 * 4 * (2 if a.cold_rank else 1) + 2**28
    free = shutil.disk_usage(parent).free
    print(f"free disk under {parent}: {free / 1e9:.1f} GB, need about {need / 1e9:.1f} GB")
    if free < need and not a.reuse:
        raise SystemExit(f"not enough free disk under {parent}: pass --workdir DIR on a disk with {need / 1e9:.1f} GB")
    work = Path(a.reuse) if a.reuse else Path(tempfile.mkdtemp(prefix="tk-memmap-", dir=parent))
    steps = set(a.steps.split(","))
    rows: list[dict[str, Any]] = []
    try:
        data = work / "data"
        if not (data / "y.npy").is_file():
            data.mkdir(exist_ok=True)
            t0 = time.perf_counter()
            build(data, a.n)
            print(f"built {data}/x.npy in {time.perf_counter() - t0:.0f} s")
        size = (data / "x.npy").stat().st_size
        print(f"{data}/x.npy: {size / 1e9:.2f} GB of uint8 images, 28 x 28")
        env = {**os.environ, "TRANSFERKIT_CACHE": str(work / "cache"), "PYTHONUNBUFFERED": "1"}
        if "features" in steps:
            rows.append(run_measured("features", ["features", "--data", str(data), "-b", a.backbone,
                                                  "--batch-size", str(a.batch_size)], env))
        if "rank" in steps:
            rows.append(run_measured("rank", ["rank", "--target", str(data), "-m", a.backbone,
                                              "--out", str(work / "runs")], env))
        if a.cold_rank:
            cold = {**env, "TRANSFERKIT_CACHE": str(work / "cache-cold")}
            rows.append(run_measured("rank (empty cache)", ["rank", "--target", str(data), "-m", a.backbone,
                                                            "--out", str(work / "runs")], cold))
    finally:
        if a.keep or a.reuse:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'command':<20} {'exit':>4} {'wall s':>8} {'peak RSS GB':>12} {'anon GB':>8}  goal < 3 GB")
    for r in rows:
        ok = "yes" if r["peak_rss_bytes"] < GOAL_BYTES else "NO"
        print(f"{r['command']:<20} {r['exit_code']:>4} {r['wall_s']:>8.0f} {r['peak_rss_bytes'] / 1e9:>12.2f} "
              f"{r['peak_anon_bytes'] / 1e9:>8.2f}  {ok}")
    if a.json:
        Path(a.json).write_text(json.dumps({"n": a.n, "backbone": a.backbone, "rows": rows}, indent=2))
    return rows


if __name__ == "__main__":
    main()
