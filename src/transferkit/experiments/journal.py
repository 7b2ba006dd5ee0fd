"""A run's journal: finished (budget, seed, arm) cells and the best model of each arm, for ``--resume``.

``RUN/checkpoint/`` holds ``settings.json`` (what the run was asked to do, and the fingerprints of
its data), ``cells.json`` (every finished cell, rewritten atomically after each one) and ``models/``
(the best-validation model so far of each arm the gate may ship, one model folder per budget and
arm, verified on load like any shipped model). Other commands (``adapt``, ``multitask``, ``har``)
journal their own cells as plain JSON records (:meth:`RunJournal.put_record`) in the same file, and
their models in any model-folder format (a network, a multi-task model, a fitted estimator). A killed run loses at most the cell it was fitting;
``--resume RUN`` reads the cells back instead of fitting them again and ends with the figures an
uninterrupted run gives, because every cell is seeded by its own (budget, seed) alone.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from transferkit._io import atomic_write_text
from transferkit.errors import TransferkitError
from transferkit.experiments.records import CellResult

FOLDER = "checkpoint"


class ResumeError(TransferkitError, ValueError):
    """A run folder that cannot be resumed (no journal, other settings, changed data)."""


def check_resume_seed(run_dir: str | os.PathLike[str], command: str, started: int, given: int | None) -> None:
    """Refuse to resume a run started with base seed ``started`` under another ``given`` base seed (None: not given)."""
    if given is not None and int(given) != int(started):
        raise ResumeError(f"{run_dir} was started with --seed {started}, not --seed {given}: resume it without "
                          f"--seed (or with --seed {started}), or start a new `transferkit {command}` run for "
                          f"--seed {given}")


class RunJournal:
    """The journal in ``run_dir/checkpoint`` (see the module doc); a :class:`~transferkit.experiments.runner.Journal`."""

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.folder = Path(run_dir) / FOLDER
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / "cells.json"
        self._cells: dict[str, dict[str, Any]] = json.loads(path.read_text()) if path.is_file() else {}

    # ------------------------------------------------------------------ settings
    def start(self, command: str, settings: dict[str, Any], fingerprints: dict[str, str]) -> None:
        """Record what a new run was asked to do (its first write)."""
        atomic_write_text(self.folder / "settings.json", json.dumps(
            {"command": command, "settings": settings, "fingerprints": fingerprints}, indent=2))

    @staticmethod
    def read_settings(run_dir: str | os.PathLike[str], command: str) -> dict[str, Any]:
        """The settings a run was started with (to resume it), or a :class:`ResumeError` saying why not."""
        path = Path(run_dir) / FOLDER / "settings.json"
        if not path.is_file():
            raise ResumeError(f"{run_dir} cannot be resumed: it has no {FOLDER}/settings.json (pass the folder of a "
                              f"`transferkit {command}` run started by this version)")
        data = json.loads(path.read_text())
        if data.get("command") != command:
            raise ResumeError(f"{run_dir} is a `{data.get('command')}` run, not a `{command}` run")
        return data

    def check_fingerprints(self, fingerprints: dict[str, str], command: str = "fit") -> None:
        """Refuse to resume on data that differ from the data the run started on."""
        saved = self.read_settings(self.folder.parent, command).get("fingerprints", {})
        changed = [k for k, v in fingerprints.items() if saved.get(k) not in (None, v)]
        if changed:
            raise ResumeError(f"cannot resume {self.folder.parent}: the {', '.join(changed)} data changed since the "
                              "run started (its fingerprint differs); start a new run")

    # ------------------------------------------------------------------ cells
    def cell(self, key: str) -> CellResult | None:
        """The finished cell stored under ``key`` (None when it has not run)."""
        d = self._cells.get(key)
        return CellResult.from_dict(d) if d is not None else None

    def put_cell(self, key: str, cell: CellResult) -> None:
        """Store a finished cell (the file is rewritten atomically)."""
        self._cells[key] = cell.to_dict()
        # default=str: a strategy's settings may hold objects (e.g. unlabelled data); they are only documentation here
        atomic_write_text(self.folder / "cells.json", json.dumps(self._cells, allow_nan=True, default=str))

    def record(self, key: str) -> dict[str, Any] | None:
        """The JSON record stored under ``key`` by :meth:`put_record` (None when it has not run)."""
        d = self._cells.get(key)
        return dict(d) if d is not None else None

    def put_record(self, key: str, record: dict[str, Any]) -> None:
        """Store a finished cell of any command as plain JSON (the file is rewritten atomically)."""
        self._cells[key] = record
        atomic_write_text(self.folder / "cells.json", json.dumps(self._cells, allow_nan=True, default=str))

    def __len__(self) -> int:
        return len(self._cells)

    # ------------------------------------------------------------------ models
    def _model_dir(self, key: str) -> Path:
        return self.folder / "models" / hashlib.sha256(key.encode()).hexdigest()[:16]

    def put_model(self, key: str, model: Any) -> None:
        """Store a model (a verified model folder): a :class:`TransferModel`, a multi-task model (an object with
        ``trunk``, ``heads`` and ``specs``) or a fitted scikit-learn style estimator."""
        from transferkit.backbones.shipped import save_model, save_multitask

        folder, card = self._model_dir(key), {"journal_key": key}
        if hasattr(model, "trunk") and hasattr(model, "heads") and hasattr(model, "specs"):
            tasks = {n: {"task": sp.kind, "num_outputs": sp.num_outputs, "class_names": None}
                     for n, sp in model.specs.items()}
            save_multitask(folder, model.trunk, dict(model.heads.items()), tasks, card)
        elif hasattr(model, "get_params"):
            from transferkit.experiments.estimator_folder import save_estimator

            save_estimator(folder, model, card)
        else:
            save_model(folder, model, card)

    def model(self, key: str) -> Any:
        """The model stored under ``key``, verified (None when there is none).

        A network comes back as a :class:`TransferModel` that keeps its original backbone spec, an
        estimator as the estimator, a multi-task model as ``(trunk, heads)`` (the caller rebuilds it).
        """
        from transferkit.backbones.shipped import (
            CARD_FILE,
            load_model_folder,
            load_multitask_folder,
            model_format,
            read_model_card,
        )

        folder = self._model_dir(key)
        if not (folder / CARD_FILE).is_file():
            return None
        fmt = model_format(read_model_card(folder))
        if fmt == "multitask":
            trunk, heads, _ = load_multitask_folder(folder)
            return trunk, heads
        if fmt == "estimator":
            from transferkit.experiments.estimator_folder import load_estimator_folder

            return load_estimator_folder(folder)[0]
        model, card = load_model_folder(folder)
        model.origin = card.get("backbone")  # the spec and fingerprint the model had when it was fitted
        return model


__all__ = ["FOLDER", "ResumeError", "RunJournal", "check_resume_seed"]
