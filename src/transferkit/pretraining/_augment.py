"""Random views and corruptions of prepared batches, per input kind (for self-supervised objectives).

They act on what ``backbone.prepare`` returns (normalised tensors), with a ``torch.Generator``
so a run is reproducible:

* images ``(N, C, H, W)``: random affine (zoom 0.8-1.1, rotation +-15 degrees, shift +-10%),
  contrast/brightness jitter and noise. No flips: a mirrored digit or letter is another symbol.
* signals ``(N, C, T)``: per-channel amplitude scaling, jitter noise, circular time shift and one
  zeroed time segment (the usual time-series contrastive augmentations).
* tables ``(N, D)``: SCARF-style corruption (a random subset of each row's features is replaced
  by the same features of another row) plus noise.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from transferkit.errors import DataError


def _u(n: int, lo: float, hi: float, gen: torch.Generator) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen)


def augment_images(x: torch.Tensor, gen: torch.Generator, noise: float = 0.1) -> torch.Tensor:
    """A random view of a batch of images."""
    n = x.shape[0]
    angle = _u(n, -15, 15, gen) * math.pi / 180
    scale = _u(n, 0.8, 1.1, gen)
    tx, ty = _u(n, -0.1, 0.1, gen), _u(n, -0.1, 0.1, gen)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    lo = x.amin(dim=(1, 2, 3), keepdim=True)  # pad with the image's background value
    out = F.grid_sample(x - lo, grid, padding_mode="zeros", align_corners=False) + lo
    contrast = _u(n, 0.8, 1.2, gen).view(-1, 1, 1, 1)
    bright = _u(n, -0.2, 0.2, gen).view(-1, 1, 1, 1)
    out = out * contrast + bright
    return out + noise * torch.randn(out.shape, generator=gen)


def augment_signals(x: torch.Tensor, gen: torch.Generator, noise: float = 0.1) -> torch.Tensor:
    """A random view of a batch of (standardised) multichannel signals."""
    n, c, t = x.shape
    out = x * (1 + 0.1 * torch.randn((n, c, 1), generator=gen))
    out = out + noise * torch.randn(out.shape, generator=gen)
    shifts = torch.randint(-(t // 8), t // 8 + 1, (n,), generator=gen)
    idx = (torch.arange(t).view(1, t) - shifts.view(n, 1)) % t
    out = torch.gather(out, 2, idx.view(n, 1, t).expand(n, c, t))
    seg = max(1, t // 10)
    start = torch.randint(0, t - seg + 1, (n,), generator=gen)
    pos = torch.arange(t).view(1, t)
    keep = ~((pos >= start.view(n, 1)) & (pos < start.view(n, 1) + seg))
    return out * keep.view(n, 1, t)


def augment_tables(x: torch.Tensor, gen: torch.Generator, noise: float = 0.1, corrupt: float = 0.3) -> torch.Tensor:
    """A random view of a batch of (standardised) table rows."""
    n, d = x.shape
    donor = torch.randint(0, n, (n,), generator=gen)
    mask = torch.rand((n, d), generator=gen) < corrupt
    out = torch.where(mask, x[donor], x)
    return out + noise * torch.randn(out.shape, generator=gen)


def augment(x: torch.Tensor, kind: str, gen: torch.Generator, noise: float = 0.1) -> torch.Tensor:
    """A random view of a prepared batch of ``kind`` inputs."""
    if not isinstance(x, torch.Tensor):
        raise DataError("self-supervised pre-training needs tensor inputs (image, signal or table backbones)")
    fn = {"image": augment_images, "signal": augment_signals, "table": augment_tables}.get(kind)
    if fn is None:
        raise DataError(f"no augmentations for {kind} inputs: use supervised pre-training for them")
    return fn(x, gen, noise)


def corrupt(x: torch.Tensor, kind: str, gen: torch.Generator, mask_ratio: float, noise: float) -> torch.Tensor:
    """Masked + noisy copy of a prepared batch (for denoising reconstruction).

    Images lose random 4x4 patches, signals random time steps (all channels at once), tables
    random cells; masked values become 0 (the mean after normalisation).
    """
    if not isinstance(x, torch.Tensor):
        raise DataError("denoising pre-training needs tensor inputs (image, signal or table backbones)")
    if kind == "image":
        n, _, h, w = x.shape
        ph, pw = math.ceil(h / 4), math.ceil(w / 4)
        keep = (torch.rand((n, 1, ph, pw), generator=gen) >= mask_ratio).float()
        keep = F.interpolate(keep, scale_factor=4, mode="nearest")[:, :, :h, :w]
    elif kind == "signal":
        n, _, t = x.shape
        keep = (torch.rand((n, 1, t), generator=gen) >= mask_ratio).float()
    elif kind == "table":
        keep = (torch.rand(x.shape, generator=gen) >= mask_ratio).float()
    else:
        raise DataError(f"no corruption defined for {kind} inputs: use supervised pre-training for them")
    return x * keep + noise * torch.randn(x.shape, generator=gen)
