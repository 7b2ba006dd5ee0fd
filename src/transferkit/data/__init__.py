"""Data layer: the :class:`Dataset` record, readers, named public sets, splits and tasks."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from transferkit.data.dataset import Dataset, encode_labels
from transferkit.data.paths import data_root, data_spec, split_data_spec
from transferkit.data.public import DATASETS, is_named, load_named, looks_named, parse_spec
from transferkit.data.readers import (
    from_hf_dataset,
    read_image_folder,
    read_npy,
    read_npz,
    read_path,
    read_table,
    read_text,
)
from transferkit.data.sources import download_dataset, verify_dataset
from transferkit.data.splits import Splits, cv_folds, label_budget, parse_budget, train_val_test_split
from transferkit.data.task import TransferTask, class_subset
from transferkit.errors import DataArgumentError


def load_dataset(spec: str | Dataset, root: str | Path | None = None, **kwargs: Any) -> Dataset:
    """Load a data set from a named spec (``usps@test``, ``heart-disease:va``) or a path.

    A :class:`Dataset` passes through unchanged. ``root`` is the data root for named sets
    (default ``$TRANSFERKIT_DATA``, else the user data folder that ``transferkit datasets download`` fills);
    ``kwargs`` go to the reader. A file spec may name its columns: ``data.csv?label=diagnosis&text=body``
    (the same as ``label_column=``, ``text_column=``; see :func:`~transferkit.data.paths.split_data_spec`).
    A spec that reads as a name (no folder, no suffix) but is neither registered nor an existing path
    raises :class:`~transferkit.errors.UnknownName` with the closest names.
    """
    if isinstance(spec, Dataset):
        return spec
    spec, params = split_data_spec(str(spec))
    for key, value in params.items():
        if kwargs.get(key) not in (None, value):
            raise DataArgumentError(f"the spec names {key}={value!r} but {key}={kwargs[key]!r} was passed: give it once")
        kwargs[key] = value
    if is_named(spec):
        if params:
            raise DataArgumentError(f"{spec} is a named data set with fixed columns; ?label= and ?text= "
                                    "(--label-column, --text-column) are for your own files")
        ds = load_named(spec, root, **kwargs)
    else:
        if looks_named(spec) and not Path(spec).exists():  # a typo in a name, not a missing file
            DATASETS.canonical(parse_spec(spec)[0], context="nor a file or folder; see `transferkit datasets`")
        ds = read_path(spec, **kwargs)
    logging.getLogger(__name__).info("read %s: %r", spec, ds)  # shown by `transferkit ... -v`
    return ds


__all__ = [
    "DATASETS",
    "Dataset",
    "Splits",
    "TransferTask",
    "class_subset",
    "cv_folds",
    "data_root",
    "data_spec",
    "download_dataset",
    "encode_labels",
    "from_hf_dataset",
    "label_budget",
    "load_dataset",
    "parse_budget",
    "parse_spec",
    "read_image_folder",
    "read_npy",
    "read_npz",
    "read_path",
    "read_table",
    "read_text",
    "split_data_spec",
    "train_val_test_split",
    "verify_dataset",
]
