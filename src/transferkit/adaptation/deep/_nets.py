"""Networks for deep adaptation: the backbone + linear-head wrapper, and packed text inputs (LeNet lives with the
backbones)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from transferkit.backbones.lenet import LeNet  # noqa: F401  (re-exported: it used to live here)
from transferkit.errors import BackboneError


class AdaptationNetwork(nn.Module):
    """A backbone followed by a linear classifier; ``forward`` returns ``(features, logits)``."""

    def __init__(self, backbone: nn.Module, num_classes: int) -> None:
        super().__init__()
        if num_classes < 2:
            raise BackboneError("adaptation needs at least 2 classes")
        nf = getattr(backbone, "num_features", None)
        if not isinstance(nf, int):
            raise BackboneError("the backbone must expose an integer num_features")
        self.backbone = backbone
        self.num_features = nf
        self.num_classes = num_classes
        self.head = nn.Linear(nf, num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs -> ``(features, logits)``."""
        f = self.backbone.forward_features(x)
        return f, self.head(f)


class PackedText(nn.Module):
    """A text backbone whose inputs are one tensor ``(N, 2, max_length)`` (token ids, attention mask).

    The two-stream loop indexes, concatenates and moves inputs as tensors; a tokenizer gives a dict.
    ``prepare`` pads every batch to the backbone's ``max_length`` and stacks ids and mask (as floats,
    exact for any vocabulary under 2**24 tokens); ``forward_features`` trims the common padding and
    calls the wrapped backbone, ``inner``, which is what ships (its parameters are the ones trained).
    """

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        for need in ("prepare", "forward_features", "max_length", "num_features"):
            if not hasattr(inner, need):
                raise BackboneError(f"a text backbone for deep adaptation needs {need} (e.g. 'minilm?max_length=32')")
        self.inner = inner
        self.num_features = int(inner.num_features)

    def prepare(self, texts: Any) -> torch.Tensor:
        """Raw strings -> ``(N, 2, max_length)``: token ids and attention mask, padded to ``max_length``."""
        enc = self.inner.prepare(texts)
        ids, mask = enc["input_ids"], enc["attention_mask"]
        pad = int(self.inner.max_length) - ids.shape[1]
        pad_id = getattr(getattr(self.inner, "tokenizer", None), "pad_token_id", 0) or 0
        if pad > 0:
            ids = nn.functional.pad(ids, (0, pad), value=pad_id)
            mask = nn.functional.pad(mask, (0, pad), value=0)
        return torch.stack([ids, mask], dim=1).float()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Features of a packed batch (padding beyond the longest text in it is dropped first)."""
        x = x.long()
        n = max(1, int(x[:, 1].sum(1).max()))
        return self.inner.forward_features({"input_ids": x[:, 0, :n], "attention_mask": x[:, 1, :n]})
