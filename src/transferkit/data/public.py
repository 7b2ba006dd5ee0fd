"""Named public data sets, read from the files as laid out under the data root.

Spec strings: ``NAME[:DOMAIN][@SPLIT]``, e.g. ``usps@test``, ``heart-disease:cleveland``,
``office-caltech10-surf:amazon``, ``uci-har:1-20``, ``mnist-usps-jda:usps``. ``SPLIT`` is ``train``,
``test`` or ``all`` (default) where the data set ships an official split.
"""

from __future__ import annotations

import gzip
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from transferkit._registry import Registry
from transferkit.data.dataset import Dataset, encode_labels
from transferkit.data.paths import dataset_dir
from transferkit.errors import DataArgumentError, DataError


@dataclass(frozen=True)
class DatasetInfo:
    """What a named data set is and where its files live."""

    kind: str
    folder: str | None  # None: embedded, needs no files
    files: tuple[str, ...]
    domains: tuple[str, ...]
    splits: tuple[str, ...]
    description: str


class Loader(Protocol):
    """A named-set loader: ``(root, domain, split) -> Dataset``."""

    def __call__(self, root: str | Path | None, domain: str | None, split: str) -> Dataset: ...


DATASETS: Registry[Loader] = Registry("data set", hint="see `transferkit datasets`")


# --------------------------------------------------------------------------- images
def _read_idx(path: Path, magic: int) -> np.ndarray:
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    got = int.from_bytes(raw[:4], "big")
    if got != magic:
        raise DataError(f"{path} is not an IDX file of the expected type (magic {got}, want {magic})")
    n = int.from_bytes(raw[4:8], "big")
    if magic == 2051:
        rows, cols = int.from_bytes(raw[8:12], "big"), int.from_bytes(raw[12:16], "big")
        return np.frombuffer(raw, np.uint8, offset=16).reshape(n, rows, cols)
    return np.frombuffer(raw, np.uint8, offset=8).reshape(n)


DIGIT_NAMES = tuple(str(i) for i in range(10))


@DATASETS.register("mnist", info=DatasetInfo(
    "image", "mnist", ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                       "t10k-labels-idx1-ubyte.gz"), (), ("train", "test", "all"),
    "MNIST digits, 60k train + 10k test, 28x28 grey (LeCun et al. 1998)"))
def load_mnist(root: str | Path | None = None, domain: str | None = None, split: str = "all") -> Dataset:
    """MNIST as ``(N, 1, 28, 28)`` float32 in [0, 1]."""
    info = DATASETS.info("mnist")
    base = dataset_dir("mnist", root, info.files)
    parts = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
             "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
    xs, ys = [], []
    for s in (("train", "test") if split == "all" else (split,)):
        xs.append(_read_idx(base / parts[s][0], 2051))
        ys.append(_read_idx(base / parts[s][1], 2049))
    x = np.concatenate(xs)[:, None].astype(np.float32) / 255.0
    y = np.concatenate(ys).astype(np.int64)
    return Dataset(x=x, y=y, kind="image", class_names=DIGIT_NAMES, name=f"mnist@{split}", domain="mnist",
                   meta={"folder": str(base)})


@DATASETS.register("usps", info=DatasetInfo(
    "image", "usps", ("zip.train.gz", "zip.test.gz"), (), ("train", "test", "all"),
    "USPS digits (ESL 'ZIP code'), 7291 train + 2007 test, 16x16 grey (Hull 1994)"))
def load_usps(root: str | Path | None = None, domain: str | None = None, split: str = "all") -> Dataset:
    """USPS as ``(N, 1, 16, 16)`` float32 in [0, 1] (rescaled from [-1, 1])."""
    base = dataset_dir("usps", root, DATASETS.info("usps").files)
    rows = []
    for s in (("train", "test") if split == "all" else (split,)):
        try:
            with gzip.open(base / f"zip.{s}.gz", "rt") as f:
                rows.append(np.loadtxt(f, dtype=np.float64))
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot parse {base / f'zip.{s}.gz'}: {exc}") from exc
    arr = np.concatenate(rows)
    if arr.ndim != 2 or arr.shape[1] != 257:
        raise DataError(f"USPS rows must have 257 values (label + 256 pixels), got shape {arr.shape}")
    x = ((arr[:, 1:] + 1.0) / 2.0).clip(0, 1).reshape(-1, 1, 16, 16).astype(np.float32)
    return Dataset(x=x, y=arr[:, 0].astype(np.int64), kind="image", class_names=DIGIT_NAMES, name=f"usps@{split}",
                   domain="usps", meta={"folder": str(base)})


