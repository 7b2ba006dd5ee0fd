"""A :class:`TransferTask`: a source domain/task, a target domain/task, and honest splits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from transferkit.data.dataset import Dataset
from transferkit.data.splits import Splits, budget_splits, label_budget, train_val_test_split
from transferkit.errors import DataError


@dataclass
class TransferTask:
    """Source (D_S, T_S) and target (D_T, T_T) with seeded, stratified splits.

    The target is split into train / validation / test; models and hyper-parameters are chosen on
    validation only. If ``target_test`` is given (an official test split), it is the test part and
    the target is split into train / validation only. The source, when given, is split into train /
    validation for pre-training.

    Example:
        >>> from transferkit.data import load_dataset
        >>> task = TransferTask(source=load_dataset("mnist@train"), target=load_dataset("usps@train"),
        ...                     target_test=load_dataset("usps@test"))  # doctest: +SKIP
    """

    target: Dataset
    source: Dataset | None = None
    target_test: Dataset | None = None
    seed: int = 0
    val_size: float = 0.15
    test_size: float = 0.2
    source_val_size: float = 0.1
    target_splits: Splits = field(init=False)
    source_splits: Splits | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.target.require_labels(2)
        if self.target_test is not None:
            if self.target_test.class_names != self.target.class_names:
                raise DataError("target_test has different class names from the target: "
                                f"{self.target_test.class_names} vs {self.target.class_names}")
            sp = train_val_test_split(self.target, val_size=self.val_size, test_size=0.0, seed=self.seed)
            self.target_splits = Splits(sp.train, sp.val, self.target_test)
        else:
            self.target_splits = train_val_test_split(self.target, val_size=self.val_size,
                                                      test_size=self.test_size, seed=self.seed)
        if self.source is not None:
            if self.source.kind != self.target.kind:
                raise DataError(f"source is {self.source.kind} data but target is {self.target.kind}: "
                                "transfer needs inputs a backbone can read on both sides")
            sp = train_val_test_split(self.source, val_size=self.source_val_size, test_size=0.0, seed=self.seed)
            self.source_splits = sp

    def __repr__(self) -> str:
        """One line per side and the split sizes (never the arrays)."""
        sizes = "/".join(str(v) for v in self.target_splits.sizes().values())
        parts = [f"target={self.target!r}", f"splits train/val/test={sizes}"]
        if self.source is not None:
            parts.insert(0, f"source={self.source!r}")
        if self.target_test is not None:
            parts.append("official test split")
        return f"TransferTask({', '.join(parts)}, seed={self.seed})"

    @property
    def shared_labels(self) -> bool:
        """Whether source and target have the same label set (the source head can be kept)."""
        return self.source is not None and self.source.class_names == self.target.class_names

    def target_train(self, budget: int | float | str = "all", seed: int | None = None) -> Dataset:
        """The labelled target training data under a label budget (per class, fraction, or all)."""
        return label_budget(self.target_splits.train, budget, self.seed if seed is None else seed)

    def seed_splits(self, budget: int | float | str, seed: int, holdout: bool = True) -> Splits:
        """What one seed of a comparison uses: the seed picks the test split (unless ``target_test`` is
        given) and the labelled examples; the ``budget`` counts training and validation labels together.
        Without ``holdout`` the whole budget is the training part (cross-validation chooses inside it)."""
        return budget_splits(self.target, budget, seed, val_size=self.val_size if holdout else 0.0,
                             test_size=self.test_size, official_test=self.target_test)

    def describe(self) -> dict[str, Any]:
        """JSON-serialisable summary of the task and its splits."""
        out: dict[str, Any] = {"target": self.target.describe(), "target_splits": self.target_splits.sizes(),
                               "seed": self.seed}
        if self.source is not None and self.source_splits is not None:
            out["source"] = self.source.describe()
            out["source_splits"] = self.source_splits.sizes()
            out["shared_labels"] = self.shared_labels
        return out


def class_subset(ds: Dataset, classes: list[str], name: str | None = None) -> Dataset:
    """Keep only ``classes`` and re-index them to ``0..len(classes)-1`` (e.g. digits 0-4 vs 5-9)."""
    if ds.class_names is None or ds.y is None:
        raise DataError("class_subset needs a labelled classification data set")
    missing = [c for c in classes if c not in ds.class_names]
    if missing:
        raise DataError(f"classes {missing} not in {ds.class_names}")
    old = [ds.class_names.index(c) for c in classes]
    idx = np.flatnonzero(np.isin(ds.y, old))
    sub = ds.subset(idx, name or f"{ds.name}[{','.join(classes)}]")
    remap = {o: i for i, o in enumerate(old)}
    sub.y = np.array([remap[int(v)] for v in sub.y], dtype=np.int64)
    sub.class_names = tuple(classes)
    return sub
