"""Seeded, stratified splits and label budgets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transferkit.data.dataset import Dataset
from transferkit.errors import DataArgumentError, DataError


@dataclass
class Splits:
    """Train / validation / test parts of one data set."""

    train: Dataset
    val: Dataset
    test: Dataset

    def sizes(self) -> dict[str, int]:
        """Number of examples per part."""
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def stratified_indices(y: np.ndarray | None, n: int, fractions: tuple[float, ...], seed: int,
                       stratify: bool = True) -> list[np.ndarray]:
    """Split ``range(n)`` into parts of the given ``fractions`` (summing to 1), per class when
    ``stratify``, so every part keeps the class proportions (each class gets >= 1 example in a part
    when it has enough examples)."""
    if abs(sum(fractions) - 1.0) > 1e-9 or any(f < 0 for f in fractions):
        raise DataArgumentError(f"split fractions must be >= 0 and sum to 1, got {fractions}")
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[] for _ in fractions]
    groups = [np.arange(n)] if (y is None or not stratify) else [np.flatnonzero(y == c) for c in np.unique(y)]
    for idx in groups:
        idx = rng.permutation(idx)
        counts = np.floor(np.array(fractions) * len(idx)).astype(int)
        # hand out the remainder, giving every non-empty part at least one example if possible
        rem = len(idx) - counts.sum()
        order = np.argsort(-(np.array(fractions) * len(idx) - counts))
        for j in order:
            if rem <= 0:
                break
            counts[j] += 1
            rem -= 1
        for j, f in enumerate(fractions):
            if f > 0 and counts[j] == 0:
                donor = int(np.argmax(counts))
                if counts[donor] > 1:
                    counts[donor] -= 1
                    counts[j] += 1
        start = 0
        for j, c in enumerate(counts):
            parts[j].extend(idx[start:start + c].tolist())
            start += c
    return [np.sort(np.array(p, dtype=np.int64)) for p in parts]


def train_val_test_split(ds: Dataset, *, val_size: float = 0.15, test_size: float = 0.2, seed: int = 0,
                         stratify: bool = True) -> Splits:
    """Seeded stratified train/validation/test split of ``ds``."""
    if not (0 <= val_size < 1 and 0 <= test_size < 1 and val_size + test_size < 1):
        raise DataArgumentError(f"val_size and test_size must be in [0, 1) with sum < 1 (got {val_size}, {test_size})")
    strat = stratify and ds.task == "classification" and ds.y is not None
    tr, va, te = stratified_indices(ds.y if strat else None, len(ds), (1 - val_size - test_size, val_size, test_size),
                                    seed, strat)
    return Splits(ds.subset(tr, f"{ds.name}/train"), ds.subset(va, f"{ds.name}/val"), ds.subset(te, f"{ds.name}/test"))


def total_counts(y: np.ndarray, n: int) -> dict[int, int]:
    """Examples per class for ``n`` stratified examples: proportional, largest remainders, >= 1 per class."""
    classes, counts = np.unique(y, return_counts=True)
    if n < len(classes):
        raise DataError(f"{n} labelled examples cannot cover {len(classes)} classes: ask for at least {len(classes)}")
    if n > len(y):
        raise DataError(f"asked for {n} labelled examples, the data has {len(y)}")
    exact = counts / counts.sum() * n
    take = np.maximum(np.floor(exact).astype(int), 1)
    while take.sum() > n:  # the minimum of one per class can overshoot
        j = int(np.argmax(np.where(take > 1, take - exact, -np.inf)))
        take[j] -= 1
    for j in np.argsort(-(exact - take)):
        if take.sum() >= n:
            break
        take[j] += 1
    return {int(c): int(min(t, k)) for c, t, k in zip(classes, take, counts)}


def label_budget(ds: Dataset, budget: int | float | str, seed: int = 0) -> Dataset:
    """A labelled subset: ``k`` examples per class (int), a fraction (float in (0, 1]), ``"Ntotal"``
    (``N`` examples in all, stratified: the class proportions kept), or ``"all"``.

    Classes with fewer than ``k`` examples keep all they have.
    """
    if budget == "all" or budget is None:
        return ds
    if ds.y is None:
        raise DataError("a label budget needs labels")
    rng = np.random.default_rng(seed)
    if isinstance(budget, str) and budget.endswith("total"):
        count = budget[: -len("total")]
        if not count.isdigit():
            raise DataArgumentError(f"cannot read the label budget {budget!r}: write a count, e.g. 64total")
        n = int(count)
        keep = []
        for c, k in total_counts(ds.y, n).items():
            keep.extend(rng.choice(np.flatnonzero(ds.y == c), size=k, replace=False).tolist())
        return ds.subset(np.sort(np.array(keep)), f"{ds.name}[{n} stratified]")
    if isinstance(budget, float):
        if not 0 < budget <= 1:
            raise DataArgumentError(f"a fractional budget must be in (0, 1], got {budget}")
        (idx,) = stratified_indices(ds.y, len(ds), (budget, 1 - budget), seed)[:1]
        return ds.subset(idx, f"{ds.name}[{budget:g}]")
    k = int(budget)
    return ds.subset(per_class_indices(ds.y, k, seed), f"{ds.name}[{k}/class]")


def per_class_indices(y: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Sorted row indices of ``k`` random examples per class (all of a class with fewer); the rows
    ``label_budget(ds, k, seed)`` keeps."""
    if k < 1:
        raise DataArgumentError(f"a per-class budget must be >= 1, got {k}")
    rng = np.random.default_rng(seed)
    keep = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        keep.extend(rng.choice(idx, size=min(k, len(idx)), replace=False).tolist())
    return np.sort(np.array(keep, dtype=np.int64))


