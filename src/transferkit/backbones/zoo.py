"""``zoo:<name>``: backbones this project pre-trained itself, loaded from a zoo folder.

A zoo entry is a folder ``<zoo>/<name>/`` with two files:

* ``model.safetensors``: the backbone weights (keys ``backbone.*``, including table/signal
  standardisation buffers) and, for supervised entries, the source classifier (keys ``head.*``);
* ``card.json``: the model card (architecture, preprocessing, source data set and its fingerprint,
  label names, training settings, source metrics, library versions, SHA-256 of the weights file).

Entries are looked up in, in order: ``?dir=FOLDER`` in the spec, the folders listed in
``$TRANSFERKIT_ZOO`` (``os.pathsep``-separated; ``transferkit ... --zoo DIR`` sets it), and the
starter zoo shipped inside the package (``transferkit/zoo``). ``zoo:PATH/TO/ENTRY`` loads a folder
directly.

Loading checks, and refuses with :class:`~transferkit.errors.BackboneError`: the weights file's
SHA-256 against the card, the card's name against its folder, the weights' tensor names and shapes
against the architecture the card describes, and the rebuilt backbone's fingerprint against the
one recorded at save time (so an edited card, e.g. a different image size, is caught too).
Weights are read with ``safetensors`` only; no pickle is ever loaded.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from transferkit._io import atomic_write_text, remove_orphan_temps, temp_path, to_jsonable, versions
from transferkit.backbones._catalog import PROVIDERS
from transferkit.backbones._info import BACKBONES
from transferkit.backbones.base import Backbone, to_device
from transferkit.data.dataset import release_mapped_pages
from transferkit.errors import BackboneError, BackboneSpecError

CARD_SCHEMA = "transferkit.zoo-card/1"
CARD_FILE = "card.json"
WEIGHTS_FILE = "model.safetensors"
ENV_VAR = "TRANSFERKIT_ZOO"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
WEIGHT_DISTS = ("transferkit", "torch", "numpy", "safetensors", "accelerate", "scikit-learn")  # shape the weights
REQUIRED_CARD_KEYS = ("schema", "name", "architecture", "preprocessing", "source", "objective", "training", "metrics",
                      "versions", "weights", "backbone_fingerprint")


# --------------------------------------------------------------------------- where entries live
def builtin_zoo_dir() -> Path:
    """The starter zoo shipped inside the package."""
    return Path(__file__).resolve().parents[1] / "zoo"


def zoo_dirs(extra: str | os.PathLike[str] | list[str | os.PathLike[str]] | None = None) -> list[Path]:
    """Folders searched for entries: ``extra``, then ``$TRANSFERKIT_ZOO``, then the starter zoo."""
    out: list[Path] = []
    if extra is not None:
        out.extend(Path(p) for p in (extra if isinstance(extra, list) else [extra]))
    env = os.environ.get(ENV_VAR, "")
    out.extend(Path(p) for p in env.split(os.pathsep) if p.strip())
    out.append(builtin_zoo_dir())
    return out


def use_zoo_dir(folder: str | os.PathLike[str] | None) -> None:
    """Put ``folder`` first on ``$TRANSFERKIT_ZOO`` (what a command's ``--zoo DIR`` option does)."""
    if not folder:
        return
    rest = [p for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p.strip() and p != str(folder)]
    os.environ[ENV_VAR] = os.pathsep.join([str(folder), *rest])


def check_name(name: str) -> str:
    """A zoo name: lower-case letters, digits, ``.``, ``_``, ``-`` (it becomes a folder name)."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise BackboneSpecError(f"zoo entry name {name!r} is not valid: use lower-case letters, digits, '.', '_' "
                                "or '-' (at most 64 characters), e.g. mnist-cnn")
    return name


def find_entry(name: str, zoo: str | os.PathLike[str] | list[Any] | None = None) -> Path:
    """The folder of entry ``name`` (or ``name`` itself when it is a path to an entry folder)."""
    if not name:
        raise BackboneSpecError("zoo: needs an entry name, e.g. zoo:mnist-cnn (see `transferkit zoo` / list_zoo())")
    if "/" in name or os.sep in name:
        path = Path(name).expanduser()
        if (path / CARD_FILE).is_file():
            return path
        raise BackboneSpecError(f"{path} is not a zoo entry folder (it has no {CARD_FILE})")
    check_name(name)
    searched = zoo_dirs(zoo)
    for d in searched:
        if (d / name / CARD_FILE).is_file():
            return d / name
    known = sorted({e["name"] for e in list_zoo(zoo)})
    raise BackboneSpecError(f"no zoo entry {name!r} in {', '.join(str(d) for d in searched)}; known entries: "
                            f"{', '.join(known) or '(none)'}. Build one with `transferkit pretrain --name {name} ...` "
                            f"or point --zoo / ${ENV_VAR} at the folder that holds it")


def list_zoo(zoo: str | os.PathLike[str] | list[Any] | None = None) -> list[dict[str, Any]]:
    """One summary per entry found (first occurrence of a name wins, like lookup)."""
    seen: dict[str, dict[str, Any]] = {}
    for d in zoo_dirs(zoo):
        if not d.is_dir():
            continue
        for card_path in sorted(d.glob(f"*/{CARD_FILE}")):
            try:
                card = json.loads(card_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            name = card_path.parent.name
            if name in seen or not isinstance(card, dict):
                continue
            arch = card.get("architecture", {}) if isinstance(card.get("architecture"), dict) else {}
            src = card.get("source", {}) if isinstance(card.get("source"), dict) else {}
            seen[name] = {"name": name, "folder": str(card_path.parent), "input": arch.get("input_kind"),
                          "architecture": arch.get("provider"), "source": src.get("dataset"),
                          "objective": card.get("objective"), "metrics": card.get("metrics", {}),
                          "description": card.get("description", "")}
    return list(seen.values())


# --------------------------------------------------------------------------- files
def sha256_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_card(entry: str | os.PathLike[str]) -> dict[str, Any]:
    """The card of an entry folder, checked for the required fields (not yet for the weights)."""
    path = Path(entry) / CARD_FILE
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackboneError(f"{path} not found: a zoo entry needs {CARD_FILE} next to {WEIGHTS_FILE}") from None
    except ValueError as exc:
        raise BackboneError(
            f"{path} is not valid JSON ({exc}): rebuild the entry with `transferkit pretrain`") from None
    if not isinstance(card, dict):
        raise BackboneError(f"{path} must hold a JSON object")
    missing = [k for k in REQUIRED_CARD_KEYS if k not in card]
    if missing:
        raise BackboneError(f"{path} is not a transferkit model card: missing {', '.join(missing)}")
    if card["schema"] != CARD_SCHEMA:
        raise BackboneError(f"{path}: card schema {card['schema']!r} is not {CARD_SCHEMA!r}")
    if card["name"] != Path(entry).name:
        raise BackboneError(f"{path}: the card says it is {card['name']!r} but its folder is {Path(entry).name!r}; "
                            "a card must not be moved to another entry (rename the folder back or rebuild)")
    return card


def save_entry(folder: str | os.PathLike[str], backbone: Backbone, *, head: nn.Module | None = None,
               class_names: tuple[str, ...] | list[str] | None = None, card_fields: dict[str, Any] | None = None,
               overwrite: bool = True) -> dict[str, Any]:
    """Write ``model.safetensors`` + ``card.json`` for ``backbone`` (and its source ``head``) into ``folder``.

    The folder's name is the entry name. ``card_fields`` adds/overrides card fields (source,
    objective, training, metrics, description...). Returns the card. Files are written to
    temporary names and renamed, so a crash never leaves a half-written entry that looks complete.
    """
    folder = Path(folder)
    name = check_name(folder.name)
    if isinstance(backbone, ZooBackbone):
        backbone = backbone.net
    if (folder / CARD_FILE).exists() and not overwrite:
        raise BackboneSpecError(f"zoo entry {folder} already exists: pick another --name or allow overwriting")
    provider = str(backbone.config().get("spec", backbone.spec)).split("?")[0]
    if provider.startswith("zoo"):
        raise BackboneError("cannot save a zoo backbone as the architecture of another entry")
    tensors = {f"backbone.{k}": v.detach().cpu().contiguous() for k, v in backbone.state_dict().items()}
    head_info = None
    if head is not None:
        tensors.update({f"head.{k}": v.detach().cpu().contiguous() for k, v in head.state_dict().items()})
        head_info = _describe_head(head)
        if class_names is not None and head_info["num_outputs"] != len(class_names):
            raise BackboneError(f"the head has {head_info['num_outputs']} outputs but {len(class_names)} label names")
    folder.mkdir(parents=True, exist_ok=True)
    remove_orphan_temps(folder)  # temp files of a writer killed mid-save
    tmp = temp_path(folder / WEIGHTS_FILE)  # unique per writer; removed below if anything fails
    try:
        card = _write_weights(tmp, tensors, backbone, name, provider, class_names, head_info, card_fields)
        tmp.replace(folder / WEIGHTS_FILE)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    atomic_write_text(folder / CARD_FILE, json.dumps(card, indent=2, allow_nan=False) + "\n")
    return card


def _write_weights(tmp: Path, tensors: dict[str, torch.Tensor], backbone: Backbone, name: str, provider: str,
                   class_names: Any, head_info: Any, card_fields: dict[str, Any] | None) -> dict[str, Any]:
    """Save the weights to ``tmp`` and return the model card that describes them."""
    from safetensors.torch import save_file

    save_file(tensors, str(tmp), metadata={"format": "transferkit-zoo", "name": name})
    digest, size = sha256_file(tmp), tmp.stat().st_size
    card: dict[str, Any] = {
        "schema": CARD_SCHEMA, "name": name, "description": "",
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "architecture": {"provider": provider, "config": backbone.config(), "input_kind": backbone.input_kind,
                         "num_features": int(backbone.num_features)},
        "preprocessing": backbone.preprocess_config(), "source": {},
        "labels": {"class_names": list(class_names)} if class_names is not None else None, "head": head_info,
        "objective": "unknown", "training": {}, "metrics": {}, "versions": versions(WEIGHT_DISTS, with_platform=False),
        "weights": {"file": WEIGHTS_FILE, "sha256": digest, "bytes": size},
        "backbone_fingerprint": backbone.fingerprint()}
    for k, v in (card_fields or {}).items():
        if k in ("schema", "name", "weights", "backbone_fingerprint", "architecture", "preprocessing"):
            raise BackboneError(f"card field {k!r} is set from the model itself")
        card[k] = v
    return to_jsonable(card)


def _describe_head(head: nn.Module) -> dict[str, Any]:
    if isinstance(head, nn.Linear):
        return {"kind": "linear", "in_features": head.in_features, "num_outputs": head.out_features}
    linears = [m for m in head.modules() if isinstance(m, nn.Linear)]
    if isinstance(head, nn.Sequential) and len(linears) == 2:
        return {"kind": "mlp", "in_features": linears[0].in_features, "hidden": linears[0].out_features,
                "num_outputs": linears[1].out_features}
    raise BackboneError("zoo entries store linear or one-hidden-layer MLP heads (transferkit.training.make_head)")


def _build_head(info: dict[str, Any]) -> nn.Module:
    from transferkit.backbones.model import make_head

    try:
        return make_head(int(info["in_features"]), int(info["num_outputs"]), str(info["kind"]),
                         hidden=int(info.get("hidden", 128)))
    except (KeyError, TypeError, ValueError) as exc:
        raise BackboneError(f"the card's head description {info} is not valid: {exc}") from None


# --------------------------------------------------------------------------- the backbone
class ZooBackbone(Backbone):
    """A pre-trained backbone from the zoo: the card's architecture and preprocessing, its weights.

    The standardisation statistics of table/signal nets are source statistics stored with the
    weights; :meth:`fit_preprocessing` keeps them (the card's preprocessing) unless the backbone was
    created with ``refit_preprocessing=True``. :meth:`source_probs` gives the source classifier's
    softmax on a data set (used by LEEP/NCE ranking), or None for entries without a head.
    """

    def __init__(self, net: Backbone, card: dict[str, Any], head: nn.Module | None,
                 refit_preprocessing: bool = False) -> None:
        super().__init__()
        self.net = net
        self.input_kind = net.input_kind
        self.num_features = int(net.num_features)
        self.spec = f"zoo:{card['name']}"
        self.card = card
        self.refit_preprocessing = bool(refit_preprocessing)
        self.__dict__["source_head"] = head  # not a submodule: it never trains with the backbone

    @property
    def source_classes(self) -> tuple[str, ...] | None:
        """Label names of the source classifier (None without one)."""
        labels = self.card.get("labels")
        return tuple(labels["class_names"]) if isinstance(labels, dict) and labels.get("class_names") else None

    def prepare(self, batch: Any) -> Any:
        """The preprocessing recorded on the card (the architecture's own ``prepare``)."""
        return self.net.prepare(batch)

    def finish(self, inputs: Any) -> Any:
        """The architecture's own device-side step."""
        return self.net.finish(inputs)

    def forward_features(self, inputs: Any) -> torch.Tensor:
        """Inputs -> ``(N, num_features)``."""
        return self.net.forward_features(inputs)

    def layer_groups(self) -> list[nn.Module]:
        """The architecture's layer groups."""
        return self.net.layer_groups()

    def preprocess_config(self) -> dict[str, Any]:
        """The architecture's preprocessing, marked as coming from the zoo entry."""
        return {"zoo": self.card["name"], **self.net.preprocess_config()}

    def config(self) -> dict[str, Any]:
        """Spec, architecture and the weights checksum."""
        return {"spec": self.spec, "architecture": self.net.config(), "weights_sha256": self.card["weights"]["sha256"]}

    def fit_preprocessing(self, x: np.ndarray) -> None:
        """Keep the source statistics (default), or refit them when created with ``refit_preprocessing``."""
        if self.refit_preprocessing:
            self.net.fit_preprocessing(x)

    @torch.no_grad()
    def source_probs(self, data: Any, batch_size: int = 256) -> np.ndarray | None:
        """Source-classifier softmax ``(N, C_s)`` on ``data`` (Dataset or raw inputs); None without a head."""
        head = self.__dict__.get("source_head")
        if head is None:
            return None
        x = data.x if hasattr(data, "x") else data
        was = self.training
        self.eval()
        dev = self.device
        head.to(dev).eval()
        out = []
        try:
            for s in range(0, len(x), batch_size):
                feats = self.forward_features(to_device(self.prepare(np.array(x[s : s + batch_size])), dev))
                out.append(torch.softmax(head(feats).float(), dim=1).cpu().numpy())
                if (s // batch_size) % 64 == 63:  # inputs memory-mapped from a file: release what was read
                    release_mapped_pages(x)
        finally:
            self.train(was)
        return np.concatenate(out) if out else np.zeros((0, len(self.source_classes or ())), dtype=np.float32)


def load_entry(name: str, zoo: str | os.PathLike[str] | list[Any] | None = None, *,
               refit_preprocessing: bool = False) -> ZooBackbone:
    """Load and verify entry ``name`` (checksum, card, architecture, fingerprint); see the module doc."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = find_entry(name, zoo)
    card = read_card(folder)
    weights = folder / str(card["weights"].get("file", WEIGHTS_FILE))
    if Path(card["weights"].get("file", WEIGHTS_FILE)).name != card["weights"].get("file", WEIGHTS_FILE):
        raise BackboneError(f"{folder / CARD_FILE}: the weights file must sit in the entry folder")
    if not weights.is_file():
        raise BackboneError(f"zoo entry {card['name']!r}: weights file {weights} is missing; rebuild the entry")
    digest = sha256_file(weights)
    if digest != card["weights"].get("sha256"):
        raise BackboneError(
            f"zoo entry {card['name']!r}: the weights file {weights} does not match its card "
            f"(sha256 {digest[:16]}... but the card says {str(card['weights'].get('sha256'))[:16]}...). "
            "The file was changed or replaced "
            "after the card was written: refusing to load it. Rebuild the entry with `transferkit pretrain` "
            "(or the script named on its card)")
    try:
        tensors = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as exc:
        raise BackboneError(f"zoo entry {card['name']!r}: cannot read {weights} as safetensors: {exc}") from None
    net = _build_architecture(card)
    bb_state = {k[len("backbone.") :]: v for k, v in tensors.items() if k.startswith("backbone.")}
    _load_strict(net, bb_state, card["name"], "backbone")
    head = None
    if card.get("head"):
        head = _build_head(card["head"])
        _load_strict(head, {k[len("head.") :]: v for k, v in tensors.items() if k.startswith("head.")}, card["name"],
                     "head")
        head.eval()
    elif any(k.startswith("head.") for k in tensors):
        raise BackboneError(f"zoo entry {card['name']!r}: the weights hold a head but the card describes none")
    if net.fingerprint() != card["backbone_fingerprint"]:
        raise BackboneError(f"zoo entry {card['name']!r}: the card's architecture/preprocessing with these weights "
                            "does not give the fingerprint recorded when it was saved; the card was edited. "
                            "Refusing to load it: rebuild the entry")
    net.eval()
    return ZooBackbone(net, card, head, refit_preprocessing)


def _build_architecture(card: dict[str, Any]) -> Backbone:
    from transferkit.backbones import create_backbone

    arch = card["architecture"]
    if not isinstance(arch, dict) or not isinstance(arch.get("config"), dict):
        raise BackboneError(f"zoo entry {card['name']!r}: the card's architecture must give a config object")
    cfg = dict(arch["config"])
    spec = str(cfg.pop("spec", arch.get("provider", "")))
    provider = spec.split("?")[0].split(":")[0].lower()
    if provider == "zoo" or provider not in BACKBONES or not BACKBONES.info(provider).offline:
        raise BackboneError(f"zoo entry {card['name']!r}: architecture {spec!r} is not an offline built-in backbone")
    try:
        net = create_backbone(spec.split("?")[0], **cfg)
    except BackboneError as exc:
        raise BackboneError(
            f"zoo entry {card['name']!r}: cannot rebuild architecture {spec!r} from its card: {exc}") from None
    if net.input_kind != arch.get("input_kind", net.input_kind):
        raise BackboneError(f"zoo entry {card['name']!r}: the card says {arch.get('input_kind')} inputs but "
                            f"{spec!r} reads {net.input_kind}")
    return net


def _load_strict(module: nn.Module, state: dict[str, torch.Tensor], name: str, part: str) -> None:
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    shapes = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    if missing or extra or shapes:
        parts = (f"missing {missing[:3]}" if missing else "", f"unexpected {extra[:3]}" if extra else "",
                 f"shape differs for {shapes[:3]}" if shapes else "")
        detail = "; ".join(x for x in parts if x)
        raise BackboneError(f"zoo entry {name!r}: the {part} weights do not fit the architecture on its card "
                            f"({detail}); the card is not what the weights are. Rebuild the entry")
    module.load_state_dict(state, strict=True)


def load_zoo_model(name: str, zoo: str | os.PathLike[str] | list[Any] | None = None) -> Any:
    """A :class:`~transferkit.training.TransferModel` with the entry's backbone and its source head.

    Use it to keep the source classifier when the target has the same labels (or to fine-tune it).
    Entries without a head (self-supervised) raise :class:`BackboneError`.
    """
    from transferkit.backbones.model import TransferModel

    backbone = load_entry(name, zoo)
    head = backbone.__dict__.get("source_head")
    if head is None:
        raise BackboneError(f"zoo entry {name!r} has no source classifier ({backbone.card['objective']} "
                            "pre-training): build a TransferModel with a new head instead")
    return TransferModel(backbone, int(backbone.card["head"]["num_outputs"]), head=copy.deepcopy(head),
                         class_names=backbone.source_classes)


@BACKBONES.register("zoo", info=PROVIDERS["zoo"])
def zoo(name: str | None = None, dir: str | None = None, refit_preprocessing: Any = False) -> Backbone:  # noqa: A002
    """``zoo:<name>[?dir=FOLDER&refit_preprocessing=1]``: a verified zoo entry."""
    refit = str(refit_preprocessing).lower() in ("1", "true", "yes")
    return load_entry(name or "", dir, refit_preprocessing=refit)


__all__ = [
    "CARD_SCHEMA",
    "ENV_VAR",
    "ZooBackbone",
    "builtin_zoo_dir",
    "find_entry",
    "list_zoo",
    "load_entry",
    "load_zoo_model",
    "read_card",
    "save_entry",
    "sha256_file",
    "use_zoo_dir",
    "zoo_dirs",
]
