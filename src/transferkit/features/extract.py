"""``extract_features``: batched forward passes with a progress bar, cached on disk."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from transferkit.backbones import Backbone, create_backbone, to_device
from transferkit.data.dataset import Dataset
from transferkit.errors import DataArgumentError, DataError
from transferkit.features.cache import FeatureCache, cache_key

CACHE_VERSION = 1


def _as_dataset(data: Dataset | np.ndarray | list[str], backbone: Backbone) -> Dataset:
    if isinstance(data, Dataset):
        return data
    if isinstance(data, list) or (isinstance(data, np.ndarray) and data.dtype == object):
        return Dataset(x=np.asarray(data, dtype=object), y=None, kind="text" if backbone.input_kind == "text" else "image")
    return Dataset(x=np.asarray(data), y=None, kind=backbone.input_kind)  # type: ignore[arg-type]


@torch.no_grad()
def extract_features(backbone: Backbone | str, data: Dataset | np.ndarray | list[str], *, batch_size: int = 64,
                     cache: bool | FeatureCache | str | os.PathLike[str] = True, progress: bool = True,
                     device: str | torch.device | None = None, dtype: torch.dtype = torch.float32) -> np.ndarray:
    """Features ``(N, backbone.num_features)`` of ``data``, computed once and cached.

    The cache key is the backbone fingerprint (architecture + weights), its preprocessing, and the
    data fingerprint (inputs only). A second identical call runs no forward pass. ``cache`` may be
    ``False``, ``True`` (default folder), a folder path, or a :class:`FeatureCache`.
    """
    if isinstance(backbone, str):
        backbone = create_backbone(backbone)
    ds = _as_dataset(data, backbone)
    if ds.kind != backbone.input_kind:
        raise DataError(f"{backbone.spec} reads {backbone.input_kind} inputs, but {ds.name!r} is {ds.kind} data")
    if batch_size < 1:
        raise DataArgumentError(f"batch_size (--batch-size) must be >= 1, got {batch_size}")
    if len(ds) == 0:
        raise DataError(f"{ds.name!r} holds no inputs: there is nothing to extract features from")
    store: FeatureCache | None
    if cache is False:
        store = None
    elif isinstance(cache, FeatureCache):
        store = cache
    elif cache is True:
        store = FeatureCache()
    else:
        store = FeatureCache(cache)
    key = cache_key({"v": CACHE_VERSION, "backbone": backbone.fingerprint(), "prep": backbone.preprocess_config(),
                     "data": ds.fingerprint(), "n": len(ds), "dtype": str(dtype)})
    if store is not None:
        hit = store.load(key, len(ds))
        if hit is not None:
            return hit
    feats = _forward_all(backbone, ds, batch_size, progress, device)
    if not np.all(np.isfinite(feats)):
        raise DataError(f"{backbone.spec} produced NaN/inf features on {ds.name!r}: check the inputs' scale")
    if store is not None:
        store.store(key, feats)
    return feats


def _forward_all(backbone: Backbone, ds: Dataset, batch_size: int, progress: bool,
                 device: str | torch.device | None) -> np.ndarray:
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

    from transferkit._progress import progress_bar

    dev = torch.device(device) if device is not None else (torch.device("cuda") if torch.cuda.is_available()
                                                         else torch.device("cpu"))
    was_training = backbone.training
    orig_device = backbone.device
    backbone.eval().to(dev)
    out: list[np.ndarray] = []
    n = len(ds)
    # text: batch by length so padding is short; features are put back in the original order
    order = np.argsort([len(t) for t in ds.x], kind="stable") if ds.kind == "text" else np.arange(n)
    # the description holds user strings (spec, data name): never parsed as markup
    cols: Any = (TextColumn("features", style="bold"), TextColumn("{task.description}", markup=False), BarColumn(),
                 MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with progress_bar(*cols, label="features", unit="rows", show=progress) as bar:
            task = bar.add_task(f"{backbone.spec} on {ds.name}", total=n)
            for start in range(0, n, batch_size):
                inputs = to_device(backbone.prepare(ds.x[order[start:start + batch_size]]), dev)
                out.append(backbone.forward_features(inputs).float().cpu().numpy())
                bar.advance(task, min(batch_size, n - start))
    finally:
        backbone.train(was_training).to(orig_device)
    feats = np.empty((n, backbone.num_features), dtype=np.float32)
    feats[order] = np.concatenate(out)
    return feats
