"""Feature extraction split over the processes of ``accelerate launch`` or ``torchrun``.

Each process extracts a contiguous block of rows (Accelerate's ``split_between_processes``), and the
blocks are put back together in data-set order, so the result equals a one-process run (to float
round-off: a text block is batched by length within the block). With the feature cache, every
process writes its block as a part file next to the entry, the main process joins the parts into
ONE entry (written atomically: a temporary file renamed into place) and removes them, and the
other processes then read that entry; without the cache the blocks are exchanged in memory
(``gather_object``). Every process returns the same array.

The processes must share the cache folder (one machine, or a shared file system) and load the same
data. A backbone whose weights differ between processes (random initialisation without a seed) is
given the main process's weights first, as DDP does for training.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from transferkit.backbones import Backbone
from transferkit.errors import DataError
from transferkit.features.cache import FeatureCache

log = logging.getLogger("transferkit.features")


def process_group() -> Any | None:
    """The Accelerate ``PartialState`` when this process is one of several (``WORLD_SIZE`` > 1), else None.

    One process never imports Accelerate here. On a machine without CUDA the processes join a gloo
    group on the CPU.
    """
    import torch.distributed as dist

    joined = dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
    if not joined and int(os.environ.get("WORLD_SIZE", "1") or 1) <= 1:
        return None
    from accelerate import PartialState

    state = PartialState(cpu=not torch.cuda.is_available())
    return state if state.num_processes > 1 else None


def is_main_process() -> bool:
    """True in a one-process run and in the main process of several (the one that prints and writes files)."""
    state = process_group()
    return state is None or bool(state.is_main_process)


def shard_bounds(n: int, state: Any) -> tuple[int, int]:
    """Rows ``[start, stop)`` of ``n`` that this process extracts (contiguous; the first blocks get one more)."""
    with state.split_between_processes(torch.arange(n)) as mine:
        if len(mine) == 0:  # fewer rows than processes
            return n, n
        return int(mine[0]), int(mine[-1]) + 1


def same_inputs(backbone: Backbone, n: int, state: Any) -> str:
    """Check that every process holds ``n`` rows (else every process raises :class:`DataError`), give every
    process the main process's weights when they differ, and return their fingerprint."""
    from accelerate.utils import broadcast_object_list, gather_object

    seen = gather_object([(backbone.fingerprint(), n)])
    sizes = [m for _, m in seen]
    if any(m != n for m in sizes):
        raise DataError(f"the processes hold {sizes} inputs (process 0 first): every process must load the same "
                        "data set")
    prints = [p for p, _ in seen]
    if all(p == prints[0] for p in prints):
        return str(prints[0])
    payload: list[Any] = [{k: v.detach().cpu() for k, v in backbone.state_dict().items()}
                          if state.is_main_process else None]
    broadcast_object_list(payload)
    ok = True
    if not state.is_main_process:
        try:
            backbone.load_state_dict(payload[0])
            ok = backbone.fingerprint() == prints[0]
        except RuntimeError:  # another architecture
            ok = False
    agree = gather_object([ok])
    if not all(agree):
        raise DataError(f"process(es) {[i for i, a in enumerate(agree) if not a]} build {backbone.spec} with another "
                        "architecture or preprocessing than the main process: give every process the same backbone")
    return str(prints[0])


def extract_sharded(state: Any, backbone: Backbone, n: int, store: FeatureCache | None,
                    make_key: Callable[[str], str], forward: Callable[[int, int, bool], np.ndarray]) -> np.ndarray:
    """Features of ``n`` rows extracted by all processes, one block each, as one array on every process.

    ``make_key(fingerprint)`` is the cache key (called on the main process only); ``forward(start,
    stop, progress)`` extracts rows ``start:stop``. A cached entry is read, not recomputed.
    """
    from accelerate.utils import broadcast_object_list, gather_object

    main = bool(state.is_main_process)
    fingerprint = same_inputs(backbone, n, state)
    key, hit = "", None
    if store is not None and main:
        key = make_key(fingerprint)
        hit = store.load(key, n)
    shared: list[Any] = [key, hit is not None]
    broadcast_object_list(shared)
    key, found = shared
    if found:
        return hit if hit is not None else _read_entry(store, key, n)
    start, stop = shard_bounds(n, state)
    block = forward(start, stop, main)
    log.info("process %d of %d extracted rows %d:%d of %d", state.process_index, state.num_processes, start, stop, n)
    if store is None:
        return np.concatenate(gather_object([block]), axis=0)
    return _join_in_cache(state, store, key, block, n)


def _part_key(key: str, rank: int, world: int) -> str:
    return f"{key}-part{rank}of{world}"


def _join_in_cache(state: Any, store: FeatureCache, key: str, block: np.ndarray, n: int) -> np.ndarray:
    """Each process writes its block as a part file; the main process joins them into the entry ``key``."""
    from accelerate.utils import broadcast_object_list

    rank, world = int(state.process_index), int(state.num_processes)
    store.store(_part_key(key, rank, world), block)
    state.wait_for_everyone()
    status: list[Any] = [""]
    if state.is_main_process:
        try:
            feats = np.empty((n, block.shape[1]), dtype=block.dtype)
            at = 0
            for r in range(world):
                part = store.load(_part_key(key, r, world))
                if part is None:
                    raise DataError(f"the block of process {r} is not in {store.directory}: with several machines, "
                                    "set TRANSFERKIT_CACHE to a folder they all share (or use --no-cache)")
                feats[at:at + len(part)] = part
                at += len(part)
            if at != n:
                raise DataError(f"the processes extracted {at} rows of {n}: run again")
            store.store(key, feats)
        except DataError as exc:
            status[0] = str(exc)
        finally:
            for r in range(world):
                store.path(_part_key(key, r, world)).unlink(missing_ok=True)
    broadcast_object_list(status)
    if status[0]:
        raise DataError(status[0])
    return feats if state.is_main_process else _read_entry(store, key, n)


def _read_entry(store: FeatureCache | None, key: str, n: int) -> np.ndarray:
    """The entry the main process found or wrote, read by another process."""
    got = store.load(key, n) if store is not None else None
    if got is None:
        raise DataError(f"the feature-cache entry {key[:12]} vanished before every process read it (was the cache "
                        "cleared meanwhile?): run again")
    return got
