"""Preprocessing shared by the image, signal and table backbones."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from transferkit.errors import DataError


def image_batch(batch: Any, size: tuple[int, int], channels: int, mean: tuple[float, ...],
                std: tuple[float, ...], keep_uint8: bool = False) -> torch.Tensor:
    """Images ``(N, C, H, W)`` in [0, 1] (or file paths) -> resized, channel-matched, normalised tensor.

    With ``keep_uint8``, 8-bit images that already have the backbone's size and channels are returned
    as they are (a uint8 tensor, a quarter of the bytes to copy to the device); the backbone then
    finishes them on the device with :func:`finish_uint8`. Anything else is prepared here.
    """
    arr = np.asarray(batch)
    if arr.dtype == object:  # file paths, decoded batch by batch
        from transferkit.data.readers import load_images

        arr = load_images(list(arr), image_size=size, grayscale=channels == 1)
    if arr.ndim == 3:  # (N, H, W) grey
        arr = arr[:, None]
    if arr.ndim != 4:
        raise DataError(f"image backbones need (N, C, H, W) inputs, got shape {arr.shape}")
    if keep_uint8 and arr.dtype == np.uint8 and arr.shape[1] == channels and tuple(arr.shape[-2:]) == tuple(size):
        return torch.from_numpy(np.ascontiguousarray(arr))
    x = torch.as_tensor(np.ascontiguousarray(arr), dtype=torch.float32)
    if arr.dtype == np.uint8:
        x = x / 255.0
    c = x.shape[1]
    if c != channels:
        if c == 1:
            x = x.expand(-1, channels, -1, -1)
        elif channels == 1:
            x = x.mean(dim=1, keepdim=True)
        else:
            raise DataError(f"cannot feed {c}-channel images to a {channels}-channel backbone")
    if tuple(x.shape[-2:]) != tuple(size):
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
    m = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    return (x - m) / s


def finish_uint8(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """On the device: a uint8 batch from :func:`image_batch` -> float, scaled to [0, 1], normalised.

    Float batches pass through unchanged (they were normalised in ``prepare``).
    """
    if x.dtype != torch.uint8:
        return x
    m = torch.tensor(mean, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    return (x.float() / 255.0 - m) / s


def standardize(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """``(x - mean) / std`` with broadcasting over the batch dimension."""
    return (x - mean) / std


def check_array(batch: Any, ndim: int, what: str, trailing: tuple[int, ...]) -> torch.Tensor:
    """A float tensor of rank ``ndim`` whose trailing dims equal ``trailing``, else a clear error."""
    arr = np.asarray(batch, dtype=np.float32)
    if arr.ndim != ndim or tuple(arr.shape[1:len(trailing) + 1]) != trailing:
        raise DataError(f"{what} expects inputs of shape (N, {', '.join(map(str, trailing))}{', ...' if ndim > len(trailing) + 1 else ''}), "
                        f"got {arr.shape}: pick a backbone built for this data (e.g. in_channels=...)")
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{what}: inputs contain NaN or infinity")
    return torch.from_numpy(np.ascontiguousarray(arr))
