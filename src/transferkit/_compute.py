"""Where scores and distances compute: one device choice and chunked float64 reductions on torch.

The device is chosen once, here: an explicit ``device=`` argument, else ``$TRANSFERKIT_DEVICE``
(``cpu``, ``cuda``, ``cuda:1``), else CUDA when present, else the CPU. The same torch code runs on
either, so CPU tests exercise the path a GPU takes.

Feature matrices are never copied whole: they stay in the caller's dtype (float32 stays float32)
and are read in row chunks of bounded size (:func:`chunk_rows`), each converted to float64 on the
device, so sums, means and D x D (or N x N) Gram matrices are accumulated in float64 and agree with
an all-float64 computation to round-off. Only the nearest-neighbour search runs in float32
(see :mod:`transferkit.transferability._knn`, which checks its float32 candidates in float64).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from transferkit.errors import UsageError

DEVICE_ENV = "TRANSFERKIT_DEVICE"
CHUNK_BYTES = 32 * 2**20  # float64 bytes of one row chunk on the CPU (bounds the working memory)
CHUNK_BYTES_CUDA = 512 * 2**20


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """The device scores run on: ``device``, else ``$TRANSFERKIT_DEVICE``, else CUDA if present, else CPU."""
    choice = device if device is not None else os.environ.get(DEVICE_ENV) or None
    if choice is None:
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    try:
        dev = torch.device(choice)
    except (RuntimeError, TypeError) as exc:
        raise UsageError(f"unknown device {choice!r} ({exc}); use cpu, cuda or cuda:N") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"device {choice!r} was asked for but no CUDA GPU is available; use cpu")
    return dev


def use_torch_linalg(device: torch.device) -> bool:
    """Whether dense eigendecompositions run in torch on ``device`` (CUDA) or in LAPACK via scipy (CPU)."""
    return device.type != "cpu" or os.environ.get("TRANSFERKIT_TORCH_LINALG") == "1"


def chunk_rows(n: int, d: int, device: torch.device, budget: int | None = None) -> int:
    """Rows per chunk so that one float64 chunk of width ``d`` stays within the memory budget."""
    limit = budget if budget is not None else (CHUNK_BYTES_CUDA if device.type == "cuda" else CHUNK_BYTES)
    return max(1, min(n, limit // max(8 * d, 1)))


def rows64(x: np.ndarray, start: int, stop: int, device: torch.device) -> torch.Tensor:
    """Rows ``start:stop`` of ``x`` as a float64 tensor on ``device`` (a copy of the chunk only)."""
    part = torch.from_numpy(np.array(x[start:stop], dtype=np.float64))  # a copy: chunks are centred in place
    if device.type == "cuda":
        return part.pin_memory().to(device, non_blocking=True)
    return part


def read_only_tensor(arr: np.ndarray) -> torch.Tensor:
    """``torch.from_numpy`` of an array that is only read (a memory map may be read-only)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(np.ascontiguousarray(arr))


def chunks(x: np.ndarray, device: torch.device, budget: int | None = None) -> Any:
    """Yield ``(start, stop, rows64)`` over ``x`` in bounded chunks."""
    n, d = x.shape
    step = chunk_rows(n, d, device, budget)
    for start in range(0, n, step):
        stop = min(start + step, n)
        yield start, stop, rows64(x, start, stop, device)


def column_mean(x: np.ndarray, device: torch.device) -> torch.Tensor:
    """Float64 column means of ``x`` (one pass)."""
    total = torch.zeros(x.shape[1], dtype=torch.float64, device=device)
    for _, _, part in chunks(x, device):
        total += part.sum(dim=0)
    return total / x.shape[0]


@dataclass
class Moments:
    """First and second moments of a feature matrix, per class when labels are given.

    Attributes:
        n: number of rows.
        mean: ``(D,)`` column means.
        gram: ``(D, D)`` ``sum_i (x_i - mean)(x_i - mean)'``.
        class_sums: ``(C, D)`` sums of the centred rows of each class (None without labels).
        counts: ``(C,)`` rows per class (None without labels).
        fourth: ``sum_i |x_i - mean|^4`` (only when asked for; Ledoit-Wolf needs it).
    """

    n: int
    mean: torch.Tensor
    gram: torch.Tensor
    class_sums: torch.Tensor | None = None
    counts: torch.Tensor | None = None
    fourth: float | None = None


