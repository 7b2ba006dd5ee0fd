"""Shared fixtures: the real data root, an isolated feature cache and run folder per test session, and
tiny data builders used by several test files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DATA_ROOT = REPO.parent / "shared" / "data"

# never reach a hub from tests; fail fast instead of retrying
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


try:  # tests use tiny nets: one intra-op thread avoids oversubscription on small shared machines
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass


@pytest.fixture(scope="session", autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ["TRANSFERKIT_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["TRANSFERKIT_RUNS"] = str(tmp_path_factory.mktemp("runs"))
    if DATA_ROOT.is_dir():
        os.environ["TRANSFERKIT_DATA"] = str(DATA_ROOT)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real public data sets (../shared/data from the repository root)."""
    if not DATA_ROOT.is_dir():
        pytest.skip(f"real data not found at {DATA_ROOT}")
    return DATA_ROOT


TINY_CNN = "smallcnn?image_size=8&width=4&num_features=8"


def _images(n: int = 60, seed: int = 0):  # -> transferkit.data.Dataset
    """Three classes of 8x8 images: bright top, bottom or left half, plus noise."""
    from transferkit.data import Dataset

    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.uniform(0, 0.3, size=(n, 1, 8, 8)).astype(np.float32)
    for i, c in enumerate(y):
        if c == 0:
            x[i, 0, :4] += 0.7
        elif c == 1:
            x[i, 0, 4:] += 0.7
        else:
            x[i, 0, :, :4] += 0.7
    return Dataset(x=np.clip(x, 0, 1), y=y.astype(np.int64), kind="image", class_names=("top", "bottom", "left"))


@pytest.fixture(scope="session")
def images() -> Callable[..., object]:
    """A builder of tiny image data sets: ``images(n=60, seed=0)`` -> three classes of 8x8 images."""
    return _images


@pytest.fixture(scope="session")
def tiny_cnn() -> str:
    """A backbone spec for a CNN small enough to train in a test (reads the ``images`` data)."""
    return TINY_CNN


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip GPU tests without CUDA."""
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        has_cuda = False
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip)
