"""Shipped models: a fitted :class:`TransferModel` in a folder, verified on load; ``model:PATH`` backbones.

A model folder (what every ``transferkit fit`` run writes to ``RUN/model/``, and ``--save DIR``) holds:

* ``model.safetensors``: the backbone weights (keys ``backbone.*``, standardisation buffers included)
  and the head (keys ``head.*``); LoRA adapters are merged into the weights they adapt;
* ``model_card.json``: the model card (architecture to rebuild, preprocessing, label names in order,
  task, input description, how it was chosen and scored, data fingerprints, command, versions) and
  the SHA-256 of every other file in the folder;
* ``MODEL_CARD.md``: the same card for people;
* ``encoder/`` (text models only): the encoder's ``config.json`` and tokenizer files, so the folder
  loads with no network and no package holding the original weights.

Loading checks what the zoo checks (:mod:`~transferkit.backbones.zoo`), and refuses with
:class:`~transferkit.errors.BackboneError`: every file's SHA-256 against the card; the weights' tensor
names and shapes against the architecture and head on the card; and a fingerprint over the card's
identity fields (architecture, head, task, label names, preprocessing) and every tensor, recorded at
save time, so an edited card (a reordered label list, another image size) is caught as surely as an
edited weights file. Weights are read with ``safetensors`` only; no pickle is ever loaded.

``model:PATH`` makes a shipped model's backbone the starting point of the next transfer (its head is
kept as the source classifier, like a zoo entry's, so label-based scores and ``source_probs`` work).
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from transferkit._io import atomic_write_text, temp_path, to_jsonable, versions
from transferkit.backbones._catalog import PROVIDERS
from transferkit.backbones._info import BACKBONES
from transferkit.backbones.base import Backbone
from transferkit.backbones.model import TransferModel
from transferkit.backbones.zoo import WEIGHT_DISTS, ZooBackbone, _load_strict, sha256_file
from transferkit.errors import BackboneError, BackboneSpecError

MODEL_SCHEMA = "transferkit.model-card/1"
CARD_FILE = "model_card.json"
README_FILE = "MODEL_CARD.md"
WEIGHTS_FILE = "model.safetensors"
ENCODER_DIR = "encoder"
IDENTITY_KEYS = ("architecture", "head", "task", "num_outputs", "class_names", "preprocessing")
REQUIRED_KEYS = ("schema", *IDENTITY_KEYS, "files", "model_fingerprint")
# what each model format's card must hold besides schema, files and fingerprint (the identity fields); a
# card without ``format`` is a network (folders written before there were other formats)
FORMAT_KEYS: dict[str, tuple[str, ...]] = {
    "network": IDENTITY_KEYS,
    "multitask": ("architecture", "heads", "tasks", "preprocessing"),
    "estimator": ("estimator", "task", "num_outputs", "class_names"),
}
OPTIONAL_IDENTITY = ("format", "input_transform")


# --------------------------------------------------------------------------- heads
def describe_head(head: nn.Module) -> dict[str, Any]:
    """A head as JSON: linear layers, activations and dropout, nested in sequences (enough to rebuild it)."""
    if isinstance(head, nn.Linear):
        return {"type": "linear", "in_features": head.in_features, "out_features": head.out_features,
                "bias": head.bias is not None}
    if isinstance(head, nn.Sequential):
        return {"type": "sequential", "layers": [describe_head(m) for m in head]}
    for kind, cls in _ACTIVATIONS.items():
        if type(head) is cls:
            return {"type": kind}
    if isinstance(head, nn.Dropout):
        return {"type": "dropout", "p": float(head.p)}
    raise BackboneError(f"cannot ship a head of type {type(head).__name__}: shipped heads are linear layers, "
                        "activations and dropout in sequences")


_ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "identity": nn.Identity}


def build_head(d: Any) -> nn.Module:
    """The inverse of :func:`describe_head`."""
    if not isinstance(d, dict) or "type" not in d:
        raise BackboneError(f"the card's head description {d!r} is not valid")
    kind = d["type"]
    try:
        if kind == "linear":
            return nn.Linear(int(d["in_features"]), int(d["out_features"]), bias=bool(d.get("bias", True)))
        if kind == "sequential":
            return nn.Sequential(*(build_head(x) for x in d["layers"]))
        if kind == "dropout":
            return nn.Dropout(float(d["p"]))
        if kind in _ACTIVATIONS:
            return _ACTIVATIONS[kind]()
    except (KeyError, TypeError, ValueError) as exc:
        raise BackboneError(f"the card's head description {d!r} is not valid: {exc}") from None
    raise BackboneError(f"the card's head has an unknown layer type {kind!r}")


# --------------------------------------------------------------------------- architecture
def inner_backbone(backbone: Backbone) -> Backbone:
    """The architecture under a zoo or shipped wrapper (whose weights are the same tensors)."""
    while isinstance(backbone, ZooBackbone):
        backbone = backbone.net
    return backbone


def merged_lora(module: nn.Module) -> nn.Module:
    """A copy of ``module`` with LoRA adapters merged into the layers they adapt (``module`` itself without any)."""
    if not any("lora_" in n for n, _ in module.named_parameters()):
        return module
    module = copy.deepcopy(module)
    for name, m in list(module.named_modules()):
        if hasattr(m, "base_layer") and hasattr(m, "merge"):
            m.merge()
            parent_name, _, child = name.rpartition(".")
            setattr(module.get_submodule(parent_name) if parent_name else module, child, m.base_layer)
    return module


def _architecture(bb: Backbone, folder: Path) -> dict[str, Any]:
    """How to rebuild ``bb`` before loading its weights (text encoders: config + tokenizer into ``encoder/``)."""
    from transferkit.backbones.hf_text import HFTextBackbone

    if isinstance(bb, HFTextBackbone):
        enc = folder / ENCODER_DIR
        enc.mkdir(parents=True, exist_ok=True)
        bb.model.config.save_pretrained(str(enc))
        bb.tokenizer.save_pretrained(str(enc))
        return {"provider": "hf-encoder", "spec": bb.spec, "folder": ENCODER_DIR, "name": bb.name,
                "max_length": bb.max_length, "normalize": bb.normalize, "input_kind": bb.input_kind,
                "num_features": int(bb.num_features)}
    cfg = dict(bb.config())
    spec = str(cfg.pop("spec", bb.spec))
    provider = spec.split("?")[0].split(":")[0].lower()
    if provider not in BACKBONES or provider in ("zoo", "model"):
        raise BackboneError(f"cannot ship a backbone built by {spec!r}: its architecture cannot be rebuilt")
    return {"provider": provider, "spec": spec.split("?")[0], "config": cfg, "input_kind": bb.input_kind,
            "num_features": int(bb.num_features)}


def _rebuild(arch: dict[str, Any], folder: Path, preprocessing: dict[str, Any]) -> Backbone:
    from transferkit.backbones import create_backbone

    if not isinstance(arch, dict) or "provider" not in arch:
        raise BackboneError(f"{folder / CARD_FILE}: the card's architecture must name a provider")
    if arch["provider"] == "hf-encoder":
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        from transferkit.backbones.hf_text import HFTextBackbone

        enc = folder / str(arch.get("folder", ENCODER_DIR))
        if Path(str(arch.get("folder", ENCODER_DIR))).name != str(arch.get("folder", ENCODER_DIR)):
            raise BackboneError(f"{folder / CARD_FILE}: the encoder folder must sit in the model folder")
        try:
            cfg = AutoConfig.from_pretrained(str(enc), local_files_only=True)
            model = AutoModel.from_config(cfg)
            tok = AutoTokenizer.from_pretrained(str(enc), local_files_only=True)
        except Exception as exc:  # a missing or broken encoder folder: say which
            raise BackboneError(f"cannot rebuild the text encoder from {enc}: {type(exc).__name__}: {exc}") from None
        model.eval()
        return HFTextBackbone(str(arch.get("name", "encoder")), model, tok, int(arch.get("max_length", 128)),
                              bool(arch.get("normalize", False)), spec=str(arch.get("spec", "hf")))
    provider, spec = str(arch["provider"]), str(arch.get("spec", arch["provider"]))
    if provider in ("zoo", "model") or provider not in BACKBONES:
        raise BackboneError(f"{folder / CARD_FILE}: architecture {spec!r} is not a provider this version knows")
    kwargs = {k: v for k, v in dict(arch.get("config") or {}).items() if k != "weights"}
    if provider in ("timm", "torchvision"):
        kwargs["pretrained"] = "false"  # the weights come from the model folder, never from a download
        size = preprocessing.get("size")
        if provider == "timm" and isinstance(size, list) and size:
            kwargs["image_size"] = int(size[0])
    try:
        bb = create_backbone(spec, **kwargs)
    except BackboneError as exc:
        raise BackboneError(f"{folder}: cannot rebuild architecture {spec!r} from its card: {exc}") from None
    if bb.input_kind != arch.get("input_kind", bb.input_kind):
        raise BackboneError(f"{folder / CARD_FILE}: the card says {arch.get('input_kind')} inputs but {spec!r} "
                            f"reads {bb.input_kind}")
    return bb


def model_fingerprint(identity: dict[str, Any], tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 over the card's identity fields (as JSON) and every tensor's name, dtype, shape and bytes."""
    h = hashlib.sha256(json.dumps(to_jsonable(identity), sort_keys=True).encode())
    for name, t in sorted(tensors.items()):
        t = t.detach().cpu().contiguous()
        h.update(name.encode() + str(t.dtype).encode() + str(tuple(t.shape)).encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


# --------------------------------------------------------------------------- save
def write_model_folder(folder: str | os.PathLike[str], identity: dict[str, Any], tensors: dict[str, torch.Tensor],
                       card: dict[str, Any] | None = None, *, backbone: dict[str, Any] | None = None,
                       extra_files: list[Path] | None = None) -> dict[str, Any]:
    """Write ``tensors`` and the card of any model format into ``folder``; returns the card.

    ``identity``: the fields that define what the tensors compute (covered by the fingerprint);
    ``card``: documentation fields; ``extra_files``: files already written in the folder that the
    card must checksum (a text encoder's config and tokenizer). The weights go through a temporary
    name and a rename, then the card: a crash never leaves a card that matches half-written weights.
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(folder / WEIGHTS_FILE)  # unique per writer (two saves of one folder never share it)
    try:
        save_file(tensors, str(tmp), metadata={"format": "transferkit-model"})
        tmp.replace(folder / WEIGHTS_FILE)
    finally:
        tmp.unlink(missing_ok=True)
    written = [folder / WEIGHTS_FILE, *(extra_files or [])]
    files = {p.relative_to(folder).as_posix(): sha256_file(p) for p in written}
    out: dict[str, Any] = {"schema": MODEL_SCHEMA, "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                           **identity, **({"backbone": backbone} if backbone is not None else {}),
                           "versions": versions(WEIGHT_DISTS, with_platform=False)}
    for k, v in (card or {}).items():
        if k in (*REQUIRED_KEYS, *identity, "backbone", "format"):
            raise BackboneError(f"card field {k!r} is set from the model itself")
        out[k] = v
    out["weights"] = {"file": WEIGHTS_FILE, "sha256": files[WEIGHTS_FILE], "bytes": (folder / WEIGHTS_FILE).stat().st_size}
    out["files"] = files
    out["model_fingerprint"] = model_fingerprint(identity, tensors)
    out = to_jsonable(out)
    atomic_write_text(folder / CARD_FILE, json.dumps(out, indent=2, allow_nan=False) + "\n")
    atomic_write_text(folder / README_FILE, card_markdown(out))
    return out


def _backbone_tensors(bb: Backbone, prefix: str = "backbone.") -> dict[str, torch.Tensor]:
    return {f"{prefix}{k}": v.detach().cpu().contiguous().clone() for k, v in bb.state_dict().items()}


def _encoder_files(folder: Path, arch: dict[str, Any]) -> list[Path]:
    if arch.get("provider") != "hf-encoder":
        return []
    return sorted(p for p in (folder / ENCODER_DIR).rglob("*") if p.is_file())


def save_model(folder: str | os.PathLike[str], model: TransferModel, card: dict[str, Any] | None = None,
               input_transform: InputTransform | None = None) -> dict[str, Any]:
    """Write ``model`` into ``folder`` (weights, ``model_card.json``, ``MODEL_CARD.md``); returns the card.

    ``card`` adds documentation fields (how the model was chosen, its scores, data, command...);
    the identity fields (architecture, head, labels, preprocessing), the checksums and the
    fingerprint come from the model itself. ``input_transform``: a fixed transform applied to raw
    inputs before the backbone's own preprocessing (a subject's signal normalisation), stored with
    the weights and covered by the fingerprint. Files are written to temporary names and renamed, so a
    crash never leaves a folder whose card matches half-written weights.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    bb = inner_backbone(model.backbone)
    bb = merged_lora(bb)  # type: ignore[assignment]
    head = model.head
    identity: dict[str, Any] = {
        "format": "network", "architecture": _architecture(bb, folder), "head": describe_head(head),
        "task": model.task, "num_outputs": int(model.num_outputs),
        "class_names": list(model.class_names) if model.class_names is not None else None,
        "preprocessing": bb.preprocess_config(),
    }
    tensors = _backbone_tensors(bb)
    tensors.update({f"head.{k}": v.detach().cpu().contiguous().clone() for k, v in head.state_dict().items()})
    transform = input_transform or getattr(model, "input_transform", None)
    if transform is not None:
        identity["input_transform"] = transform.describe()
        tensors.update({f"input.{k}": torch.from_numpy(np.ascontiguousarray(v)) for k, v in transform.arrays.items()})
    # the backbone as it was fitted (a model read back from a run's journal keeps its origin)
    origin = getattr(model, "origin", None) or {"spec": model.backbone.spec, "fingerprint": model.backbone.fingerprint()}
    return write_model_folder(folder, identity, tensors, card, backbone=origin,
                              extra_files=_encoder_files(folder, identity["architecture"]))


