"""Within-subject few-shot splits: a subject's own windows -> k-shot train, small validation, test."""

from __future__ import annotations

import numpy as np

from transferkit.data.dataset import Dataset
from transferkit.data.splits import Splits, stratified_indices
from transferkit.errors import DataError


def subject_few_shot_split(ds: Dataset, k: int, seed: int, test_fraction: float = 0.3,
                           val_per_class: int = 5) -> Splits:
    """Split one subject's windows for ``k``-shot calibration.

    A stratified ``test_fraction`` of the windows is the test part (it depends on ``seed`` only,
    not on ``k``, so every budget of a seed is scored on the same windows). From the rest, ``k``
    windows per class train and ``val_per_class`` other windows per class validate (best epoch,
    early stopping). Validation windows are the same for every ``k`` of a seed and the ``k``-shot
    sets are nested (the next ``k`` of one seeded order per class), so a larger ``k`` only adds
    windows.
    """
    if ds.y is None:
        raise DataError(f"{ds.name}: few-shot splits need labels")
    if k < 1:
        raise DataError(f"k (labelled windows per class) must be >= 1, got {k}")
    if not 0 < test_fraction < 1:
        raise DataError(f"test_fraction must be in (0, 1), got {test_fraction}")
    pool_idx, test_idx = stratified_indices(ds.y, len(ds), (1 - test_fraction, test_fraction), seed)
    if val_per_class < 1:
        raise DataError(f"val_per_class must be >= 1, got {val_per_class}")
    vpc = val_per_class
    rng = np.random.default_rng(seed + 104729)
    train_idx: list[int] = []
    val_idx: list[int] = []
    for c in np.unique(ds.y):
        cls = rng.permutation(pool_idx[ds.y[pool_idx] == c])
        if len(cls) < k + vpc:
            raise DataError(f"{ds.name}: class {c} has {len(cls)} windows outside the test part, fewer than "
                            f"k + validation = {k + vpc}; lower k or test_fraction")
        val_idx.extend(cls[:vpc].tolist())
        train_idx.extend(cls[vpc:vpc + k].tolist())
    return Splits(train=ds.subset(np.sort(train_idx), f"{ds.name}[{k}/class]"),
                  val=ds.subset(np.sort(val_idx), f"{ds.name}/val"),
                  test=ds.subset(test_idx, f"{ds.name}/test"))
