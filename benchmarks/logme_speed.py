"""LogME speed: transferkit's LogME against a reference-style SVD implementation.

Gaussian features N=5000, D=2048, 100 classes (defaults): class-conditional Gaussians
``f = z + signal * mu_y`` with ``z``, ``mu_c`` standard normal, so the evidence has an interior
maximum (with ``--signal 0`` the labels carry no information and the maximum lies at
``alpha -> infinity``, which a fixed point approaches only over thousands of steps).

The baseline is the published algorithm written plainly in numpy: one thin SVD of the feature
matrix, then, class by class, the projection ``U' t`` and MacKay's fixed point, iterated here
until ``alpha / beta`` changes by less than 1e-12 (the reference stops after at most 11 steps or
a 1e-3 change, which leaves it short of the maximum; ``--reference-stop`` uses that rule), with
the evidence summed over the singular values. Both run in this process, interleaved,
``--repeats`` times each; the speedup is the ratio of median wall-clock times.

    python benchmarks/logme_speed.py [--n 5000] [--d 2048] [--classes 100] [--signal 0.1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from transferkit.transferability import logme


def reference_style_logme(
    f: np.ndarray, y: np.ndarray, max_iter: int = 100_000, tol: float = 1e-12, eps: float = 0.0
) -> tuple[float, int]:
    """LogME the way the reference code computes it (thin SVD + per-class fixed point).

    Returns the score and the largest number of fixed-point steps any class needed.
    """
    f = f.astype(np.float64)
    n, d = f.shape
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    sigma = s**2
    evidences = []
    steps = 0
    for c in range(int(y.max()) + 1):
        t = (y == c).astype(np.float64)
        x = u.T @ t
        x2 = x**2
        res_x2 = t @ t - x2.sum()
        alpha, beta = 1.0, 1.0
        step = 0
        while step < max_iter:
            step += 1
            tau = alpha / beta
            gamma = (sigma / (sigma + tau)).sum()
            m2 = (sigma * x2 / (tau + sigma) ** 2).sum()
            res2 = (x2 / (1 + sigma / tau) ** 2).sum() + res_x2
            alpha = gamma / (m2 + eps)
            beta = (n - gamma) / (res2 + eps)
            if abs(alpha / beta - tau) / tau <= tol:
                break
        steps = max(steps, step)
        evidence = (
            d / 2.0 * np.log(alpha)
            + n / 2.0 * np.log(beta)
            - 0.5 * np.sum(np.log(alpha + beta * sigma))
            - beta / 2.0 * res2
            - alpha / 2.0 * m2
            - n / 2.0 * np.log(2 * np.pi)
        )
        evidences.append(evidence / n)
    return float(np.mean(evidences)), steps


def main() -> None:
    """Run both implementations and print the speedup and the largest score difference."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=5000)
    p.add_argument("--d", type=int, default=2048)
    p.add_argument("--classes", type=int, default=100)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--signal", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--reference-stop", action="store_true", help="at most 11 steps, 1e-3 change, 1e-5 guards")
    a = p.parse_args()

    rng = np.random.default_rng(a.seed)
    y = np.arange(a.n) % a.classes
    rng.shuffle(y)
    f = rng.standard_normal((a.n, a.d)) + a.signal * rng.standard_normal((a.classes, a.d))[y]
    rule = dict(max_iter=11, tol=1e-3, eps=1e-5) if a.reference_stop else {}
    print(f"features {a.n} x {a.d}, {a.classes} classes, {os.cpu_count()} CPU cores, {a.repeats} repeats")

    t_ref, t_fast, diffs = [], [], []
    for r in range(a.repeats):
        t0 = time.perf_counter()
        ref, steps = reference_style_logme(f, y, **rule)
        t_ref.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        fast = logme(f, y)
        t_fast.append(time.perf_counter() - t0)
        diffs.append(abs(fast - ref))
        print(f"repeat {r + 1}: reference-style {t_ref[-1]:.2f} s (score {ref:.9f}, {steps} steps), ", end="")
        print(f"transferkit {t_fast[-1]:.2f} s (score {fast:.9f})")

        med_ref, med_fast = statistics.median(t_ref), statistics.median(t_fast)
    print(f"median seconds: reference-style {med_ref:.2f}, transferkit {med_fast:.2f}")
    speedup = med_ref / med_fast
    print(f"speedup vs reference-style SVD LogME: {speedup:.2f}")
    print(f"largest score difference: {max(diffs):.3e}")


if __name__ == "__main__":
    main()
