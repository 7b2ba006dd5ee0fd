"""The :class:`Dataset` record every reader returns and every later step consumes."""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from transferkit.errors import DataError

Kind = Literal["image", "text", "table", "signal"]
TaskKind = Literal["classification", "regression"]
KINDS: tuple[str, ...] = ("image", "text", "table", "signal")


def encode_labels(labels: Sequence[Hashable] | np.ndarray,
                  class_names: Sequence[str] | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map any hashable labels to contiguous indices ``0..K-1``.

    With ``class_names`` given, labels must be among them (an unknown class is an error);
    otherwise the sorted distinct labels become the class names.
    """
    if isinstance(labels, np.ndarray) and labels.dtype.kind in "iu":
        return _encode_integers(labels.ravel(), class_names)
    arr = np.asarray(labels, dtype=object).ravel()
    if arr.size and any(v is None or (isinstance(v, (float, np.floating)) and not np.isfinite(v)) for v in arr):
        raise DataError("labels contain missing or infinite values (None/NaN/inf): drop or fill those rows first")
    as_str = np.array([str(v) for v in arr], dtype=object)
    if class_names is None:
        uniq = sorted(set(arr.tolist()), key=lambda v: (str(type(v)), v))
        names = tuple(str(u) for u in uniq)
    else:
        names = tuple(str(c) for c in class_names)
        if len(set(names)) != len(names):
            raise DataError(f"class names are not unique: {names}")
    index = {n: i for i, n in enumerate(names)}
    unknown = sorted({s for s in as_str if s not in index})
    if unknown:
        raise DataError(f"labels {unknown[:5]} are not among the known classes {list(names)[:20]}: "
                        "fix the label column or pass the full list of class names")
    return np.array([index[s] for s in as_str], dtype=np.int64), names


def _encode_integers(arr: np.ndarray, class_names: Sequence[str] | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """:func:`encode_labels` of an integer array, vectorised (millions of labels without a Python object each)."""
    uniq, inverse = np.unique(arr, return_inverse=True)
    found = [str(u) for u in uniq.tolist()]
    if class_names is None:
        return inverse.astype(np.int64).ravel(), tuple(found)
    names = tuple(str(c) for c in class_names)
    if len(set(names)) != len(names):
        raise DataError(f"class names are not unique: {names}")
    index = {n: i for i, n in enumerate(names)}
    unknown = sorted(f for f in found if f not in index)
    if unknown:
        raise DataError(f"labels {unknown[:5]} are not among the known classes {list(names)[:20]}: "
                        "fix the label column or pass the full list of class names")
    return np.array([index[f] for f in found], dtype=np.int64)[inverse.ravel()], names


_F32_MAX = float(np.finfo(np.float32).max)


def as_float32(x: Any, where: str) -> np.ndarray:
    """Numeric inputs as float32, or a :class:`DataError` naming ``where`` and what is wrong.

    Booleans and integers convert; complex numbers are refused (their imaginary part would be
    dropped), NaN or infinite values are reported as such, and finite values beyond float32's range
    (about 3.4e38, e.g. 1e300) are reported as too large, not as infinite; strings, objects, dates
    are not numeric.
    """
    arr = np.asarray(x)
    if np.iscomplexobj(arr):
        raise DataError(f"{where}: inputs are complex numbers ({arr.dtype}); transferkit reads real values: "
                        "pass the real part, the magnitude or both as separate features explicitly")
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{where}: inputs must be numbers, got dtype {arr.dtype}; encode them as numbers first")
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            raise DataError(f"{where}: {int(bad.sum())} input values are NaN or infinite; impute or drop them "
                            "(for tables, e.g. sklearn.impute.SimpleImputer) before transfer")
        if arr.size and float(np.max(np.abs(arr))) > _F32_MAX:
            raise DataError(f"{where}: values up to {float(np.max(np.abs(arr))):.3g} exceed float32's range "
                            f"(+-{_F32_MAX:.3g}); rescale them (e.g. standardise or take logs)")
    return arr.astype(np.float32)


@dataclass
class Dataset:
    """Inputs, labels and what they are.

    Attributes:
        x: images ``(N, C, H, W)`` float32 in [0, 1] (or uint8 in [0, 255]); signals ``(N, C, T)``;
            tables ``(N, D)``; text as a 1-D object array of strings; image files as a 1-D object
            array of paths. A memory map (``np.load(path, mmap_mode="r")``) is kept as one: checks
            and the fingerprint read it block by block, and feature extraction batch by batch, so
            data larger than memory can be used.
        y: class indices (int64, into ``class_names``) or regression targets (float), or None.
        kind: one of ``image``, ``text``, ``table``, ``signal``.
        class_names: names of the classes, index ``i`` names label ``i``.
        name: a short name (``usps``, ``heart-disease:cleveland``, a file name).
        domain: the domain this data comes from (a hospital, a subject, a camera).
        groups: optional per-sample group ids (subjects, hospitals) for grouped splits.
        feature_names: column names of a table, or channel names of a signal.
        task: ``classification`` or ``regression``.
        meta: free-form provenance (file paths, citations), JSON-serialisable.
    """

    x: Any
    y: np.ndarray | None
    kind: Kind
    class_names: tuple[str, ...] | None = None
    name: str = "data"
    domain: str | None = None
    groups: np.ndarray | None = None
    feature_names: tuple[str, ...] | None = None
    task: TaskKind = "classification"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DataError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "text" or (self.kind == "image" and _is_paths(self.x)):
            self.x = np.asarray(list(self.x), dtype=object)
        elif not isinstance(self.x, np.memmap):  # a memory map stays one: it is never read whole
            self.x = np.asarray(self.x)
        n = len(self.x)
        if self.y is not None:
            self.y = np.asarray(self.y)
            if self.y.ndim == 0 or len(self.y) != n:
                raise DataError(f"{self.name}: {n} inputs but {self.y.shape[0] if self.y.ndim else 0} labels; "
                                "every input needs exactly one label")
            if self.task == "classification":
                self.y = self.y.astype(np.int64)
        if self.groups is not None:
            self.groups = np.asarray(self.groups)
            if len(self.groups) != n:
                raise DataError(f"{self.name}: {n} inputs but {len(self.groups)} group ids")
        self.validate()

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Check shapes and values; raise :class:`DataError` saying what to fix."""
        expected_ndim = {"image": 4, "signal": 3, "table": 2}
        if self.kind in expected_ndim and not (self.kind == "image" and _is_paths(self.x)):
            want = expected_ndim[self.kind]
            if self.x.ndim != want and not (self.x.size == 0 and len(self.x) == 0):
                raise DataError(f"{self.name}: {self.kind} inputs must have {want} dimensions "
                                f"(got shape {self.x.shape}); images are (N, C, H, W), signals (N, C, T), "
                                "tables (N, D)")
            if not np.issubdtype(self.x.dtype, np.number) or np.iscomplexobj(self.x):
                raise DataError(f"{self.name}: {self.kind} inputs must be real numbers, got {self.x.dtype}")
            bad, top = _scan_values(self.x)
            if bad:
                raise DataError(f"{self.name}: {bad} input values are NaN or infinite; impute or drop them "
                                "(for tables, e.g. sklearn.impute.SimpleImputer) before transfer")
            if self.x.dtype.itemsize > 4 and top > _F32_MAX:
                raise DataError(f"{self.name}: input values up to {top:.3g} exceed float32's range (models "
                                "compute in float32); rescale them")
        if self.y is not None and self.task == "classification":
            if self.class_names is None:
                raise DataError(f"{self.name}: classification labels need class_names")
            k = len(self.class_names)
            if self.y.size and (self.y.min() < 0 or self.y.max() >= k):
                raise DataError(f"{self.name}: label indices must lie in [0, {k}); got {self.y.min()}..{self.y.max()}")
        if self.y is not None and self.task == "regression":
            if not np.all(np.isfinite(self.y.astype(float))):
                raise DataError(f"{self.name}: regression targets contain NaN or infinity")

    def require_labels(self, min_classes: int = 2) -> None:
        """Raise unless labels exist and at least ``min_classes`` classes are present."""
        if len(self) == 0:
            raise DataError(f"{self.name}: the data set is empty")
        if self.y is None:
            raise DataError(f"{self.name}: this step needs labels, but the data set has none")
        if self.task == "classification":
            present = np.unique(self.y)
            if len(present) < min_classes:
                names = [self.class_names[i] for i in present] if self.class_names else present
                raise DataError(f"{self.name}: only {len(present)} class present ({list(names)}); "
                                f"at least {min_classes} classes are needed: add examples of the other classes")

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return len(self.x)

    def __repr__(self) -> str:
        """One line: name, kind, size, input shape and labels (never the arrays)."""
        parts = [repr(self.name), self.kind, f"n={len(self)}"]
        if self.x.dtype != object:
            parts.append("input=" + "x".join(map(str, self.x.shape[1:])))
        elif self.kind == "image":
            parts.append("image files")
        if self.domain is not None:
            parts.append(f"domain={self.domain!r}")
        if self.y is None:
            parts.append("unlabelled")
        elif self.task == "regression":
            parts.append("regression")
        elif self.class_names:
            shown = ", ".join(self.class_names[:5]) + (", ..." if len(self.class_names) > 5 else "")
            parts.append(f"{len(self.class_names)} classes ({shown})")
        if self.groups is not None:
            parts.append(f"{len(np.unique(self.groups))} groups")
        return f"Dataset({', '.join(parts)})"

    @property
    def num_classes(self) -> int:
        """Number of declared classes (0 for regression)."""
        return len(self.class_names) if self.class_names else 0

    def subset(self, idx: np.ndarray | Sequence[int], name: str | None = None) -> Dataset:
        """Rows ``idx`` as a new Dataset (class names kept, so indices stay comparable)."""
        idx = np.asarray(idx, dtype=np.int64)
        return replace(self, x=self.x[idx], y=None if self.y is None else self.y[idx],
                       groups=None if self.groups is None else self.groups[idx], name=name or self.name,
                       meta=dict(self.meta))

    def class_counts(self) -> dict[str, int]:
        """Examples per class name (zero for declared classes that are absent)."""
        if self.y is None or not self.class_names:
            return {}
        counts = np.bincount(self.y, minlength=len(self.class_names))
        return {n: int(c) for n, c in zip(self.class_names, counts)}

    def fingerprint(self) -> str:
        """SHA-256 of the inputs (not the labels: features do not depend on labels).

        Every byte is hashed, a 64 MB block at a time; for inputs memory-mapped from a file the digest
        is remembered on this Dataset while the file keeps its size and modification time, so the
        feature cache, the source-probability cache and the results summary hash it once.
        """
        stamp = _map_stamp(self.x)
        memo = self.__dict__.get("_fingerprint_memo")
        if stamp is not None and memo is not None and memo[0] == stamp:
            return str(memo[1])
        digest = self._hash_inputs()
        if stamp is not None:
            self.__dict__["_fingerprint_memo"] = (stamp, digest)
        return digest

    def _hash_inputs(self) -> str:
        h = hashlib.sha256()
        h.update(self.kind.encode())
        if self.x.dtype == object:
            for item in self.x:
                s = str(item)
                h.update(len(s).to_bytes(8, "little"))
                h.update(s.encode("utf-8", "surrogatepass"))
                if self.kind == "image":  # paths: content matters, not only the name
                    h.update(_file_digest(s).encode())
        else:
            h.update(str(self.x.dtype).encode())
            h.update(str(self.x.shape).encode())
            for part in _row_chunks(self.x):  # the bytes of the whole array, a chunk at a time
                h.update(np.ascontiguousarray(part).reshape(-1).view(np.uint8))
        return h.hexdigest()

    def describe(self) -> dict[str, Any]:
        """A JSON-serialisable summary (size, shape, classes, fingerprint)."""
        shape = list(self.x.shape[1:]) if self.x.dtype != object else []
        return {"name": self.name, "domain": self.domain, "kind": self.kind, "task": self.task, "n": len(self),
                "input_shape": shape, "classes": list(self.class_names) if self.class_names else None,
                "class_counts": self.class_counts(), "fingerprint": self.fingerprint()[:16]}


_CHUNK_BYTES = 64 * 2**20


def _row_chunks(x: np.ndarray) -> Any:
    """Row blocks of about 64 MB: inputs larger than memory (a memory map) are read a block at a time,
    and the pages of a block read from a map are released before the next (:func:`release_mapped_pages`)."""
    row = max(1, int(np.prod(x.shape[1:], dtype=np.int64)) * x.dtype.itemsize)
    step = max(1, _CHUNK_BYTES // row)
    for start in range(0, len(x), step):
        yield x[start:start + step]
        release_mapped_pages(x)


def _file_map(x: Any) -> tuple[np.memmap, Any] | None:
    """The ``np.memmap`` ``x`` is (or is a view of) and its ``mmap`` object, or None for in-memory arrays."""
    import mmap

    mapped = None
    obj = x
    for _ in range(64):  # a chain of views ends at the mmap object
        if isinstance(obj, np.memmap) and mapped is None:
            mapped = obj
        if isinstance(obj, mmap.mmap):
            return (mapped, obj) if mapped is not None else None
        obj = getattr(obj, "base", None)
        if obj is None:
            return None
    return None


def release_mapped_pages(x: Any) -> None:
    """Drop the pages of a file memory map that ``x`` reads from this process's resident memory.

    They stay in the operating system's page cache (a later read is a memory copy, not a disk
    read), but no longer count towards this process: reading a map larger than memory block by
    block keeps the resident size to about one block. Copy-on-write maps (mode ``"c"``), which may
    hold changes of their own, and in-memory arrays are left alone; where ``madvise`` is missing
    (Windows) this does nothing.
    """
    import mmap

    found = _file_map(x)
    if found is None or getattr(found[0], "mode", "c") not in ("r", "r+", "w+"):
        return
    advice = getattr(mmap, "MADV_DONTNEED", None)
    if advice is None or not hasattr(found[1], "madvise"):
        return
    try:
        found[1].madvise(advice)
    except (OSError, ValueError):  # a closed or unusual map: releasing is only an optimisation
        pass


@dataclass(frozen=True)
class MapSpec:
    """How to open a memory map again (in another process) instead of pickling its content."""

    filename: str
    offset: int
    dtype: str
    shape: tuple[int, ...]
    fortran: bool
    view_shape: tuple[int, ...]

    def open(self) -> np.ndarray:
        """The map, read-only, in the shape it had."""
        mm = np.memmap(self.filename, dtype=np.dtype(self.dtype), mode="r", offset=self.offset, shape=self.shape,
                       order="F" if self.fortran else "C")
        return mm if self.view_shape == self.shape else mm.reshape(self.view_shape)


def map_spec(x: Any) -> MapSpec | None:
    """A :class:`MapSpec` for ``x`` when it is a read-only file map (or a reshaped view of all of one), else None.

    Pickling a ``np.memmap`` copies its content; DataLoader workers started with ``spawn`` (macOS,
    Windows) get this small record and map the file themselves.
    """
    found = _file_map(x)
    if found is None or getattr(found[0], "mode", None) != "r" or not getattr(found[0], "filename", None):
        return None
    root = found[0]
    while isinstance(root.base, np.memmap):  # the map numpy opened, not a view of it
        root = root.base
    same = (x.size == root.size and x.dtype == root.dtype and x.ctypes.data == root.ctypes.data
            and x.flags.c_contiguous and root.flags.c_contiguous)
    if x is not root and not same:
        return None
    return MapSpec(str(root.filename), int(root.offset), root.dtype.str, tuple(root.shape),
                   bool(root.flags.f_contiguous and not root.flags.c_contiguous), tuple(x.shape))


def _map_stamp(x: Any) -> tuple[Any, ...] | None:
    """What identifies the file content behind a memory-mapped ``x`` (None for in-memory arrays)."""
    import os

    found = _file_map(x)
    if found is None or not getattr(found[0], "filename", None):
        return None
    try:
        st = os.stat(found[0].filename)
    except OSError:
        return None
    return (id(x), x.shape, x.strides, str(x.dtype), found[0].filename, st.st_size, st.st_mtime_ns)


def _scan_values(x: np.ndarray) -> tuple[int, float]:
    """Count of NaN/infinite values and the largest finite magnitude of float inputs, block by block."""
    if x.dtype.kind != "f" or x.size == 0:
        return 0, 0.0
    bad, top = 0, 0.0
    for part in _row_chunks(x):
        finite = np.isfinite(part)
        if not finite.all():
            bad += int(part.size - np.count_nonzero(finite))
            continue
        top = max(top, float(np.max(np.abs(part))))
    return bad, top


def _is_paths(x: Any) -> bool:
    if isinstance(x, np.ndarray):
        return x.dtype == object and x.ndim == 1 and (len(x) == 0 or isinstance(x[0], str))
    return isinstance(x, (list, tuple)) and (len(x) == 0 or isinstance(x[0], str))


_DIGEST_CACHE: dict[tuple[str, float, int], str] = {}


def _file_digest(path: str) -> str:
    import os

    try:
        st = os.stat(path)
    except OSError as exc:
        raise DataError(f"cannot read image file {path!r}: {exc}") from exc
    key = (path, st.st_mtime, st.st_size)
    if key not in _DIGEST_CACHE:
        with open(path, "rb") as f:
            _DIGEST_CACHE[key] = hashlib.sha256(f.read()).hexdigest()
    return _DIGEST_CACHE[key]