def save_multitask(folder: str | os.PathLike[str], trunk: Backbone, heads: dict[str, nn.Module],
                   tasks: dict[str, dict[str, Any]], card: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write a shared ``trunk`` with one head per task into ``folder`` (format ``multitask``); returns the card.

    ``tasks``: per task name, ``task`` (classification / regression), ``num_outputs`` and
    ``class_names``. The trunk's weights are stored once (``backbone.*``), each head under
    ``head.<task>.*``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    bb = merged_lora(inner_backbone(trunk))  # type: ignore[assignment]
    identity: dict[str, Any] = {
        "format": "multitask", "architecture": _architecture(bb, folder),
        "heads": {n: describe_head(h) for n, h in heads.items()},
        "tasks": {n: {"task": str(t["task"]), "num_outputs": int(t["num_outputs"]),
                      "class_names": list(t["class_names"]) if t.get("class_names") is not None else None}
                  for n, t in tasks.items()},
        "preprocessing": bb.preprocess_config(),
    }
    if set(identity["heads"]) != set(identity["tasks"]):
        raise BackboneError(f"heads {sorted(heads)} and tasks {sorted(tasks)} differ")
    tensors = _backbone_tensors(bb)
    for n, h in heads.items():
        tensors.update({f"head.{n}.{k}": v.detach().cpu().contiguous().clone() for k, v in h.state_dict().items()})
    origin = {"spec": trunk.spec, "fingerprint": trunk.fingerprint()}
    return write_model_folder(folder, identity, tensors, card, backbone=origin,
                              extra_files=_encoder_files(folder, identity["architecture"]))


# --------------------------------------------------------------------------- input transforms
class InputTransform:
    """A fixed transform of raw inputs applied before the backbone's preprocessing, stored in the model folder.

    ``signal_norm``: one subject's normalisation of signals ``(N, C, T)`` (``method`` channel, ea or
    channel+ea), with the statistics of that subject's own windows: per-channel ``mean`` and
    ``scale`` (standardisation) and the whitening ``matrix`` (Euclidean alignment). Applied in the
    same order and precision as :func:`transferkit.data.signal_transforms.normalize_signals`, so
    predictions on the subject's raw windows equal those made during the run.
    """

    KINDS = ("signal_norm",)

    def __init__(self, kind: str, method: str, arrays: dict[str, np.ndarray], info: dict[str, Any] | None = None):
        if kind not in self.KINDS:
            raise BackboneError(f"unknown input transform {kind!r}; this version knows {list(self.KINDS)}")
        self.kind, self.method, self.info = kind, method, dict(info or {})
        self.arrays = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
        need = {"channel": {"mean", "scale"}, "ea": {"matrix"}, "channel+ea": {"mean", "scale", "matrix"}}.get(method)
        if need is None or not need <= set(self.arrays):
            raise BackboneError(f"input transform {method!r} needs {sorted(need or [])}, got {sorted(self.arrays)}")

    def describe(self) -> dict[str, Any]:
        """The card's ``input_transform`` field."""
        return {"type": self.kind, "method": self.method, **self.info}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Raw signals ``(N, C, T)`` -> normalised float32 signals."""
        out = np.asarray(x, dtype=np.float32)
        if out.ndim != 3 or out.shape[1] != len(next(iter(self.arrays.values()))):
            raise BackboneError(f"this model normalises signals of {len(next(iter(self.arrays.values())))} channels "
                                f"(N, C, T); got shape {out.shape}")
        if self.method in ("channel", "channel+ea"):
            mean, scale = self.arrays["mean"][None, :, None], self.arrays["scale"][None, :, None]
            out = ((out.astype(np.float64) - mean) / scale).astype(np.float32)
        if self.method in ("ea", "channel+ea"):
            out = np.einsum("cd,ndt->nct", self.arrays["matrix"], out.astype(np.float64)).astype(np.float32)
        return out

    @classmethod
    def from_card(cls, d: Any, tensors: dict[str, torch.Tensor], folder: Path) -> InputTransform:
        """Rebuild from the card's field and the ``input.*`` tensors."""
        if not isinstance(d, dict) or "type" not in d or "method" not in d:
            raise BackboneError(f"{folder / CARD_FILE}: the card's input_transform {d!r} is not valid")
        arrays = {k[len("input."):]: v.numpy() for k, v in tensors.items() if k.startswith("input.")}
        info = {k: v for k, v in d.items() if k not in ("type", "method")}
        return cls(str(d["type"]), str(d["method"]), arrays, info)


def card_markdown(card: dict[str, Any]) -> str:
    """The model card for people (``MODEL_CARD.md``), from the JSON card."""
    ship, metric = card.get("shipped") or {}, card.get("metric") or {}
    lines = [f"# Model card: {card.get('name') or 'transferkit model'}", ""]
    if card.get("summary"):
        lines += [str(card["summary"]), ""]
    lines += ["## What it is", "", *_what_lines(card)]
    if ship:
        lines += ["## Why this model", "", f"- {ship.get('headline', '')}", f"- Why: {ship.get('reason', '')}.",
                  f"- Arm: {ship.get('name')} (role {ship.get('role')}), seed {ship.get('seed')}"
                  + (f", budget {ship.get('budget_label')}" if ship.get("budget_label") else "")]
        if card.get("weights_choice"):
            lines.append(f"- Which weights: {card['weights_choice']}")
        lines.append("")
    if metric:
        t = metric.get("test") or {}
        lines += ["## How good it is", "",
                  f"- Test {metric.get('name')} of these weights: {_fmt(metric.get('test_seed'))}",
                  f"- Test {metric.get('name')} of the arm over seeds: {_fmt(t.get('mean'))} "
                  f"(95% CI {_fmt(t.get('ci_low'))} to {_fmt(t.get('ci_high'))})",
                  f"- Verdict ({metric.get('versus', 'transfer vs scratch')}): {metric.get('verdict')}; difference "
                  f"{_fmt(metric.get('diff'))} "
                  f"(95% CI {_fmt(metric.get('diff_ci_low'))} to {_fmt(metric.get('diff_ci_high'))})", ""]
    lines += _evidence_lines(card)
    data = card.get("data") or {}
    if data:
        lines += ["## Data", ""]
        lines += [f"- {role}: {d.get('name')} ({d.get('n')} examples, fingerprint `{d.get('fingerprint')}`)"
                  for role, d in data.items() if isinstance(d, dict)]
        lines.append("")
    if card.get("command"):
        lines += ["## Command", "", "```", str(card["command"]), "```", ""]
    lines += ["## Files and checks", "",
              f"- Weights: `{(card.get('weights') or {}).get('file')}`, SHA-256 "
              f"`{(card.get('weights') or {}).get('sha256')}`",
              f"- Model fingerprint: `{card.get('model_fingerprint')}`",
              "- Loading (`transferkit predict`, `tk.load_model`, `--backbone model:PATH`) re-checks every file's "
              "SHA-256 and this fingerprint, and refuses a folder that was changed.",
              f"- Versions: {', '.join(f'{k} {v}' for k, v in (card.get('versions') or {}).items())}", ""]
    return "\n".join(lines)


def _what_lines(card: dict[str, Any]) -> list[str]:
    """The card's "What it is" lines, after the model's format."""
    arch, bb, fmt = card.get("architecture") or {}, card.get("backbone") or {}, model_format(card)
    inp = card.get("input") or {}
    lines = [f"- Input: {inp.get('kind', arch.get('input_kind'))}" + (f", shape {inp.get('shape')}" if inp.get("shape")
                                                                       else "")]
    if fmt == "estimator":
        est = card.get("estimator") or {}
        base = ((est.get("params") or {}).get("base_estimator") or {}).get("estimator") or {}
        names = card.get("class_names")
        lines = [f"- Task: {card.get('task')} with {card.get('num_outputs')} output(s)"
                 + (f"; labels in output order: {', '.join(map(str, names))}" if names else ""), *lines,
                 f"- Model: `{est.get('class')}`, a fitted estimator stored as arrays and JSON (no pickle)"
                 + (f", classifier `{base.get('class')}`" if base else "")]
        return [*lines, ""]
    if fmt == "multitask":
        lines.insert(0, "- Tasks (one head each, `transferkit predict MODEL DATA --task NAME`): " + "; ".join(
            f"{n} ({t.get('task')}, {t.get('num_outputs')} output(s)"
            + (f": {', '.join(map(str, t['class_names']))}" if t.get("class_names") else "") + ")"
            for n, t in (card.get("tasks") or {}).items()))
    else:
        names = card.get("class_names")
        lines.insert(0, f"- Task: {card.get('task')} with {card.get('num_outputs')} output(s)"
                     + (f"; labels in output order: {', '.join(map(str, names))}" if names else ""))
    lines += [f"- Backbone: `{bb.get('spec')}` (architecture `{arch.get('spec')}`, {arch.get('num_features')} "
              f"features); fingerprint of the shipped backbone `{str(bb.get('fingerprint'))[:16]}`",
              f"- Preprocessing: `{json.dumps(card.get('preprocessing'))}`"]
    if card.get("input_transform"):
        lines.append(f"- Input transform, applied to raw inputs first: `{json.dumps(card['input_transform'])}`")
    if fmt == "network":
        lines.append(f"- Head: `{json.dumps(card.get('head'))}`")
    return [*lines, ""]


def _evidence_lines(card: dict[str, Any]) -> list[str]:
    """The selection evidence of an adapt run (label-free choices and their caveats), when the card has it."""
    sel = card.get("selection")
    if not isinstance(sel, dict):
        return []
    lines = ["## Selection evidence", "", f"- Verdict: {sel.get('verdict')}; recommended: {sel.get('recommended')}",
             f"- Advice: {sel.get('advice')}"]
    lines += [f"- Label-free score {k} chose {v}" for k, v in (sel.get("label_free_choice") or {}).items()]
    lines += [f"- Caveat of {k}: {v}" for k, v in (sel.get("caveats") or {}).items()]
    return [*lines, ""]


def _fmt(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else ("-" if v is None else str(v))


# --------------------------------------------------------------------------- load
def read_model_card(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The card of a model folder, checked for the required fields (not yet against the files)."""
    folder = Path(folder)
    path = folder / CARD_FILE
    if not folder.is_dir():
        raise BackboneSpecError(f"model folder {folder} not found: pass a folder written by `transferkit fit` "
                                "(RUN/model) or `--save DIR`")
    if path.exists() and not path.is_file():
        raise BackboneError(f"{path} is not a regular file (a folder, pipe or device): not a model card")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackboneError(f"{folder} is not a transferkit model folder (no {CARD_FILE})") from None
    except ValueError as exc:
        raise BackboneError(f"{path} is not valid JSON ({exc}): the folder was damaged; ship the model again") from None
    if not isinstance(card, dict):
        raise BackboneError(f"{path} must hold a JSON object")
    fmt = card.get("format", "network")
    if fmt not in FORMAT_KEYS:
        raise BackboneError(f"{path}: model format {fmt!r} is not one this version reads ({', '.join(FORMAT_KEYS)})")
    missing = [k for k in ("schema", *FORMAT_KEYS[fmt], "files", "model_fingerprint") if k not in card]
    if missing:
        raise BackboneError(f"{path} is not a transferkit model card: missing {', '.join(missing)}")
    if card["schema"] != MODEL_SCHEMA:
        raise BackboneError(f"{path}: card schema {card['schema']!r} is not {MODEL_SCHEMA!r}")
    return card


def verify_files(folder: Path, card: dict[str, Any]) -> None:
    """Every file the card lists exists in the folder and has the recorded SHA-256."""
    files = card.get("files")
    if not isinstance(files, dict) or WEIGHTS_FILE not in files:
        raise BackboneError(f"{folder / CARD_FILE}: the card lists no checksum for {WEIGHTS_FILE}")
    root = folder.resolve()
    for name, digest in files.items():
        p = (folder / name).resolve()
        if root not in p.parents:
            raise BackboneError(f"{folder / CARD_FILE}: file {name!r} lies outside the model folder")
        if not p.is_file():
            raise BackboneError(f"model folder {folder}: {name} is missing; ship the model again")
        got = sha256_file(p)
        if got != digest:
            raise BackboneError(
                f"model folder {folder}: {name} does not match its card (sha256 {got[:16]}... but the card says "
                f"{str(digest)[:16]}...). The file was changed or replaced after the model was saved: refusing "
                "to load it")


def model_format(card: dict[str, Any]) -> str:
    """``network`` (a backbone and a head), ``multitask`` (a trunk and a head per task) or ``estimator``."""
    return str(card.get("format", "network"))


def read_verified(folder: str | os.PathLike[str], fmt: str | None = None) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The card and tensors of a model folder, after every check (checksums, safetensors, fingerprint).

    ``fmt``: the format the caller reads; a folder of another format is refused by name.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    card = read_model_card(folder)
    if fmt is not None and model_format(card) != fmt:
        raise BackboneError(f"{folder} holds a {model_format(card)} model, not a {fmt} model"
                            + (": load it with tk.load_model (or `transferkit predict`)" if fmt == "network" else ""))
    verify_files(folder, card)
    try:
        tensors = load_file(str(folder / WEIGHTS_FILE))
    except (SafetensorError, OSError, ValueError) as exc:
        raise BackboneError(f"model folder {folder}: cannot read {WEIGHTS_FILE} as safetensors: {exc}") from None
    keys = [*FORMAT_KEYS[model_format(card)], *(k for k in OPTIONAL_IDENTITY if k in card)]
    if model_fingerprint({k: card[k] for k in keys}, tensors) != card["model_fingerprint"]:
        raise BackboneError(
            f"model folder {folder}: the card's architecture, head, labels or preprocessing with these weights do "
            "not give the fingerprint recorded when the model was saved; the card was edited. Refusing to load it")
    return card, tensors


def _rebuilt_trunk(folder: Path, card: dict[str, Any], tensors: dict[str, torch.Tensor]) -> Backbone:
    bb = _rebuild(card["architecture"], folder, dict(card.get("preprocessing") or {}))
    _load_strict(bb, {k[len("backbone."):]: v for k, v in tensors.items() if k.startswith("backbone.")},
                 str(folder), "backbone")
    if to_jsonable(bb.preprocess_config()) != to_jsonable(card["preprocessing"]):
        raise BackboneError(f"model folder {folder}: the rebuilt backbone's preprocessing {bb.preprocess_config()} "
                            f"differs from the card's {card['preprocessing']}: this version cannot rebuild it faithfully")
    return bb


def load_model_folder(folder: str | os.PathLike[str]) -> tuple[TransferModel, dict[str, Any]]:
    """Load and verify a model folder (checksums, architecture, fingerprint); returns the model and its card.

    A model with an input transform (:class:`InputTransform`) carries it as ``model.input_transform``.
    """
    folder = Path(folder)
    card, tensors = read_verified(folder, "network")
    bb = _rebuilt_trunk(folder, card, tensors)
    head = build_head(card["head"])
    _load_strict(head, {k[len("head."):]: v for k, v in tensors.items() if k.startswith("head.")}, str(folder), "head")
    names = card.get("class_names")
    model = TransferModel(bb, int(card["num_outputs"]), head=head, task=str(card["task"]),
                          class_names=tuple(names) if names is not None else None)
    if "input_transform" in card:
        model.input_transform = InputTransform.from_card(card["input_transform"], tensors, folder)
    model.eval()
    return model, card


def load_multitask_folder(folder: str | os.PathLike[str]) -> tuple[Backbone, dict[str, nn.Module], dict[str, Any]]:
    """Load and verify a ``multitask`` model folder: the trunk, one head per task (by name), and the card."""
    folder = Path(folder)
    card, tensors = read_verified(folder, "multitask")
    bb = _rebuilt_trunk(folder, card, tensors)
    heads: dict[str, nn.Module] = {}
    for name, d in dict(card["heads"]).items():
        head = build_head(d)
        prefix = f"head.{name}."
        _load_strict(head, {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}, str(folder),
                     f"head {name}")
        heads[name] = head.eval()
    bb.eval()
    return bb, heads, card


# --------------------------------------------------------------------------- model:PATH
class ShippedBackbone(ZooBackbone):
    """The backbone of a shipped model, with its head kept as the source classifier (like a zoo entry)."""

    def __init__(self, model: TransferModel, card: dict[str, Any], path: str, refit_preprocessing: bool = False) -> None:
        view = {"name": Path(path).name, "weights": card["weights"], "objective": "shipped model",
                "labels": {"class_names": list(card["class_names"])} if card.get("class_names") else None,
                "head": {"num_outputs": int(card["num_outputs"])}}
        super().__init__(model.backbone, view, model.head if card.get("task") == "classification" else None,
                         refit_preprocessing)
        self.spec = f"model:{path}"
        self.model_card = card

    def preprocess_config(self) -> dict[str, Any]:
        """The architecture's preprocessing, marked as coming from the shipped model."""
        return {"model": self.model_card["model_fingerprint"][:16], **self.net.preprocess_config()}

    def config(self) -> dict[str, Any]:
        """Spec, architecture and the shipped model's fingerprint."""
        return {"spec": self.spec, "architecture": self.net.config(),
                "model_fingerprint": self.model_card["model_fingerprint"]}


@BACKBONES.register("model", info=PROVIDERS["model"])
def shipped_backbone(name: str | None = None, refit_preprocessing: Any = False) -> Backbone:
    """``model:PATH[?refit_preprocessing=1]``: a verified shipped model's backbone (its head as source classifier)."""
    if not name:
        raise BackboneError("model: needs a model folder, e.g. model:runs/20260101-120000-fit/model")
    model, card = load_model_folder(name)
    refit = str(refit_preprocessing).lower() in ("1", "true", "yes")
    return ShippedBackbone(model, card, name, refit)


__all__ = [
    "CARD_FILE",
    "FORMAT_KEYS",
    "MODEL_SCHEMA",
    "README_FILE",
    "WEIGHTS_FILE",
    "InputTransform",
    "ShippedBackbone",
    "build_head",
    "card_markdown",
    "describe_head",
    "inner_backbone",
    "load_model_folder",
    "load_multitask_folder",
    "merged_lora",
    "model_fingerprint",
    "model_format",
    "read_model_card",
    "read_verified",
    "save_model",
    "save_multitask",
    "verify_files",
    "write_model_folder",
]
