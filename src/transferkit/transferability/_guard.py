"""Guards for the parts of scores that grow faster than the number of samples.

Every default ``rank`` score is linear in ``N``. What is not (exact leave-one-out k-NN beyond
``max_pairs`` distance pairs, NLEEP's Gaussian mixture, the cross-validated linear probe) is
estimated before it runs and, above a limit, computed on a seeded class-stratified subsample;
each such decision is a note that :func:`transferkit.transferability.rank` records on the row
(printed under the ranking and saved in ``results.json``). A note whose estimate exceeds
``warn_seconds`` is also printed to stderr at once, before the work starts.

Change the limits for a block of code with :func:`score_limits`::

    with score_limits(max_rows=50_000, max_pairs=4 * 10**9):
        table = rank(...)
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

import numpy as np

from transferkit.errors import UsageError
from transferkit.transferability._validate import canonical_order, stratified_sample

CPU_FLOPS = 2e10  # a conservative float64 rate of one CPU core, for estimates only


@dataclass(frozen=True)
class Limits:
    """Where scores switch from exact to subsampled work.

    Attributes:
        max_pairs: k-NN accuracy is exact leave-one-out while ``N * (N - 1)`` distance pairs fit in
            this budget; above, it is estimated on ``max_pairs // N`` class-stratified query rows
            (at least ``min_queries``), each searched among all ``N`` rows (linear in ``N``).
        min_queries: the fewest query rows a subsampled k-NN estimate uses.
        max_rows: rows above which super-linear fits (NLEEP's mixture, the linear probe) run on a
            seeded class-stratified subsample of this size.
        warn_seconds: estimated seconds above which a score says so on stderr before it starts.
        seed: seed of every subsample.
    """

    max_pairs: int = 10**9
    min_queries: int = 1000
    max_rows: int = 20_000
    warn_seconds: float = 60.0
    seed: int = 0


_DEFAULT = Limits()
_LIMITS: ContextVar[Limits | None] = ContextVar("transferkit_score_limits", default=None)
_NOTES: ContextVar[list[str] | None] = ContextVar("transferkit_score_notes", default=None)


def limits() -> Limits:
    """The limits in force."""
    return _LIMITS.get() or _DEFAULT


@contextmanager
def score_limits(**changes: int | float) -> Iterator[Limits]:
    """Run a block with some :class:`Limits` fields changed (e.g. ``max_rows=50_000``)."""
    unknown = set(changes) - set(Limits.__dataclass_fields__)
    if unknown:
        raise UsageError(f"unknown score limit(s) {sorted(unknown)}; known: {sorted(Limits.__dataclass_fields__)}")
    for key, value in changes.items():
        if value is None or value <= 0:
            raise UsageError(f"score limit {key} must be positive, got {value!r}")
    token = _LIMITS.set(replace(limits(), **changes))  # type: ignore[arg-type]
    try:
        yield limits()
    finally:
        _LIMITS.reset(token)


@contextmanager
def collect_notes() -> Iterator[list[str]]:
    """Collect the notes scores make inside the block (what ``rank`` puts on each row)."""
    notes: list[str] = []
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)


def note(message: str, estimate_s: float | None = None) -> None:
    """Record ``message`` for the caller's results; print it now when the estimate is long."""
    collector = _NOTES.get()
    if collector is not None:
        collector.append(message)
    if estimate_s is not None and estimate_s > limits().warn_seconds:
        print(f"transferkit: {message} (estimated {estimate_s:.0f} s)", file=sys.stderr, flush=True)


def estimate_seconds(flops: float) -> float:
    """A rough CPU time for ``flops`` floating-point operations (for the guard's messages)."""
    return float(flops) / CPU_FLOPS


def subsample_rows(score: str, x: np.ndarray, y: np.ndarray, flops_per_row: float,
                   max_rows: int | None = None, limit: str = "max_rows",
                   why: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` or a seeded class-stratified subsample of ``max_rows`` rows, with a note.

    The subsample is drawn in a content-defined row order, so it does not depend on the order the
    rows were given in. ``flops_per_row`` feeds the estimate printed before a long run. ``limit``
    names the :class:`Limits` field that sets ``max_rows`` and ``why`` says why the rows are capped
    (default: the time the full data would take), both for the note.
    """
    cap = max_rows if max_rows is not None else limits().max_rows
    n = len(y)
    full = estimate_seconds(flops_per_row * n)
    if n <= cap:
        if full > limits().warn_seconds:
            note(f"{score} on all {n} rows", full)
        return x, y
    order = canonical_order(x, y)
    keep = np.sort(order[stratified_sample(y[order], cap, limits().seed)])
    why = why or f"the full data would take about {full:.0f} s"
    note(f"{score}: computed on a class-stratified subsample of {cap} of {n} rows (seed {limits().seed}; "
         f"{why}; raise the limit with score_limits({limit}=...))", estimate_seconds(flops_per_row * cap))
    return x[keep], y[keep]
