"""Class-conditional distances: compare source and target class by class."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from transferkit.errors import DataError
from transferkit.similarity._checks import check_pair, label_strings
from transferkit.similarity._info import DISTANCES


@dataclass
class ClassConditional:
    """Per-class distances over the classes both samples have, and their weighted mean.

    ``mean`` weights each shared class by its share of the (shared-class) target samples.
    Classes with fewer than ``min_count`` samples on either side are listed in ``skipped``.
    """

    measure: str
    per_class: dict[str, float]
    mean: float | None
    counts: dict[str, tuple[int, int]]
    only_source: list[str] = field(default_factory=list)
    only_target: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for ``results.json``)."""
        return {"measure": self.measure, "mean": self.mean, "per_class": dict(self.per_class),
                "counts": {k: list(v) for k, v in self.counts.items()}, "only_source": list(self.only_source),
                "only_target": list(self.only_target), "skipped": list(self.skipped)}


def class_conditional(distance: str | Callable[..., float], source: Any, source_labels: Sequence[Hashable] | np.ndarray,
                      target: Any, target_labels: Sequence[Hashable] | np.ndarray, *, min_count: int = 5,
                      **kwargs: Any) -> ClassConditional:
    """Apply ``distance`` (a registered name or a function) to each class present on both sides.

    Labels are matched by their string form, so ``3`` and ``"3"`` name the same class.
    """
    fn = DISTANCES.resolve(distance)
    name = distance if isinstance(distance, str) else getattr(distance, "__name__", "distance")
    xs, xt = check_pair(source, target)
    ys, yt = label_strings(source_labels), label_strings(target_labels)
    if len(ys) != len(xs) or len(yt) != len(xt):
        raise DataError(f"labels and features differ in length (source {len(xs)} rows / {len(ys)} labels, "
                        f"target {len(xt)} rows / {len(yt)} labels)")
    cs, ct = set(ys.tolist()), set(yt.tolist())
    shared = sorted(cs & ct)
    if not shared:
        raise DataError("source and target share no class name; class-conditional distances need shared classes")
    per_class: dict[str, float] = {}
    counts: dict[str, tuple[int, int]] = {}
    skipped = []
    for c in shared:
        a, b = xs[ys == c], xt[yt == c]
        counts[c] = (len(a), len(b))
        if len(a) < min_count or len(b) < min_count:
            skipped.append(c)
            continue
        per_class[c] = float(fn(a, b, **kwargs))
    mean = None
    if per_class:
        w = np.array([counts[c][1] for c in per_class], dtype=np.float64)
        mean = float(np.dot(w / w.sum(), list(per_class.values())))
    return ClassConditional(measure=str(name), per_class=per_class, mean=mean, counts=counts,
                            only_source=sorted(cs - ct), only_target=sorted(ct - cs), skipped=skipped)
