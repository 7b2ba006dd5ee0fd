"""A fitted scikit-learn style estimator as a model folder (format ``estimator``): safetensors + JSON, no pickle.

What ``transferkit adapt`` ships when a shallow method (CORAL, TCA, JDA, subspace alignment, KMM...)
or source-only on feature tables is the recommended model. The estimator is written as its class,
its constructor parameters and its fitted attributes (the names ending in ``_``): numeric arrays
go to ``model.safetensors``, everything else (numbers, strings, lists, nested estimators such as
the base classifier) to the card's ``estimator`` field. Loading rebuilds the object from that
description, verified like every model folder (checksums and fingerprint), and only for classes of
scikit-learn or of transferkit's shallow adaptation methods: a card cannot make it import anything
else. Nothing is unpickled.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from transferkit.backbones.shipped import read_verified, write_model_folder
from transferkit.errors import BackboneError

ALLOWED_MODULES = ("sklearn.", "transferkit.adaptation.shallow.")


def _value(v: Any, key: str, tensors: dict[str, torch.Tensor]) -> Any:
    from sklearn.base import BaseEstimator

    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, float, np.generic)) and not isinstance(v, np.ndarray):
        item = v.item() if isinstance(v, np.generic) else v
        if isinstance(item, float) and not np.isfinite(item):
            return {"float": repr(item)}
        return item
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "biuf":
            tensors[key] = torch.from_numpy(np.ascontiguousarray(v).copy())
            return {"tensor": key}
        if v.dtype.kind in "OU" and all(isinstance(x, (str, int, float)) for x in v.ravel().tolist()):
            return {"array": v.tolist(), "dtype": "str" if v.dtype.kind == "U" else "object"}
    if isinstance(v, (list, tuple)):
        return {"list" if isinstance(v, list) else "tuple": [_value(x, f"{key}.{i}", tensors) for i, x in enumerate(v)]}
    if isinstance(v, dict) and all(isinstance(k, str) for k in v):
        return {"dict": {k: _value(x, f"{key}.{k}", tensors) for k, x in v.items()}}
    if isinstance(v, BaseEstimator):
        return {"estimator": estimator_state(v, f"{key}.", tensors)}
    raise BackboneError(f"cannot ship {key!r}: a value of type {type(v).__name__} has no safe stored form")


def estimator_state(est: Any, prefix: str = "", tensors: dict[str, torch.Tensor] | None = None) -> dict[str, Any]:
    """``{"class", "params", "fitted"}`` of ``est`` (numeric arrays go into ``tensors`` under ``prefix``).

    Fitted arrays that are views with other strides (an eigenvector matrix read backwards) are made
    contiguous in ``est`` itself first: the values are the same, and the estimator in memory then runs
    the very same arithmetic as the one loaded back, so both predict bit for bit alike (a resumed
    run's figures equal an uninterrupted run's).
    """
    tensors = {} if tensors is None else tensors
    for k, v in list(vars(est).items()):
        if k.endswith("_") and isinstance(v, np.ndarray) and v.dtype.kind in "biuf" and not v.flags.c_contiguous:
            setattr(est, k, np.ascontiguousarray(v))
    cls = type(est)
    path = f"{cls.__module__}.{cls.__qualname__}"
    _allowed(path)
    params = {k: _value(v, f"{prefix}params.{k}", tensors) for k, v in est.get_params(deep=False).items()}
    fitted = {k: _value(v, f"{prefix}{k}", tensors) for k, v in sorted(vars(est).items())
              if k.endswith("_") and not k.startswith("_")}
    return {"class": path, "params": params, "fitted": fitted}


def _allowed(path: str) -> None:
    if not any(path.startswith(m) for m in ALLOWED_MODULES):
        raise BackboneError(f"class {path!r} is not one a model folder may hold (scikit-learn estimators and "
                            "transferkit's shallow adaptation methods only)")


def _build(path: str) -> type:
    from sklearn.base import BaseEstimator

    _allowed(path)
    module, _, name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise BackboneError(f"the card names class {path!r}, which this installation does not have: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, BaseEstimator)):
        raise BackboneError(f"{path!r} is not a scikit-learn estimator class")
    return cls


def _restore(v: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if not isinstance(v, dict):
        return v
    if "tensor" in v:
        if v["tensor"] not in tensors:
            raise BackboneError(f"the card refers to tensor {v['tensor']!r}, which the weights file does not hold")
        return tensors[v["tensor"]].numpy()
    if "float" in v:
        return float(v["float"])
    if "array" in v:
        return np.asarray(v["array"], dtype=object if v.get("dtype") == "object" else str)
    if "list" in v:
        return [_restore(x, tensors) for x in v["list"]]
    if "tuple" in v:
        return tuple(_restore(x, tensors) for x in v["tuple"])
    if "dict" in v:
        return {k: _restore(x, tensors) for k, x in v["dict"].items()}
    if "estimator" in v:
        return rebuild_estimator(v["estimator"], tensors)
    raise BackboneError(f"the card holds a value it cannot read: {v!r}")


def rebuild_estimator(state: dict[str, Any], tensors: dict[str, torch.Tensor]) -> Any:
    """The inverse of :func:`estimator_state`."""
    if not isinstance(state, dict) or "class" not in state:
        raise BackboneError("the card's estimator description must name a class")
    cls = _build(str(state["class"]))
    try:
        est = cls(**{k: _restore(v, tensors) for k, v in dict(state.get("params") or {}).items()})
    except TypeError as exc:
        raise BackboneError(f"cannot rebuild {state['class']} from its card: {exc}") from None
    for k, v in dict(state.get("fitted") or {}).items():
        setattr(est, k, _restore(v, tensors))
    return est


def save_estimator(folder: str | os.PathLike[str], est: Any, card: dict[str, Any] | None = None, *,
                   class_names: list[str] | None = None, task: str = "classification") -> dict[str, Any]:
    """Write the fitted ``est`` into ``folder`` (format ``estimator``); returns the card.

    ``class_names``: the name of each of ``est``'s classes, in the order of its ``predict_proba`` columns.
    """
    tensors: dict[str, torch.Tensor] = {}
    state = estimator_state(est, "", tensors)
    n_out = len(getattr(est, "classes_", [])) if task == "classification" else 1
    if class_names is not None and len(class_names) != n_out:
        raise BackboneError(f"{len(class_names)} class names for an estimator with {n_out} classes")
    identity = {"format": "estimator", "estimator": state, "task": task, "num_outputs": int(n_out),
                "class_names": [str(c) for c in class_names] if class_names is not None else None}
    return write_model_folder(folder, identity, tensors, card)


def load_estimator_folder(folder: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """Load and verify an ``estimator`` model folder: the rebuilt estimator and the card."""
    card, tensors = read_verified(Path(folder), "estimator")
    return rebuild_estimator(card["estimator"], tensors), card


__all__ = ["estimator_state", "load_estimator_folder", "rebuild_estimator", "save_estimator"]
