"""The one backbone interface every provider implements (timm-like).

A backbone turns a raw batch (a slice of ``Dataset.x``) into model inputs with :meth:`prepare`
(its preprocessing), and inputs into a ``(N, num_features)`` tensor with :meth:`forward_features`.
:meth:`layer_groups` lists modules from input to output, so "freeze the first k groups" and
layer-wise learning rates mean the same thing for a CNN, a transformer or an MLP.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import torch
from torch import nn


class Backbone(nn.Module, ABC):
    """Feature extractor with preprocessing, layer groups and a fingerprint.

    Subclasses set ``input_kind`` (``image``/``text``/``table``/``signal``), ``num_features`` and
    ``spec`` (the string that recreates them through :func:`create_backbone`).
    """

    input_kind: str = "image"
    num_features: int
    spec: str

    @abstractmethod
    def prepare(self, batch: Any) -> Any:
        """Raw batch (numpy array slice or list of strings) -> model input (tensor or dict)."""

    @abstractmethod
    def forward_features(self, inputs: Any) -> torch.Tensor:
        """Model input -> ``(N, num_features)`` features."""

    @abstractmethod
    def layer_groups(self) -> list[nn.Module]:
        """Modules from input to output; together they hold every parameter exactly once."""

    def finish(self, inputs: Any) -> Any:
        """Last preprocessing step, run on the device inside :meth:`forward_features` (default: none).

        Image backbones hand uint8 batches from :meth:`prepare` to the device and normalise them
        here; code that edits prepared inputs (augmentations, noise) calls this first.
        """
        return inputs

    def forward(self, inputs: Any) -> torch.Tensor:  # noqa: D401
        """Same as :meth:`forward_features`."""
        return self.forward_features(inputs)

    def preprocess_config(self) -> dict[str, Any]:
        """What :meth:`prepare` does, as JSON data (part of the feature-cache key)."""
        return {}

    def config(self) -> dict[str, Any]:
        """Architecture description: enough to rebuild the module before loading weights."""
        return {"spec": self.spec}

    def fit_preprocessing(self, x: np.ndarray) -> None:  # noqa: B027 - optional hook
        """Fit data-dependent preprocessing (e.g. standardisation) on training inputs; default none."""

    def fingerprint(self) -> str:
        """SHA-256 of class, architecture config, preprocessing and every parameter/buffer value."""
        h = hashlib.sha256()
        h.update(type(self).__qualname__.encode())
        h.update(json.dumps(self.config(), sort_keys=True, default=str).encode())
        h.update(json.dumps(self.preprocess_config(), sort_keys=True, default=str).encode())
        for name, t in sorted(self.state_dict().items()):
            h.update(name.encode())
            t = t.detach().cpu().contiguous()
            h.update(str(t.dtype).encode() + str(tuple(t.shape)).encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        return h.hexdigest()

    @property
    def device(self) -> torch.device:
        """Device of the first parameter (CPU when there are none)."""
        for p in self.parameters():
            return p.device
        return torch.device("cpu")


def load_backbone_weights(model: nn.Module, path: Any, spec: str, skip_prefixes: tuple[str, ...] = ()) -> None:
    """Load a local safetensors file into ``model`` (keys under ``skip_prefixes`` ignored on both sides).

    A missing file, a file that is not safetensors, or weights of another architecture are errors
    that say which; nothing is unpickled.
    """
    from pathlib import Path

    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from transferkit.errors import BackboneError, BackboneSpecError

    path = Path(path)
    if not path.is_file():
        raise BackboneSpecError(f"weights file {path} not found")
    refuse_pickle(path)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise BackboneError(f"{path} is not a readable safetensors file: {exc}") from exc
    state = {k: v for k, v in state.items() if not k.startswith(skip_prefixes)}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith(skip_prefixes)]
    if unexpected or missing:
        raise BackboneError(f"{path} does not match {spec}: missing {missing[:5]}, unexpected {unexpected[:5]}")


PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".tar")


def refuse_pickle(path: Any) -> None:
    """Raise :class:`~transferkit.errors.BackboneError` if ``path`` is a pickle-based weights file.

    ``torch.save`` files (a zip or a raw pickle) and anything named ``.bin``/``.pt``/``.pth``/``.ckpt``
    are refused by name and by content, before any library reads them: unpickling a file runs
    whatever code it names. The message says how to convert such a file on a machine that trusts it.
    """
    from pathlib import Path

    from transferkit.errors import BackboneError

    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return  # unreadable: the safetensors reader reports it
    pickled = head[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05") or head == b"PK\x03\x04"
    if pickled or path.suffix.lower() in PICKLE_SUFFIXES:
        raise BackboneError(
            f"{path} is a pickle-based PyTorch file: transferkit never unpickles model files (loading one runs "
            "any code it names). Convert it once on a machine you trust, e.g. python -c \"import torch; "
            "from safetensors.torch import save_file; save_file(torch.load('w.pt', weights_only=True), "
            "'w.safetensors')\", and pass the .safetensors file"
        )


def to_device(inputs: Any, device: torch.device | str) -> Any:
    """Move a tensor, or a dict/list of tensors, to ``device``."""
    if isinstance(inputs, torch.Tensor):
        return inputs.to(device, non_blocking=True)
    if isinstance(inputs, dict):
        return {k: to_device(v, device) for k, v in inputs.items()}
    if isinstance(inputs, (list, tuple)):
        return type(inputs)(to_device(v, device) for v in inputs)
    return inputs


def batch_size_of(inputs: Any) -> int:
    """Number of examples in a prepared batch."""
    if isinstance(inputs, torch.Tensor):
        return int(inputs.shape[0])
    if isinstance(inputs, dict):
        return batch_size_of(next(iter(inputs.values())))
    return len(inputs)
