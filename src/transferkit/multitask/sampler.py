"""Task sampling: how many rows of each task go into one training step.

Every step holds rows of every task (so each loss weighting sees all K losses each step);
the share of task ``k`` in a step of ``B`` rows follows its sampling probability ``p_k``:

* ``proportional``: ``p_k = n_k / N`` (each task's data is seen about once per epoch);
* ``uniform``: ``p_k = 1 / K`` (small tasks are revisited more often);
* ``temperature``: ``p_k ∝ n_k^(1/T)`` (``T = 1`` is proportional, large ``T`` tends to uniform).

An epoch is ``ceil(N / B)`` steps, ``N`` the labelled rows over all tasks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from transferkit._registry import Registry
from transferkit.errors import DataError


@dataclass(frozen=True)
class SamplerInfo:
    """What a task sampler does: a one-line description and whether it reads ``temperature``."""

    description: str
    uses_temperature: bool = False


# sizes (K,) float, temperature -> unnormalised sampling weights (K,), all > 0
SamplerFn = Callable[[np.ndarray, float], np.ndarray]
TASK_SAMPLERS: Registry[SamplerFn] = Registry("multi-task sampler")


@TASK_SAMPLERS.register("proportional", info=SamplerInfo("p_k = n_k / N: each task's data about once per epoch"))
def proportional(sizes: np.ndarray, temperature: float) -> np.ndarray:
    """Weights proportional to the tasks' sizes."""
    return sizes


@TASK_SAMPLERS.register("uniform", info=SamplerInfo("p_k = 1 / K: small tasks are revisited more often"))
def uniform(sizes: np.ndarray, temperature: float) -> np.ndarray:
    """Equal weights."""
    return np.ones_like(sizes)


@TASK_SAMPLERS.register("temperature", info=SamplerInfo(
    "p_k ~ n_k^(1/T): T = 1 is proportional, large T tends to uniform", uses_temperature=True))
def temperature_weights(sizes: np.ndarray, temperature: float) -> np.ndarray:
    """Sizes to the power ``1 / temperature``."""
    if not temperature > 0:
        raise DataError(f"sampling temperature must be > 0, got {temperature}")
    return sizes ** (1.0 / temperature)


SAMPLERS: tuple[str, ...] = tuple(TASK_SAMPLERS.names(sort=False))  # the names, for older imports


def task_probabilities(sizes: list[int] | np.ndarray, mode: str = "proportional",
                       temperature: float = 2.0) -> np.ndarray:
    """Sampling probabilities of tasks with ``sizes`` labelled rows (``mode``: a name in :data:`TASK_SAMPLERS`)."""
    n = np.asarray(sizes, dtype=np.float64)
    if n.ndim != 1 or len(n) == 0 or np.any(n <= 0):
        raise DataError(f"every task needs at least one labelled row, got sizes {n.tolist()}")
    p = np.asarray(TASK_SAMPLERS.get(mode)(n, temperature), dtype=np.float64)
    return p / p.sum()


def allocate(batch_size: int, probs: np.ndarray) -> np.ndarray:
    """Rows per task in a step: largest-remainder rounding of ``batch_size * probs``, each >= 1."""
    k = len(probs)
    total = max(int(batch_size), k)
    raw = np.asarray(probs, dtype=np.float64) * total
    counts = np.maximum(np.floor(raw).astype(int), 1)
    while counts.sum() < total:
        counts[int(np.argmax(raw - counts))] += 1
    while counts.sum() > total:
        j = int(np.argmax(np.where(counts > 1, counts - raw, -np.inf)))
        counts[j] -= 1
    return counts


class TaskSampler:
    """Per-step row indices of every task: each task cycles through its labelled rows in a fresh
    random order (seeded) and never repeats a row before all others were used.

    Args:
        labelled: task name -> indices of its labelled training rows.
        batch_size: rows per step over all tasks.
        mode: a name in :data:`TASK_SAMPLERS` (``proportional``, ``uniform``, ``temperature``).
        temperature: ``T`` of temperature sampling.
        seed: random seed of the row orders.
    """

    def __init__(self, labelled: Mapping[str, np.ndarray], batch_size: int, mode: str = "proportional",
                 temperature: float = 2.0, seed: int = 0) -> None:
        if batch_size < 1:
            raise DataError("batch_size must be >= 1")
        self.names = list(labelled)
        self.rows = {k: np.asarray(v, dtype=np.int64) for k, v in labelled.items()}
        sizes = [len(self.rows[k]) for k in self.names]
        for k, s in zip(self.names, sizes, strict=True):
            if s == 0:
                raise DataError(f"task {k!r} has no labelled training rows")
        self.probs = task_probabilities(sizes, mode, temperature)
        self.counts = allocate(batch_size, self.probs)
        self.steps_per_epoch = max(1, math.ceil(sum(sizes) / max(batch_size, len(sizes))))
        self._rng = np.random.default_rng(seed)
        self._order = {k: self._rng.permutation(self.rows[k]) for k in self.names}
        self._pos = dict.fromkeys(self.names, 0)

    def _take(self, name: str, m: int) -> np.ndarray:
        out: list[np.ndarray] = []
        while m > 0:
            order, pos = self._order[name], self._pos[name]
            if pos >= len(order):
                self._order[name] = order = self._rng.permutation(self.rows[name])
                pos = 0
            chunk = order[pos : pos + m]
            out.append(chunk)
            self._pos[name] = pos + len(chunk)
            m -= len(chunk)
        return np.concatenate(out)

    def epoch(self) -> Iterator[dict[str, np.ndarray]]:
        """One epoch of steps; each step maps task name -> row indices."""
        for _ in range(self.steps_per_epoch):
            yield {k: self._take(k, int(c)) for k, c in zip(self.names, self.counts, strict=True)}

    def skip(self, epochs: int) -> None:
        """Draw and drop ``epochs`` epochs of steps (a resumed run then sees an uninterrupted run's batches).

        The row orders come from one generator seeded once, so the steps of epoch ``e`` depend on
        every draw before it; replaying the draws (indices only, no data) restores that state.
        """
        for _ in range(epochs):
            for _ in self.epoch():
                pass
