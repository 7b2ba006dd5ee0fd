"""``extract_features``: batched forward passes with a progress bar, cached on disk."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from transferkit.backbones import Backbone, create_backbone, to_device
from transferkit.data.dataset import Dataset, MapSpec, map_spec, release_mapped_pages
from transferkit.errors import DataArgumentError, DataError
from transferkit.features.cache import FeatureCache, all_finite, cache_key
from transferkit.features.shard import extract_sharded, process_group

CACHE_VERSION = 1
_RELEASE_BYTES = 64 * 2**20


def _as_dataset(data: Dataset | np.ndarray | list[str], backbone: Backbone) -> Dataset:
    if isinstance(data, Dataset):
        return data
    if isinstance(data, list) or (isinstance(data, np.ndarray) and data.dtype == object):
        return Dataset(x=np.asarray(data, dtype=object), y=None, kind="text" if backbone.input_kind == "text" else "image")
    return Dataset(x=np.asarray(data), y=None, kind=backbone.input_kind)  # type: ignore[arg-type]


class _PreparedBatches(torch.utils.data.Dataset):  # type: ignore[type-arg]
    """Batch ``i`` of rows ``rows[0]:rows[1]`` of the inputs (in ``order`` within them, when given),
    prepared by the backbone (runs in DataLoader workers)."""

    def __init__(self, x: Any, order: np.ndarray | None, prepare: Any, batch_size: int,
                 rows: tuple[int, int] | None = None) -> None:
        self.x, self.order, self.prepare, self.batch_size = x, order, prepare, batch_size
        self.start, self.stop = rows if rows is not None else (0, len(x))
        self._read = 0  # bytes read from a memory map since its pages were last released

    def __len__(self) -> int:
        return (self.stop - self.start + self.batch_size - 1) // self.batch_size

    def __getstate__(self) -> dict[str, Any]:  # workers started with spawn map the file, not a pickled copy
        state = dict(self.__dict__)
        spec = map_spec(self.x)
        if spec is not None:
            state["x"] = spec
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state["x"], MapSpec):
            state["x"] = state["x"].open()
        self.__dict__.update(state)

    def __getitem__(self, i: int) -> Any:
        if not 0 <= i < len(self):
            raise IndexError(i)
        lo = i * self.batch_size
        hi = min(lo + self.batch_size, self.stop - self.start)
        batch = self.x[self.start + lo:self.start + hi] if self.order is None else \
            self.x[self.order[lo:hi] + self.start]
        if isinstance(batch, np.ndarray) and not batch.flags.writeable:
            batch = np.array(batch)  # rows of a read-only memory map: a copy of one batch that torch may use
        self._read += getattr(batch, "nbytes", 0)
        if self._read >= _RELEASE_BYTES:  # a memory map: keep only the last blocks read resident
            release_mapped_pages(self.x)
            self._read = 0
        return self.prepare(batch)


def extract_features(backbone: Backbone | str, data: Dataset | np.ndarray | list[str], *, batch_size: int = 64,
                     cache: bool | FeatureCache | str | os.PathLike[str] = True, progress: bool = True,
                     device: str | torch.device | None = None, dtype: torch.dtype = torch.float32,
                     num_workers: int = 0, autocast: bool | None = None, split: bool = False) -> np.ndarray:
    """Features ``(N, backbone.num_features)`` of ``data``, computed once and cached.

    The cache key is the backbone fingerprint (architecture + weights), its preprocessing, and the
    data fingerprint (inputs only). A second identical call runs no forward pass. ``cache`` may be
    ``False`` (then nothing is hashed), ``True`` (default folder), a folder path, or a
    :class:`FeatureCache`.

    Forward passes run under ``torch.inference_mode``. ``num_workers`` > 0 prepares batches
    (decoding, resizing, tokenising) in that many DataLoader worker processes while the model
    runs. On CUDA, image models run channels-last, batches are copied from pinned memory without
    blocking, and ``autocast`` (default: on for CUDA) runs the forward pass in bfloat16; features
    are returned as float32 either way, and autocast is part of the cache key.

    ``split=True`` under ``accelerate launch`` or ``torchrun`` with several processes: each process
    extracts one block of rows (on its own GPU when ``device`` is None) and every process gets the
    whole array, the same as one process computes, stored as ONE cache entry by the main process
    (see :mod:`transferkit.features.shard`). Every process must then call this with the same data;
    the weights are hashed even with ``cache=False``. In one process ``split`` changes nothing.
    """
    if isinstance(backbone, str):
        backbone = create_backbone(backbone)
    ds = _as_dataset(data, backbone)
    if ds.kind != backbone.input_kind:
        raise DataError(f"{backbone.spec} reads {backbone.input_kind} inputs, but {ds.name!r} is {ds.kind} data")
    if batch_size < 1:
        raise DataArgumentError(f"batch_size (--batch-size) must be >= 1, got {batch_size}")
    if num_workers < 0:
        raise DataArgumentError(f"num_workers must be >= 0, got {num_workers}")
    if len(ds) == 0:
        raise DataError(f"{ds.name!r} holds no inputs: there is nothing to extract features from")
    group = process_group() if split else None
    dev = torch.device(device) if device is not None else (group.device if group is not None else torch.device(
        "cuda") if torch.cuda.is_available() else torch.device("cpu"))
    amp = (dev.type == "cuda") if autocast is None else bool(autocast)
    store: FeatureCache | None
    if cache is False:
        store = None
    elif isinstance(cache, FeatureCache):
        store = cache
    elif cache is True:
        store = FeatureCache()
    else:
        store = FeatureCache(cache)

    def make_key(fingerprint: str) -> str:
        parts = {"v": CACHE_VERSION, "backbone": fingerprint, "prep": backbone.preprocess_config(),
                 "data": ds.fingerprint(), "n": len(ds), "dtype": str(dtype)}
        if amp:
            parts["autocast"] = "bfloat16"
        return cache_key(parts)

    def forward(start: int, stop: int, show: bool) -> np.ndarray:
        feats = _forward_all(backbone, ds, batch_size, progress and show, dev, num_workers, amp, (start, stop))
        if not all_finite(feats):
            raise DataError(f"{backbone.spec} produced NaN/inf features on {ds.name!r}: check the inputs' scale")
        return feats

    if group is not None:
        return extract_sharded(group, backbone, len(ds), store, make_key, forward)
    key = ""
    if store is not None:  # hashing weights and inputs only pays off when the cache is used
        key = make_key(backbone.fingerprint())
        hit = store.load(key, len(ds))
        if hit is not None:
            return hit
    feats = forward(0, len(ds), True)
    if store is not None:
        store.store(key, feats)
    return feats


def _forward_all(backbone: Backbone, ds: Dataset, batch_size: int, progress: bool, dev: torch.device,
                 num_workers: int = 0, amp: bool = False, rows: tuple[int, int] | None = None) -> np.ndarray:
    """Features of rows ``rows[0]:rows[1]`` of ``ds`` (all rows when None), in that order."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

    from transferkit._progress import progress_bar

    was_training = backbone.training
    orig_device = backbone.device
    backbone.eval().to(dev)
    channels_last = dev.type == "cuda" and backbone.input_kind == "image"
    if channels_last:
        backbone.to(memory_format=torch.channels_last)
    start, stop = rows if rows is not None else (0, len(ds))
    n = stop - start
    feats = np.empty((n, backbone.num_features), dtype=np.float32)
    # text: batch by length so padding is short; features are put back in the original order
    # order: positions within rows start..stop (None: in order, so a memory map is read sequentially)
    order = np.argsort([len(t) for t in ds.x[start:stop]], kind="stable") if ds.kind == "text" else None
    batches: Any = _PreparedBatches(ds.x, order, backbone.prepare, batch_size, (start, stop))
    if num_workers > 0:
        batches = torch.utils.data.DataLoader(batches, batch_size=None, num_workers=num_workers,
                                              pin_memory=dev.type == "cuda", persistent_workers=False)
    # the description holds user strings (spec, data name): never parsed as markup
    cols: Any = (TextColumn("features", style="bold"), TextColumn("{task.description}", markup=False), BarColumn(),
                 MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with progress_bar(*cols, label="features", unit="rows", show=progress) as bar, torch.inference_mode(), \
                torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
            task = bar.add_task(f"{backbone.spec} on {ds.name}", total=n)
            for i, prepared in enumerate(batches):
                inputs = _to_device(prepared, dev, channels_last)
                rows = slice(i * batch_size, (i + 1) * batch_size) if order is None else \
                    order[i * batch_size:(i + 1) * batch_size]
                out = backbone.forward_features(inputs).float().cpu().numpy()
                feats[rows] = out  # written in place: no list of batches
                bar.advance(task, len(out))
    finally:
        if channels_last:
            backbone.to(memory_format=torch.contiguous_format)
        backbone.train(was_training).to(orig_device)
    return feats


def _to_device(inputs: Any, dev: torch.device, channels_last: bool) -> Any:
    """Prepared inputs on ``dev``: pinned, non-blocking copies on CUDA; 4-D image batches channels-last there."""
    if dev.type != "cuda":
        return inputs
    if isinstance(inputs, torch.Tensor):
        t = inputs if inputs.is_pinned() else inputs.pin_memory()
        t = t.to(dev, non_blocking=True)
        return t.contiguous(memory_format=torch.channels_last) if channels_last and t.ndim == 4 else t
    return to_device(inputs, dev)