BREAST_NAMES = ("malignant", "normal or benign")


@DATASETS.register("breastmnist", info=DatasetInfo(
    "image", "breastmnist", ("breastmnist.npz",), (), ("train", "val", "test", "all"),
    "BreastMNIST (MedMNIST v2): 780 breast ultrasound scans, 546 train / 78 val / 156 test, 28x28 grey, "
    "malignant vs normal-or-benign (Yang et al. 2023)"))
def load_breastmnist(root: str | Path | None = None, domain: str | None = None, split: str = "all") -> Dataset:
    """BreastMNIST as ``(N, 1, 28, 28)`` float32 in [0, 1], with the official train / val / test split."""
    path = dataset_dir("breastmnist", root, DATASETS.info("breastmnist").files) / "breastmnist.npz"
    xs, ys = [], []
    try:
        with np.load(path, allow_pickle=False) as z:
            for s in (("train", "val", "test") if split == "all" else (split,)):
                xs.append(np.asarray(z[f"{s}_images"]))
                ys.append(np.asarray(z[f"{s}_labels"]).reshape(-1))
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"cannot read {path} as the MedMNIST BreastMNIST file: {exc}") from exc
    x, y = np.concatenate(xs), np.concatenate(ys)
    if x.ndim != 3 or x.shape[1:] != (28, 28) or len(x) != len(y):
        raise DataError(f"{path}: expected (N, 28, 28) images with one label each, got {x.shape} and {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise DataError(f"{path}: labels must be 0 (malignant) or 1 (normal or benign)")
    return Dataset(x=x[:, None].astype(np.float32) / 255.0, y=y.astype(np.int64), kind="image",
                   class_names=BREAST_NAMES, name=f"breastmnist@{split}", domain="breastmnist",
                   meta={"folder": str(path.parent)})


@DATASETS.register("mnist-usps-jda", info=DatasetInfo(
    "image", "jda_mnist_usps", ("MNIST_vs_USPS.mat",), ("mnist", "usps"), ("all",),
    "JDA protocol: 2000 MNIST + 1800 USPS, 16x16 (Long et al. 2013)"))
def load_jda(root: str | Path | None = None, domain: str | None = None, split: str = "all") -> Dataset:
    """One domain (``mnist`` or ``usps``) of the JDA MNIST/USPS benchmark, ``(N, 1, 16, 16)``."""
    from scipy.io import loadmat

    if domain not in ("mnist", "usps"):
        raise DataArgumentError("mnist-usps-jda needs a domain: mnist-usps-jda:mnist or mnist-usps-jda:usps")
    base = dataset_dir("jda_mnist_usps", root, ("MNIST_vs_USPS.mat",))
    try:
        mat = loadmat(base / "MNIST_vs_USPS.mat")
    except (ValueError, OSError) as exc:
        raise DataError(f"cannot read {base / 'MNIST_vs_USPS.mat'}: {exc}") from exc
    key = "src" if domain == "mnist" else "tar"
    x = mat[f"X_{key}"].T.reshape(-1, 1, 16, 16).astype(np.float32)
    y = mat[f"Y_{key}"].ravel().astype(np.int64) - 1
    return Dataset(x=x, y=y, kind="image", class_names=DIGIT_NAMES, name=f"mnist-usps-jda:{domain}",
                   domain=domain, meta={"folder": str(base)})


# --------------------------------------------------------------------------- text
@DATASETS.register("sms-spam", info=DatasetInfo(
    "text", "sms_spam_collection", ("SMSSpamCollection",), (), ("all",),
    "SMS Spam Collection v.1: 5574 messages, ham/spam (Almeida et al. 2011)"))
def load_sms(root: str | Path | None = None, domain: str | None = None, split: str = "all") -> Dataset:
    """SMS messages as text, classes ``ham`` and ``spam``."""
    base = dataset_dir("sms_spam_collection", root, ("SMSSpamCollection",))
    texts, labels = [], []
    with open(base / "SMSSpamCollection", encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if "\t" not in line:
                raise DataError(f"SMSSpamCollection line {i} has no tab between label and text")
            lab, text = line.split("\t", 1)
            labels.append(lab)
            texts.append(text)
    y, names = encode_labels(labels, ("ham", "spam"))
    return Dataset(x=np.array(texts, dtype=object), y=y, kind="text", class_names=names, name="sms-spam",
                   meta={"folder": str(base)})


# --------------------------------------------------------------------------- tables
HEART_COLUMNS = ("age", "sex", "cp", "trestbps", "chol", "fbs", "restecg", "thalach", "exang", "oldpeak",
                 "slope", "ca", "thal")
HEART_HOSPITALS = ("cleveland", "hungarian", "switzerland", "va")
# columns where a value is missing ('?') in at least one hospital; cholesterol 0 means "not measured"
_HEART_MAY_MISS = ("trestbps", "chol", "fbs", "restecg", "thalach", "exang", "oldpeak", "slope", "ca", "thal")


def _read_heart_file(path: Path) -> np.ndarray:
    rows = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            vals = line.strip().split(",")
            if len(vals) != 14:
                raise DataError(f"{path} line {i}: expected 14 comma-separated values, got {len(vals)}")
            try:
                rows.append([np.nan if v == "?" else float(v) for v in vals])
            except ValueError as exc:
                raise DataError(f"{path} line {i}: {exc}") from exc
    return np.array(rows, dtype=np.float64)


@DATASETS.register("heart-disease", info=DatasetInfo(
    "table", "uci_heart_disease", tuple(f"processed.{h}.data" for h in HEART_HOSPITALS), HEART_HOSPITALS, ("all",),
    "UCI Heart Disease, 4 hospitals, disease present (num > 0) or not (Detrano et al. 1989)"))
def load_heart(root: str | Path | None = None, domain: str | None = None, split: str = "all") -> Dataset:
    """One hospital (or ``all``) as a table: 13 attributes + 10 missing-value indicators.

    Missing values (``?``, and cholesterol 0) are filled with the hospital's own median (no labels
    used; the pooled median where a hospital never measured a column) and flagged by an indicator
    column, so models can learn that a value was missing. Target: disease present (``num > 0``).
    """
    hospitals = HEART_HOSPITALS if domain in (None, "all") else tuple(domain.split(","))
    for h in hospitals:
        if h not in HEART_HOSPITALS:
            raise DataArgumentError(f"unknown hospital {h!r}; choose from {HEART_HOSPITALS} or all")
    base = dataset_dir("uci_heart_disease", root, tuple(f"processed.{h}.data" for h in hospitals))
    raw_all = {h: _read_heart_file(base / f"processed.{h}.data") for h in HEART_HOSPITALS
               if (base / f"processed.{h}.data").exists()}
    for arr in raw_all.values():
        chol = HEART_COLUMNS.index("chol")
        arr[arr[:, chol] == 0, chol] = np.nan
    pooled = np.concatenate([a[:, :13] for a in raw_all.values()])
    pooled_med = np.nanmedian(pooled, axis=0)
    xs, ys, gs = [], [], []
    miss_idx = [HEART_COLUMNS.index(c) for c in _HEART_MAY_MISS]
    for h in hospitals:
        arr = raw_all[h]
        feats = arr[:, :13].copy()
        missing = np.isnan(feats)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a column never measured here
            med = np.nanmedian(feats, axis=0) if len(feats) else pooled_med
        med = np.where(np.isnan(med), pooled_med, med)
        feats[missing] = np.take(med, np.nonzero(missing)[1])
        xs.append(np.concatenate([feats, missing[:, miss_idx].astype(np.float64)], axis=1))
        ys.append((arr[:, 13] > 0).astype(np.int64))
        gs.append(np.array([h] * len(arr), dtype=object))
    names = (*HEART_COLUMNS, *(f"{c}_missing" for c in _HEART_MAY_MISS))
    dom = hospitals[0] if len(hospitals) == 1 else "all"
    return Dataset(x=np.concatenate(xs).astype(np.float32), y=np.concatenate(ys), kind="table",
                   class_names=("no disease", "disease"), name=f"heart-disease:{dom}", domain=dom,
                   groups=np.concatenate(gs), feature_names=names, meta={"folder": str(base)})


OFFICE_DOMAINS = {"amazon": "amazon", "caltech": "Caltech10", "dslr": "dslr", "webcam": "webcam"}
OFFICE_ALIASES = {"a": "amazon", "c": "caltech", "caltech10": "caltech", "d": "dslr", "w": "webcam"}
OFFICE_CLASSES = ("back_pack", "bike", "calculator", "headphones", "keyboard", "laptop_computer", "monitor",
                  "mouse", "mug", "projector")


@DATASETS.register("office-caltech10-surf", info=DatasetInfo(
    "table", "office_caltech10_surf", tuple(f"{v}_SURF_L10.mat" for v in OFFICE_DOMAINS.values()),
    tuple(OFFICE_DOMAINS), ("all",),
    "Office-Caltech10, 800-bin SURF histograms, domains amazon/caltech/dslr/webcam (Gong et al. 2012)"))
def load_office(root: str | Path | None = None, domain: str | None = None, split: str = "all",
                normalize: bool = True) -> Dataset:
    """One Office-Caltech10 domain as an ``(N, 800)`` table.

    With ``normalize`` (default) each row is scaled to sum 1 and then z-scored within the domain, as
    the data set's readme recommends (no labels used).
    """
    from scipy.io import loadmat

    d = OFFICE_ALIASES.get((domain or "").lower(), (domain or "").lower())
    if d not in OFFICE_DOMAINS:
        raise DataArgumentError(f"office-caltech10-surf needs a domain from {tuple(OFFICE_DOMAINS)} "
                        "(e.g. office-caltech10-surf:amazon)")
    fname = f"{OFFICE_DOMAINS[d]}_SURF_L10.mat"
    base = dataset_dir("office_caltech10_surf", root, (fname,))
    try:
        mat = loadmat(base / fname)
    except (ValueError, OSError) as exc:
        raise DataError(f"cannot read {base / fname}: {exc}") from exc
    x = mat["fts"].astype(np.float64)
    if normalize:
        x = x / np.maximum(x.sum(axis=1, keepdims=True), 1e-12)
        sd = x.std(axis=0)
        x = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    y = mat["labels"].ravel().astype(np.int64) - 1
    return Dataset(x=x.astype(np.float32), y=y, kind="table", class_names=OFFICE_CLASSES,
                   name=f"office-caltech10-surf:{d}", domain=d, meta={"folder": str(base), "normalized": normalize})


# --------------------------------------------------------------------------- signals
def parse_subjects(spec: str) -> list[int]:
    """``"1-20"``, ``"5"``, ``"1,3,7-9"`` -> sorted subject ids."""
    out: set[int] = set()
    try:
        for part in spec.split(","):
            part = part.strip()
            if "-" in part:
                a, b = part.split("-", 1)
                out.update(range(int(a), int(b) + 1))
            elif part:
                out.add(int(part))
    except ValueError as exc:
        raise DataArgumentError(f"cannot parse subjects {spec!r}: use e.g. 1-20 or 1,3,5") from exc
    return sorted(out)


@DATASETS.register("uci-har", info=DatasetInfo(
    "signal", "uci_har_adatime", ("uci_har_inertial_by_subject.npz",), tuple(str(i) for i in range(1, 31)),
    ("train", "test", "all"),
    "UCI HAR raw inertial windows, 9 channels x 128, 6 activities, 30 subjects (Anguita et al. 2013)"))
def load_har(root: str | Path | None = None, domain: str | None = None, split: str = "all") -> Dataset:
    """UCI HAR windows ``(N, 9, 128)`` of the chosen subjects (domain ``1-20``, ``5``, ...).

    ``split`` selects AdaTime's within-subject train/test split (``all`` keeps both).
    """
    base = dataset_dir("uci_har_adatime", root, ("uci_har_inertial_by_subject.npz",))
    z = _load_har_npz(base / "uci_har_inertial_by_subject.npz")
    subjects = parse_subjects(domain) if domain else list(range(1, 31))
    bad = [s for s in subjects if s < 1 or s > 30]
    if bad:
        raise DataArgumentError(f"UCI HAR subjects are 1..30, got {bad}")
    mask = np.isin(z["subject"], subjects)
    if split != "all":
        mask &= z["adatime_split"] == (0 if split == "train" else 1)
    names = tuple(str(c) for c in z["class_names"])
    return Dataset(x=z["X"][mask].astype(np.float32), y=z["y"][mask].astype(np.int64), kind="signal",
                   class_names=names, name=f"uci-har:{domain or 'all'}", domain=domain or "all",
                   groups=z["subject"][mask].astype(np.int64),
                   feature_names=tuple(str(c) for c in z["channels"]), meta={"folder": str(base)})


_HAR_CACHE: dict[str, dict[str, np.ndarray]] = {}


def _load_har_npz(path: Path) -> dict[str, np.ndarray]:
    key = str(path.resolve())
    if key not in _HAR_CACHE:
        try:
            with np.load(path, allow_pickle=False) as z:
                _HAR_CACHE[key] = {k: z[k] for k in z.files}
        except (ValueError, OSError) as exc:
            raise DataError(f"cannot read {path}: {exc}") from exc
    return _HAR_CACHE[key]


# --------------------------------------------------------------------------- embedded
@DATASETS.register("digits", info=DatasetInfo(
    "image", None, (), (), ("all",), "scikit-learn digits: 1797 images, 8x8 grey, 10 classes (embedded)"))
def load_digits_ds(root: str | Path | None = None, domain: str | None = None, split: str = "all") -> Dataset:
    """scikit-learn's digits as ``(1797, 1, 8, 8)`` float32 in [0, 1]; needs no files."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return Dataset(x=(d.images / 16.0)[:, None].astype(np.float32), y=d.target.astype(np.int64), kind="image",
                   class_names=DIGIT_NAMES, name="digits", domain="digits")


@DATASETS.register("breast-cancer", info=DatasetInfo(
    "table", None, (), (), ("all",), "scikit-learn breast cancer (Wisconsin diagnostic): 569 x 30 (embedded)"))
def load_breast_cancer_ds(root: str | Path | None = None, domain: str | None = None, split: str = "all") -> Dataset:
    """scikit-learn's breast cancer table; needs no files."""
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()
    return Dataset(x=d.data.astype(np.float32), y=d.target.astype(np.int64), kind="table",
                   class_names=tuple(str(n) for n in d.target_names), name="breast-cancer",
                   feature_names=tuple(str(f) for f in d.feature_names))


def parse_spec(spec: str) -> tuple[str, str | None, str]:
    """``NAME[:DOMAIN][@SPLIT]`` -> (name, domain, split)."""
    split = "all"
    if "@" in spec:
        spec, split = spec.rsplit("@", 1)
    domain = None
    if ":" in spec:
        spec, domain = spec.split(":", 1)
    return spec, domain, split


def is_named(spec: str) -> bool:
    """Whether ``spec`` names a registered data set (rather than a path)."""
    return parse_spec(spec)[0] in DATASETS


def looks_named(spec: str) -> bool:
    """Whether ``spec`` reads as ``NAME[:DOMAIN][@SPLIT]`` rather than a path (no folder part, no file suffix)."""
    name = parse_spec(spec)[0]
    return bool(name) and not any(c in spec for c in "/\\") and not Path(name).suffix and not name.startswith(".")


def load_named(spec: str, root: str | Path | None = None, **kwargs: Any) -> Dataset:
    """Load a named data set from a spec string (see module docstring), its split and domain checked against its
    info record; an unknown name raises :class:`~transferkit.errors.UnknownName`."""
    name, domain, split = parse_spec(spec)
    entry = DATASETS.entry(name)
    if split not in entry.info.splits:
        raise DataArgumentError(f"{entry.name}: split must be one of {entry.info.splits}, got {split!r}")
    if domain and not entry.info.domains:
        raise DataArgumentError(f"{entry.name} has no domains (got {domain!r}); drop the ':{domain}' part")
    return entry.obj(root, domain, split, **kwargs)
