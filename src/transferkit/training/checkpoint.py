"""Loop checkpoints: safetensors only (modules, best state, optimiser, RNG) plus a JSON state file.

One folder holds ``last.safetensors`` (every module, prefixed by its name, the optimiser's
per-parameter state, the trainer's extra tensors and the torch RNG), ``best.safetensors`` (the
best state so far) and ``state.json`` (epoch, history, best epoch, patience counter, seconds).
Every file is written to a temporary name and renamed, so a killed run leaves the previous
checkpoint intact. Nothing is unpickled on load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from transferkit._io import atomic_write_text, atomic_write_with, remove_orphan_temps


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` restores besides the module weights."""

    epoch: int
    bad_epochs: int
    best_epoch: int
    best_score: float
    history: list[dict[str, Any]]
    seconds: float
    best_state: dict[str, dict[str, torch.Tensor]] | None = None
    extra: dict[str, torch.Tensor] = field(default_factory=dict)


def _optimizer_tensors(opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    out = {}
    for pid, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            t = v if isinstance(v, torch.Tensor) else torch.tensor(v)
            out[f"optim.{pid}.{k}"] = t.detach().cpu().contiguous()
    return out


def _load_optimizer_tensors(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    sd = opt.state_dict()
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, v in tensors.items():
        if key.startswith("optim."):
            pid, k = key[len("optim."):].split(".", 1)
            state.setdefault(int(pid), {})[k] = v
    sd["state"] = state
    opt.load_state_dict(sd)


def _flat(states: dict[str, dict[str, torch.Tensor]], prefix: str) -> dict[str, torch.Tensor]:
    return {f"{prefix}{name}.{k}": v.detach().cpu().contiguous() for name, sd in states.items() for k, v in sd.items()}


def _unflat(tensors: dict[str, torch.Tensor], prefix: str, names: list[str]) -> dict[str, dict[str, torch.Tensor]]:
    out: dict[str, dict[str, torch.Tensor]] = {n: {} for n in names}
    for key, v in tensors.items():
        if key.startswith(prefix):
            name, _, k = key[len(prefix):].partition(".")
            if name in out:
                out[name][k] = v
    return out


def _save(tensors: dict[str, torch.Tensor], path: Path) -> None:
    from safetensors.torch import save_file

    atomic_write_with(path, lambda tmp: save_file(tensors, str(tmp)))  # a unique temp name per writer


def save_checkpoint(folder: Path, modules: dict[str, nn.Module], optimizer: torch.optim.Optimizer,
                    state: Checkpoint) -> None:
    """Write the checkpoint atomically (each file via a temporary name)."""
    folder.mkdir(parents=True, exist_ok=True)
    remove_orphan_temps(folder)  # temp files of a writer killed mid-save
    tensors = _flat({n: m.state_dict() for n, m in modules.items()}, "module.")
    tensors.update(_optimizer_tensors(optimizer))
    tensors.update({f"extra.{k}": v.detach().cpu().contiguous() for k, v in state.extra.items()})
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        tensors.update({f"rng.cuda.{i}": t for i, t in enumerate(torch.cuda.get_rng_state_all())})
    _save(tensors, folder / "last.safetensors")
    if state.best_state is not None:
        _save(_flat(state.best_state, "best."), folder / "best.safetensors")
    meta = {"epoch": state.epoch, "bad_epochs": state.bad_epochs, "best_epoch": state.best_epoch,
            "best_score": state.best_score if state.best_score != -float("inf") else None,
            "history": state.history, "seconds": state.seconds, "modules": sorted(modules)}
    atomic_write_text(folder / "state.json", json.dumps(meta))


def _load(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors file; anything else (a pickle, a torn file) is a DataError naming it."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from transferkit.errors import DataError

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise DataError(f"{path} is not a readable safetensors checkpoint ({exc}); nothing is unpickled: delete "
                        f"{path.parent} to start over") from exc


def has_checkpoint(folder: Path | None) -> bool:
    """Whether ``folder`` holds a complete checkpoint."""
    return folder is not None and (folder / "state.json").exists() and (folder / "last.safetensors").exists()


def load_checkpoint(folder: Path, modules: dict[str, nn.Module], optimizer: torch.optim.Optimizer) -> Checkpoint:
    """Restore module weights and optimiser state in place; return the rest."""
    from transferkit.errors import DataError

    try:
        meta = json.loads((folder / "state.json").read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{folder / 'state.json'} is damaged ({exc}): delete {folder} to start over") from exc
    if sorted(meta.get("modules", [])) != sorted(modules):
        raise DataError(f"the checkpoint in {folder} holds modules {meta.get('modules')} but this run trains "
                        f"{sorted(modules)}: resume with the same settings, or use a new checkpoint folder")
    tensors = _load(folder / "last.safetensors")
    try:
        for name, sd in _unflat(tensors, "module.", list(modules)).items():
            modules[name].load_state_dict(sd)
        _load_optimizer_tensors(optimizer, tensors)
    except (RuntimeError, KeyError, ValueError) as exc:
        raise DataError(f"the checkpoint in {folder} does not fit this model ({exc}): resume with the same "
                        "settings, or use a new checkpoint folder") from exc
    if "rng.torch" in tensors:
        torch.set_rng_state(tensors["rng.torch"])
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("rng.cuda.")]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    best = None
    if (folder / "best.safetensors").exists():
        best = _unflat(_load(folder / "best.safetensors"), "best.", list(modules))
    extra = {k[len("extra."):]: v for k, v in tensors.items() if k.startswith("extra.")}
    score = meta.get("best_score")
    return Checkpoint(int(meta["epoch"]), int(meta["bad_epochs"]), int(meta["best_epoch"]),
                      -float("inf") if score is None else float(score), list(meta["history"]),
                      float(meta.get("seconds", 0.0)), best, extra)