def add_gram(gram: torch.Tensor, part: torch.Tensor) -> None:
    """``gram += part' part`` for a float64 row chunk; on the CPU only the lower triangle is updated.

    The CPU takes BLAS ``dsyrk`` (half the work of a full product); finish with :func:`full_gram`.
    """
    if gram.device.type == "cpu" and part.is_contiguous() and gram.is_contiguous():
        from scipy.linalg.blas import dsyrk

        g = gram.numpy()
        # g.T is Fortran-ordered, so dsyrk updates it in place: its upper triangle is g's lower one
        dsyrk(1.0, part.numpy().T, beta=1.0, c=g.T, trans=0, lower=0, overwrite_c=1)
    else:
        gram.addmm_(part.T, part)


def full_gram(gram: torch.Tensor) -> torch.Tensor:
    """The symmetric matrix from the lower triangle :func:`add_gram` kept up to date (in place)."""
    if gram.device.type == "cpu":
        lower = torch.tril(gram, diagonal=-1)
        gram.copy_(lower + lower.T + torch.diag(gram.diagonal()))
    return gram


def moments(x: np.ndarray, y: np.ndarray | None = None, c: int = 0, *, device: torch.device,
            fourth: bool = False, centre: bool = True) -> Moments:
    """Means, the centred Gram matrix and per-class sums of ``x`` in two chunked passes.

    With ``centre=False`` the Gram matrix and class sums are of the raw rows (and ``mean`` is zero). Memory: O(D^2 + C D) plus one chunk, whatever ``N``.
    """
    n, d = x.shape
    mean = column_mean(x, device) if centre else torch.zeros(d, dtype=torch.float64, device=device)
    gram = torch.zeros((d, d), dtype=torch.float64, device=device)
    sums = torch.zeros((c, d), dtype=torch.float64, device=device) if y is not None else None
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64)).to(device) if y is not None else None
    quartic = torch.zeros((), dtype=torch.float64, device=device)
    for start, stop, part in chunks(x, device):
        if centre:
            part -= mean
        add_gram(gram, part)
        if sums is not None and yt is not None:
            sums.index_add_(0, yt[start:stop], part)
        if fourth:
            quartic += (part.square().sum(dim=1) ** 2).sum()
    counts = torch.bincount(yt, minlength=c).to(torch.float64) if yt is not None else None
    return Moments(n=n, mean=mean, gram=full_gram(gram), class_sums=sums, counts=counts,
                   fourth=float(quartic) if fourth else None)


def centred_fourth(x: np.ndarray, mean: torch.Tensor, device: torch.device) -> float:
    """``sum_i |x_i - mean|^4`` in float64, chunk by chunk."""
    total = torch.zeros((), dtype=torch.float64, device=device)
    for _, _, part in chunks(x, device):
        total += ((part - mean).square().sum(dim=1) ** 2).sum()
    return float(total)


def row_gram(x: np.ndarray, device: torch.device, mean: torch.Tensor | None = None) -> torch.Tensor:
    """The ``(N, N)`` float64 Gram matrix ``(x - mean)(x - mean)'`` (for wide data, ``N <= D``)."""
    n, d = x.shape
    out = torch.empty((n, n), dtype=torch.float64, device=device)
    step = chunk_rows(n, d, device)
    for i in range(0, n, step):
        a = rows64(x, i, min(i + step, n), device)
        if mean is not None:
            a -= mean
        for j in range(0, i + 1, step):
            b = a if j == i else rows64(x, j, min(j + step, n), device)
            if mean is not None and j != i:
                b -= mean
            block = a @ b.T
            out[i:i + len(a), j:j + len(b)] = block
            out[j:j + len(b), i:i + len(a)] = block.T
    return out


def symmetric_eig(a: torch.Tensor, device: torch.device, eigenvectors: bool = True) -> tuple[np.ndarray, Any]:
    """Eigenvalues (ascending) and eigenvectors of a symmetric float64 matrix, as numpy arrays.

    torch on CUDA; scipy's LAPACK on the CPU (the same driver family numpy and scipy callers used).
    """
    if use_torch_linalg(device):
        if eigenvectors:
            w, v = torch.linalg.eigh(a)
            return w.cpu().numpy(), v.cpu().numpy()
        return torch.linalg.eigvalsh(a).cpu().numpy(), None
    import scipy.linalg

    arr = a.cpu().numpy()
    if eigenvectors:
        return scipy.linalg.eigh(arr, check_finite=False)
    return scipy.linalg.eigvalsh(arr, check_finite=False), None
