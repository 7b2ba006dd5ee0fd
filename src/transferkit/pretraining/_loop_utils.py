"""Helpers shared by the self-supervised loops: batches, checkpoints (safetensors only), probes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from transferkit.data.dataset import Dataset


def epoch_batches(n: int, batch_size: int, seed: int, epoch: int) -> Iterator[np.ndarray]:
    """Shuffled row indices for one epoch, fixed by (seed, epoch) so a resumed run sees the same order.

    A last batch of a single row is dropped (contrastive and BatchNorm layers need two or more).
    """
    order = np.random.default_rng([seed, epoch]).permutation(n)
    for s in range(0, n, batch_size):
        idx = order[s : s + batch_size]
        if len(idx) >= 2:
            yield idx


def optimizer_tensors(opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """The optimiser's per-parameter state as flat named tensors (so it fits in safetensors)."""
    out = {}
    for pid, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            out[f"optim.{pid}.{k}"] = (
                (v if isinstance(v, torch.Tensor) else torch.tensor(v)).detach().cpu().contiguous()
            )
    return out


def load_optimizer_tensors(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    """Inverse of :func:`optimizer_tensors`."""
    sd = opt.state_dict()
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, v in tensors.items():
        if key.startswith("optim."):
            pid, k = key[len("optim.") :].split(".", 1)
            state.setdefault(int(pid), {})[k] = v
    sd["state"] = state
    opt.load_state_dict(sd)


def save_checkpoint(
    folder: Path, modules: dict[str, nn.Module], opt: torch.optim.Optimizer, meta: dict[str, Any]
) -> None:
    """Write ``last.safetensors`` (modules + optimiser) and ``state.json`` atomically."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {
        f"{name}.{k}": v.detach().cpu().contiguous()
        for name, m in modules.items()
        for k, v in m.state_dict().items()
    }
    tensors.update(optimizer_tensors(opt))
    save_file(tensors, str(folder / "last.tmp.safetensors"))
    (folder / "last.tmp.safetensors").replace(folder / "last.safetensors")
    (folder / "state.tmp.json").write_text(json.dumps(meta))
    (folder / "state.tmp.json").replace(folder / "state.json")


def load_checkpoint(
    folder: Path, modules: dict[str, nn.Module], opt: torch.optim.Optimizer
) -> dict[str, Any] | None:
    """Restore what :func:`save_checkpoint` wrote; None when there is no checkpoint."""
    from safetensors.torch import load_file

    if not (folder / "state.json").exists() or not (folder / "last.safetensors").exists():
        return None
    tensors = load_file(str(folder / "last.safetensors"))
    for name, m in modules.items():
        prefix = f"{name}."
        m.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
    load_optimizer_tensors(opt, tensors)
    return json.loads((folder / "state.json").read_text())


def linear_probe_metrics(
    backbone: Any, train: Dataset, test: Dataset, max_train: int = 3000, seed: int = 0
) -> dict[str, float]:
    """Source accuracy of a logistic regression on frozen features (labels only used here, to report)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from transferkit.features import extract_features

    if len(test) == 0 or len(train) < 2 or train.y is None or test.y is None or train.task != "classification" or len(np.unique(train.y)) < 2:
        return {}
    if len(train) > max_train:
        train = train.subset(
            np.sort(np.random.default_rng(seed).choice(len(train), max_train, replace=False))
        )
    ftr = extract_features(backbone, train, cache=False, progress=False)
    fte = extract_features(backbone, test, cache=False, progress=False)
    sc = StandardScaler().fit(ftr)
    clf = LogisticRegression(max_iter=2000, C=1.0).fit(sc.transform(ftr), train.y)
    return {"linear_probe_test_accuracy": float(np.mean(clf.predict(sc.transform(fte)) == test.y))}
