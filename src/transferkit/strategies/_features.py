"""Row-level memo of frozen-backbone features, on top of the on-disk feature cache.

Label budgets and seeds cut many subsets out of one data set; the memo keys each row by a hash of
its input, so each row goes through the backbone once per backbone fingerprint.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np

from transferkit.backbones import Backbone
from transferkit.data.dataset import Dataset

_MEMO: OrderedDict[str, dict[bytes, np.ndarray]] = OrderedDict()
_MAX_BACKBONES = 4


def row_keys(data: Dataset) -> list[bytes]:
    """One digest per row of ``data.x`` (text and paths by their string, arrays by their bytes)."""
    x = data.x
    if isinstance(x, np.ndarray) and x.dtype != object:
        flat = np.ascontiguousarray(x).reshape(len(x), -1)
        return [hashlib.blake2b(r.tobytes(), digest_size=16).digest() for r in flat]
    return [hashlib.blake2b(str(v).encode(), digest_size=16).digest() for v in x]


def _table(backbone: Backbone) -> dict[bytes, np.ndarray]:
    fp = backbone.fingerprint()
    if fp in _MEMO:
        _MEMO.move_to_end(fp)
    else:
        _MEMO[fp] = {}
        while len(_MEMO) > _MAX_BACKBONES:
            _MEMO.popitem(last=False)
    return _MEMO[fp]


def features_for(backbone: Backbone, data: Dataset, progress: bool = False) -> np.ndarray:
    """Features of ``data`` from the memo; missing rows are extracted (and disk-cached) once."""
    from transferkit.features import extract_features

    table = _table(backbone)
    keys = row_keys(data)
    missing = sorted({i for i, k in enumerate(keys) if k not in table})
    if missing:
        sub = data.subset(np.asarray(missing))
        feats = extract_features(backbone, sub, progress=progress, cache=len(missing) == len(data))
        for i, f in zip(missing, feats):
            table[keys[i]] = f
    return np.stack([table[k] for k in keys]) if keys else np.zeros((0, backbone.num_features), np.float32)


def warm_features(backbone: Backbone, data: Dataset, progress: bool = False) -> None:
    """Extract (or read from the disk cache) the features of all of ``data`` in one pass."""
    from transferkit.features import extract_features

    table = _table(backbone)
    keys = row_keys(data)
    if all(k in table for k in keys):
        return
    feats = extract_features(backbone, data, progress=progress)
    table.update(zip(keys, feats))


def clear_memo() -> None:
    """Forget every memoised feature (the disk cache stays)."""
    _MEMO.clear()
