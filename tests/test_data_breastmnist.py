"""``breastmnist@train|val|test``: the official MedMNIST v2 split of the real file, read without pickles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from transferkit.data import load_dataset
from transferkit.errors import DataArgumentError, DataError

COUNTS = {"train": (147, 399), "val": (21, 57), "test": (42, 114)}  # (malignant, normal or benign), SOURCE.md


@pytest.mark.parametrize("split", sorted(COUNTS))
def test_official_split_counts_and_format(data_root: Path, split: str) -> None:
    ds = load_dataset(f"breastmnist@{split}")
    assert ds.name == f"breastmnist@{split}" and ds.kind == "image" and ds.x.dtype == np.float32
    assert ds.x.shape == (sum(COUNTS[split]), 1, 28, 28) and 0.0 <= ds.x.min() and ds.x.max() <= 1.0
    assert tuple(np.bincount(ds.y)) == COUNTS[split]
    assert ds.class_names == ("malignant", "normal or benign")


def test_all_is_the_three_splits_in_order(data_root: Path) -> None:
    parts = [load_dataset(f"breastmnist@{s}") for s in ("train", "val", "test")]
    whole = load_dataset("breastmnist")
    assert len(whole) == 780
    np.testing.assert_array_equal(whole.x, np.concatenate([p.x for p in parts]))


def test_bad_split_and_damaged_file(tmp_path: Path) -> None:
    with pytest.raises(DataArgumentError, match="split must be one of"):
        load_dataset("breastmnist@dev")
    (tmp_path / "breastmnist").mkdir()
    np.savez(tmp_path / "breastmnist" / "breastmnist.npz", train_images=np.zeros((3, 28, 28), np.uint8),
             train_labels=np.array([0, 1, 2], np.uint8))
    with pytest.raises(DataError, match="labels must be 0"):
        load_dataset("breastmnist@train", root=tmp_path)
    with pytest.raises(DataError, match="cannot read"):
        load_dataset("breastmnist@val", root=tmp_path)
