"""``TaskData``: one task's inputs and labels, where some labels may be missing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from transferkit.data.dataset import Dataset
from transferkit.errors import DataError

TASK_KINDS = ("classification", "regression")


@dataclass
class TaskData:
    """Inputs and labels of one task.

    A missing label is ``-1`` for classification and ``NaN`` for regression; such rows stay
    usable as inputs (e.g. for standardisation statistics) but are masked out of the loss and
    the metrics.

    Attributes:
        name: the task name (also the name of its head).
        x: inputs, as a backbone's ``prepare`` reads them (tables ``(N, D)``, signals, images).
        y: labels (int64 class indices or float targets), with missing values as above.
        kind: ``classification`` or ``regression``.
        num_outputs: classes, or regression targets (1).
        class_names: names of the classes (classification).
        input_kind: what the inputs are (``table``, ``signal``, ``image``, ``text``).
    """

    name: str
    x: Any
    y: np.ndarray
    kind: str = "classification"
    num_outputs: int = 0
    class_names: tuple[str, ...] | None = None
    input_kind: str = "table"

    def __post_init__(self) -> None:
        if self.kind not in TASK_KINDS:
            raise DataError(f"task {self.name!r}: kind must be one of {TASK_KINDS}, got {self.kind!r}")
        self.x = self.x if isinstance(self.x, np.ndarray) else np.asarray(self.x)
        y = np.asarray(self.y)
        if y.ndim != 1 or len(y) != len(self.x):
            raise DataError(f"task {self.name!r}: {len(self.x)} inputs but labels of shape {y.shape}; "
                            "give one label per input (missing: -1 for classes, NaN for regression)")
        if self.x.dtype != object:
            if not np.issubdtype(self.x.dtype, np.number):
                raise DataError(f"task {self.name!r}: inputs must be numeric, got {self.x.dtype}")
            if not np.all(np.isfinite(self.x)):
                raise DataError(f"task {self.name!r}: inputs contain NaN or infinity; impute or drop those rows")
        if self.kind == "classification":
            if np.issubdtype(y.dtype, np.floating):
                if np.any(np.isfinite(y) & (y != np.round(y))):
                    raise DataError(f"task {self.name!r}: classification labels must be whole class indices")
                y = np.where(np.isnan(y), -1, y)
            y = y.astype(np.int64)
            if np.any(y < -1):
                raise DataError(f"task {self.name!r}: class indices must be >= 0 (or -1 for a missing label)")
            k = self.num_outputs or (len(self.class_names) if self.class_names else int(y.max(initial=-1)) + 1)
            if y.size and y.max() >= k:
                raise DataError(f"task {self.name!r}: labels go up to {y.max()} but the task has {k} classes")
            self.num_outputs = int(k)
        else:
            y = y.astype(np.float32)
            if np.any(np.isinf(y)):
                raise DataError(f"task {self.name!r}: regression targets contain infinity")
            self.num_outputs = self.num_outputs or 1
        self.y = y

    def __len__(self) -> int:
        return len(self.x)

    @property
    def labelled(self) -> np.ndarray:
        """Boolean mask of the rows that have a label."""
        return self.y >= 0 if self.kind == "classification" else ~np.isnan(self.y)

    @property
    def n_labelled(self) -> int:
        """Number of labelled rows."""
        return int(self.labelled.sum())

    def require_trainable(self) -> None:
        """Raise unless the task has labelled rows (and two classes, for classification)."""
        if self.n_labelled == 0:
            raise DataError(f"task {self.name!r} has no labelled rows: give it labels or drop the task")
        if self.kind == "classification":
            present = np.unique(self.y[self.labelled])
            if len(present) < 2:
                raise DataError(f"task {self.name!r}: its labelled rows hold only class {present.tolist()}; "
                                "a classifier needs at least two classes")

    def take(self, idx: np.ndarray) -> TaskData:
        """Rows ``idx`` as a new TaskData."""
        return TaskData(self.name, self.x[idx], self.y[idx], self.kind, self.num_outputs, self.class_names,
                        self.input_kind)

    def hide_labels(self, keep: np.ndarray) -> TaskData:
        """A copy where only rows with ``keep`` True keep their label (others become missing)."""
        y = self.y.copy()
        keep = np.asarray(keep, dtype=bool)
        if self.kind == "classification":
            y[~keep] = -1
        else:
            y[~keep] = np.nan
        return TaskData(self.name, self.x, y, self.kind, self.num_outputs, self.class_names, self.input_kind)

    @classmethod
    def from_dataset(cls, ds: Dataset, name: str | None = None) -> TaskData:
        """A task from a transferkit :class:`Dataset` (its task kind and classes are kept)."""
        if ds.y is None:
            raise DataError(f"{ds.name}: a task needs labels")
        return cls(name or ds.name, ds.x, ds.y, ds.task, ds.num_classes if ds.task == "classification" else 0,
                   ds.class_names, ds.kind)
