"""Frozen-encoder features for shallow adaptation on raw inputs (text, images, signals).

Shallow methods work on feature tables; for other inputs :func:`encode_frozen` runs a frozen
backbone once over every side (source, target, labelled target examples) through the cached
:func:`~transferkit.features.extract_features`, so a second run on the same data is free.
Text defaults to ``minilm`` (all-MiniLM-L6-v2, offline); other kinds need a ``backbone``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from transferkit.data.dataset import Dataset
from transferkit.errors import DataArgumentError

DEFAULT_ENCODER = {"text": "minilm"}


def encoder_for(kind: str, backbone: Any) -> Any:
    """The backbone spec (or module) that encodes ``kind`` inputs for a shallow method."""
    if backbone is not None:
        return backbone
    if kind in DEFAULT_ENCODER:
        return DEFAULT_ENCODER[kind]
    raise DataArgumentError(f"a shallow method on {kind} inputs needs a frozen encoder: pass backbone= (e.g. "
                            "'timm:resnet18' for images) or extract features first (transferkit features)")


def encode_frozen(parts: list[Any], kind: str, backbone: Any, progress: bool = False,
                  workers: int = 0) -> list[np.ndarray | None]:
    """Each non-None part (raw inputs of one side) as frozen-encoder features ``(N, D)`` (``workers``: DataLoader
    worker processes preparing the batches)."""
    from transferkit.backbones import create_backbone
    from transferkit.features import extract_features

    spec = encoder_for(kind, backbone)
    model = create_backbone(spec) if isinstance(spec, str) else spec
    out: list[np.ndarray | None] = []
    for x in parts:
        if x is None:
            out.append(None)
            continue
        data = x if isinstance(x, Dataset) else Dataset(x=np.asarray(x, dtype=object) if kind == "text" else x,
                                                        y=None, kind=kind, name=f"{kind} inputs")
        out.append(extract_features(model, data, progress=progress, num_workers=workers))
    return out
