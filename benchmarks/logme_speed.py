"""LogME speed: transferkit's LogME against a reference-style SVD implementation.

Gaussian features N=5000, D=2048, 100 classes (defaults). The baseline is the published
algorithm written plainly in numpy: one thin SVD of the feature matrix, then, class by class,
the projection ``U' t`` and MacKay's fixed point (at most 11 steps, stop at a 1e-3 relative change,
1e-5 added to the denominators), evidence summed over the singular values. Both run in this
process, interleaved, ``--repeats`` times each; the speedup is the ratio of median wall-clock times.

    python benchmarks/logme_speed.py [--n 5000] [--d 2048] [--classes 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from transferkit.transferability import logme


def reference_style_logme(f: np.ndarray, y: np.ndarray) -> float:
    """LogME the way the reference code computes it (thin SVD + per-class fixed point)."""
    f = f.astype(np.float64)
    n, d = f.shape
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    sigma = s**2
    evidences = []
    for c in range(int(y.max()) + 1):
        t = (y == c).astype(np.float64)
        x = u.T @ t
        x2 = x**2
        res_x2 = t @ t - x2.sum()
        alpha, beta = 1.0, 1.0
        for _ in range(11):
            tau = alpha / beta
            gamma = (sigma / (sigma + tau)).sum()
            m2 = (sigma * x2 / (tau + sigma) ** 2).sum()
            res2 = (x2 / (1 + sigma / tau) ** 2).sum() + res_x2
            alpha = gamma / (m2 + 1e-5)
            beta = (n - gamma) / (res2 + 1e-5)
            if abs(alpha / beta - tau) / tau <= 1e-3:
                break
        evidence = (
            d / 2.0 * np.log(alpha)
            + n / 2.0 * np.log(beta)
            - 0.5 * np.sum(np.log(alpha + beta * sigma))
            - beta / 2.0 * res2
            - alpha / 2.0 * m2
            - n / 2.0 * np.log(2 * np.pi)
        )
        evidences.append(evidence / n)
    return float(np.mean(evidences))


def main() -> None:
    """Run both implementations and print the speedup and the largest score difference."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=5000)
    p.add_argument("--d", type=int, default=2048)
    p.add_argument("--classes", type=int, default=100)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    rng = np.random.default_rng(a.seed)
    f = rng.standard_normal((a.n, a.d))
    y = np.arange(a.n) % a.classes
    rng.shuffle(y)
    print(f"features {a.n} x {a.d}, {a.classes} classes, {os.cpu_count()} CPU cores, {a.repeats} repeats")

    t_ref, t_fast, diffs = [], [], []
    for r in range(a.repeats):
        t0 = time.perf_counter()
        ref = reference_style_logme(f, y)
        t_ref.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        fast = logme(f, y)
        t_fast.append(time.perf_counter() - t0)
        diffs.append(abs(fast - ref))
        print(f"repeat {r + 1}: reference-style {t_ref[-1]:.2f} s (score {ref:.9f}), ", end="")
        print(f"transferkit {t_fast[-1]:.2f} s (score {fast:.9f})")

        med_ref, med_fast = statistics.median(t_ref), statistics.median(t_fast)
    print(f"median seconds: reference-style {med_ref:.2f}, transferkit {med_fast:.2f}")
    speedup = med_ref / med_fast
    print(f"speedup vs reference-style SVD LogME: {speedup:.2f}")
    print(f"largest score difference: {max(diffs):.3e}")


if __name__ == "__main__":
    main()
