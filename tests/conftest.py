"""Shared fixtures: the real data root, an isolated feature cache and run folder per test session."""

from __future__ import annotations

import os
from pathlib import Path

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