def parse_budget(text: str) -> int | float | str:
    """``"10"`` -> 10 per class, ``"0.1"`` -> 10 %, ``"64total"`` -> 64 in all (stratified), ``"all"`` -> everything."""
    t = text.strip().lower()
    if t == "all":
        return "all"
    if t.endswith("total") and t[: -len("total")].isdigit() and int(t[: -len("total")]) > 0:
        return t
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError as exc:
        raise DataArgumentError(f"cannot parse label budget {text!r}: use a count per class (10), a fraction (0.1), a "
                        "stratified total (64total), or all") from exc


def budget_splits(ds: Dataset, budget: int | float | str, seed: int, *, val_size: float = 0.15,
                  test_size: float = 0.2, official_test: Dataset | None = None) -> Splits:
    """One seed's honest splits: the seed picks the test split (unless ``official_test`` is given), then
    ``budget`` labelled examples from the rest, then which of those validate.

    The budget counts every labelled example used (training and validation): ``10`` per class means
    10 labels per class in all, of which about ``val_size / (1 - test_size)`` validate (at least one
    per class where a class has two or more). ``"all"`` uses every non-test example.
    """
    strat = ds.task == "classification" and ds.y is not None
    if official_test is None:
        if not 0 < test_size < 1:
            raise DataArgumentError(f"test_size must be in (0, 1) without an official test split, got {test_size}")
        rest, te = stratified_indices(ds.y if strat else None, len(ds), (1 - test_size, test_size), seed, strat)
        pool, test = ds.subset(rest, f"{ds.name}/labelled"), ds.subset(te, f"{ds.name}/test")
    else:
        pool, test = ds, official_test
    labelled = label_budget(pool, budget, seed)
    share = val_size / (1 - (test_size if official_test is None else 0.0))
    strat_l = strat and labelled.y is not None
    tr, va = stratified_indices(labelled.y if strat_l else None, len(labelled), (1 - share, share), seed + 1, strat_l)
    return Splits(labelled.subset(tr, f"{labelled.name}/train"), labelled.subset(va, f"{labelled.name}/val"), test)


def cv_folds(ds: Dataset, k: int, seed: int) -> list[tuple[Dataset, Dataset]]:
    """``k`` seeded folds of ``ds`` for cross-validation: ``(the other folds, this fold)`` pairs.

    Classification folds are stratified (each class is dealt round the folds in a seeded order), so
    every class needs at least ``k`` examples; regression folds are a seeded shuffle dealt round.
    """
    if k < 2:
        raise DataArgumentError(f"cross-validation needs at least 2 folds, got {k}")
    rng = np.random.default_rng(seed)
    if ds.task == "classification" and ds.y is not None:
        classes, counts = np.unique(ds.y, return_counts=True)
        if counts.min() < k:
            few = ", ".join(f"{ds.class_names[c] if ds.class_names else c} ({n})"
                            for c, n in zip(classes, counts) if n < k)
            raise DataArgumentError(f"{k}-fold cross-validation needs at least {k} labelled examples of every class; "
                                    f"{few} have fewer: give a larger budget, fewer folds, or holdout validation")
        order = np.concatenate([rng.permutation(np.flatnonzero(ds.y == c)) for c in classes])
    else:
        if len(ds) < k:
            raise DataArgumentError(f"{k}-fold cross-validation needs at least {k} examples, got {len(ds)}")
        order = rng.permutation(len(ds))
    fold = np.empty(len(ds), dtype=np.int64)
    fold[order] = np.arange(len(ds)) % k
    return [(ds.subset(np.flatnonzero(fold != j), f"{ds.name}/cv{j + 1}-train"),
             ds.subset(np.flatnonzero(fold == j), f"{ds.name}/cv{j + 1}-val")) for j in range(k)]
