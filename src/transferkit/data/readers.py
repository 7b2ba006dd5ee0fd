"""Readers for user files: image folders, tables, text, ``.npy``/``.npz`` and Hugging Face datasets.

``.npy`` inputs, and large uncompressed ``.npz`` inputs, are memory-mapped: they are read a block
or a batch at a time and never whole, so they may be larger than memory.

Each reader returns a :class:`~transferkit.data.dataset.Dataset` and raises
:class:`~transferkit.errors.DataError` saying what to fix when the file is not what it should be.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from transferkit._io import check_regular_file
from transferkit.data.dataset import Dataset, as_float32, encode_labels
from transferkit.errors import DataArgumentError, DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def _image_files(folder: Path) -> list[str]:
    """The image files under ``folder``, sorted; a pipe, device or socket with an image name is refused."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and not p.is_dir())
    for p in files:
        check_regular_file(p, "image file")
    return [str(p) for p in files]


def read_image_folder(
    path: str | os.PathLike[str],
    *,
    image_size: int | tuple[int, int] | None = None,
    grayscale: bool | None = None,
    load: bool = True,
    require_labels: bool = True,
) -> Dataset:
    """Read ``path/<class name>/<image files>`` (one sub-folder per class).

    With ``require_labels=False`` a folder without class sub-folders is read as unlabelled images
    (every image file under it, in sorted order; their paths are in ``meta["files"]``).

    With ``load=True`` images are decoded into a float32 array ``(N, C, H, W)`` in [0, 1], resized to
    ``image_size`` (default: the size of the first image); with ``load=False`` the data set holds the
    file paths and backbones decode them batch by batch.
    """
    root = Path(path)
    if not root.is_dir():
        raise DataArgumentError(f"image folder {root} not found")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes and not require_labels:  # images to predict: a plain folder of image files
        files = _image_files(root)
        if not files:
            raise DataError(f"{root} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        x = np.array(files, dtype=object) if not load else load_images(files, image_size=image_size,
                                                                         grayscale=grayscale)
        return Dataset(x=x, y=None, kind="image", name=root.name, meta={"path": str(root), "files": files})
    if not classes:
        raise DataError(f"{root} has no class sub-folders: lay images out as {root}/<class>/<image>")
    files: list[str] = []
    labels: list[str] = []
    empty = []
    for c in classes:
        imgs = _image_files(root / c)
        if not imgs:
            empty.append(c)
        files += imgs
        labels += [c] * len(imgs)
    if empty:
        raise DataError(f"{root}: class folders without images: {empty}; remove them or add images")
    y, names = encode_labels(labels, classes)
    ds_paths = Dataset(x=np.array(files, dtype=object), y=y, kind="image", class_names=names, name=root.name,
                       meta={"path": str(root), "files": files})
    if not load:
        return ds_paths
    arr = load_images(files, image_size=image_size, grayscale=grayscale)
    return Dataset(x=arr, y=y, kind="image", class_names=names, name=root.name,
                   meta={"path": str(root), "files": files})


def load_images(files: Sequence[str], *, image_size: int | tuple[int, int] | None = None,
                grayscale: bool | None = None) -> np.ndarray:
    """Decode image files into float32 ``(N, C, H, W)`` in [0, 1]; unreadable files raise DataError.

    Every pixel depth is scaled by its own range: 8-bit by 255, 16-bit (``I;16``) by 65535, 32-bit
    integer (``I``) by 65535 when its values fit 16 bits, 32-bit float (``F``) as it is when its values
    lie in [0, 1]; anything else is refused, never clipped. Palette images are expanded to their colours,
    and transparent pixels are composited over white (what an image viewer shows). The first image
    decides grey (one channel) or colour (three) unless ``grayscale`` is given. An image larger than
    Pillow's decompression-bomb limit is refused, naming the file.
    """
    from PIL import Image, UnidentifiedImageError

    out = []
    size: tuple[int, int] | None = (image_size, image_size) if isinstance(image_size, int) else image_size
    gray = grayscale
    for f in files:
        try:
            with Image.open(f) as im:
                if gray is None:
                    gray = im.mode in _GREY_MODES
                a = _decode(im, f, gray=gray, size=size)
        except DataError:
            raise
        except Image.DecompressionBombError as exc:
            raise DataError(
                f"image {f} is too large to decode safely ({exc}); downscale it, or raise "
                "PIL.Image.MAX_IMAGE_PIXELS in Python if the file is trusted"
            ) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, EOFError, ValueError, struct.error,
                zlib.error) as exc:
            raise DataError(f"cannot read image {f}: {exc}; delete or replace the file") from exc
        if size is None:
            size = (a.shape[0], a.shape[1])
        if not out:
            _check_memory(len(files), 1 if a.ndim == 2 else a.shape[2], size, f)
        out.append(a[None] if a.ndim == 2 else a.transpose(2, 0, 1))
    if not out:
        raise DataError("no image files to decode")
    return np.stack(out).astype(np.float32)


def _available_memory() -> int | None:
    """Bytes of memory available to this process (Linux ``MemAvailable``), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _check_memory(n: int, channels: int, size: tuple[int, int], first: str) -> None:
    """Refuse to decode ``n`` images that would not fit in memory (instead of being killed part-way)."""
    need = 4 * n * channels * size[0] * size[1]
    avail = _available_memory()
    if avail is not None and need > 0.8 * avail:
        raise DataError(
            f"decoding {n} images at {size[0]}x{size[1]} (the size of the first, {first}) needs {need / 1e9:.1f} GB, "
            f"more than the {avail / 1e9:.1f} GB of free memory: pass a smaller image_size, or read the folder "
            "with load=False so backbones decode it batch by batch"
        )


# modes read as one grey channel; the 16- and 32-bit ones are scaled by their own range (below)
_GREY_MODES = ("L", "1", "LA", "La", "I;16", "I;16L", "I;16B", "I;16N", "I", "F")
_WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")


def _decode(im: Any, f: str, *, gray: bool, size: tuple[int, int] | None) -> np.ndarray:
    """One opened PIL image -> float32 ``(H, W)`` (grey) or ``(H, W, 3)`` in [0, 1], resized to ``size``."""
    from PIL import Image

    if im.mode == "P":  # palette: expand to its colours (and its transparency, if any)
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in _ALPHA_MODES:
        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    if im.mode in _WIDE_MODES:
        a = _scale_wide(np.asarray(im), im.mode, f)
        if size is not None and a.shape != size:
            a = np.asarray(Image.fromarray(a, mode="F").resize((size[1], size[0]), Image.BILINEAR))
        a = np.clip(a, 0.0, 1.0)  # bilinear stays within range; guards rounding only
        return a if gray else np.repeat(a[:, :, None], 3, axis=2)
    try:
        im = im.convert("L" if gray else "RGB")
    except ValueError:  # no direct conversion (LAB to grey): through RGB, as Pillow's colour management allows
        im = im.convert("RGB").convert("L" if gray else "RGB")
    if size is not None and (im.height, im.width) != size:
        im = im.resize((size[1], size[0]), Image.BILINEAR)
    return np.asarray(im, dtype=np.float32) / 255.0


def _scale_wide(a: np.ndarray, mode: str, f: str) -> np.ndarray:
    """16/32-bit grey pixels -> float32 in [0, 1], or a DataError when the range is not a known one."""
    a = a.astype(np.float64)
    if mode.startswith("I;16"):
        return (a / 65535.0).astype(np.float32)
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if mode == "I" and lo >= 0 and hi <= 65535:
        return (a / 65535.0).astype(np.float32)
    if mode == "F" and np.isfinite(a).all() and lo >= 0 and hi <= 1:
        return a.astype(np.float32)
    want = "integers in [0, 65535]" if mode == "I" else "floats in [0, 1]"
    raise DataError(
        f"image {f}: {mode}-mode pixels range {lo:g}..{hi:g}, not {want}; transferkit does not guess the "
        "scale of such images: convert it to 8- or 16-bit PNG first"
    )


def _read_frame(path: Path, sep: str | None = None) -> Any:
    import pandas as pd

    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in (".jsonl", ".ndjson"):
            return pd.read_json(path, lines=True)
        if suffix == ".tsv":
            sep = sep or "\t"
        return pd.read_csv(path, sep=sep or ",")
    except FileNotFoundError as exc:
        raise DataArgumentError(f"file {path} not found") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path} is empty: no header and no rows") from exc
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, OSError) as exc:
        raise DataError(f"cannot parse {path} as {suffix or 'CSV'}: {exc}") from exc


def _read_rows(path: Path, sep: str | None = None) -> Any:
    """:func:`_read_frame`, refusing a file with a header but no rows."""
    df = _read_frame(path, sep)
    if len(df) == 0:
        raise DataError(f"{path} has no rows (columns {list(map(str, df.columns))[:20]}): add data rows")
    return df


def _columns_hint(df: Any) -> str:
    """The columns of ``df`` for an error message: the first 20 (and the count), and those holding words,
    which are the likely label (or text) columns."""
    cols = [str(c) for c in df.columns]
    text = f"columns are {cols[:20]}" + (f" and {len(cols) - 20} more" if len(cols) > 20 else "")
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    words = [str(c) for c in df.columns if not (is_numeric_dtype(df[c]) or is_bool_dtype(df[c]))]
    return text + (f"; columns holding words: {words[:10]}" if words else "")


def _labels_from_frame(df: Any, label_column: str, path: Path, class_names: Sequence[str] | None,
                       task: str, require: bool = True) -> tuple[np.ndarray | None, tuple[str, ...] | None]:
    if label_column not in df.columns and not require:
        return None, None
    if label_column not in df.columns:
        raise DataError(
            f"{path}: no label column {label_column!r}; {_columns_hint(df)}. "
            f"Name it with --label-column NAME or {path.name}?label=NAME (label_column= in Python)"
        )
    col = df[label_column]
    if col.isna().any():
        rows = [int(i) for i in np.flatnonzero(col.isna().to_numpy())[:5]]
        raise DataError(f"{path}: label column {label_column!r} is empty in rows {rows}: fill or drop them")
    if task == "regression":
        try:
            return col.to_numpy(dtype=np.float64), None
        except (TypeError, ValueError) as exc:
            raise DataError(f"{path}: regression targets in {label_column!r} must be numbers") from exc
    y, names = encode_labels(col.tolist(), class_names)
    return y, names


def read_table(
    path: str | os.PathLike[str],
    *,
    label_column: str = "label",
    feature_columns: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    task: str = "classification",
    sep: str | None = None,
    require_labels: bool = True,
) -> Dataset:
    """Read a CSV/TSV/Parquet/JSONL table: numeric feature columns and one label column.

    With ``require_labels=False`` a table without the label column is read unlabelled (``y`` None).
    """
    p = Path(path)
    df = _read_rows(p, sep)
    y, names = _labels_from_frame(df, label_column, p, class_names, task, require_labels)
    cols = list(feature_columns) if feature_columns else [c for c in df.columns if c != label_column]
    if not cols:
        raise DataError(f"{p}: no feature columns besides the label column {label_column!r}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"{p}: feature columns {missing} not found; columns are {list(df.columns)[:20]}")
    from pandas.api.types import is_bool_dtype, is_complex_dtype, is_numeric_dtype

    complex_cols = [c for c in cols if is_complex_dtype(df[c])]
    if complex_cols:
        raise DataError(f"{p}: columns {complex_cols[:10]} hold complex numbers; transferkit reads real values: "
                        "split them into real and imaginary (or magnitude) columns")
    non_numeric = [c for c in cols if not (is_numeric_dtype(df[c]) or is_bool_dtype(df[c]))]
    if non_numeric:
        raise DataError(f"{p}: columns {non_numeric[:10]} are not numeric; encode them (e.g. one-hot) or exclude them "
                        "with feature_columns=[...]; a column of text is read as text when named with --text-column "
                        f"NAME or {p.name}?text=NAME")
    values = df[cols].to_numpy(dtype=np.float64, na_value=np.nan)
    bad = [str(c) for c, ok in zip(cols, np.isfinite(values).all(axis=0), strict=True) if not ok]
    if bad:
        raise DataError(f"{p}: columns {bad[:10]} hold NaN (empty cells) or infinite values; impute or drop them "
                        "(e.g. sklearn.impute.SimpleImputer) before transfer")
    x = as_float32(values, f"{p}")
    return Dataset(x=x, y=y, kind="table", class_names=names, name=p.stem, feature_names=tuple(map(str, cols)),
                   task=task, meta={"path": str(p)})  # type: ignore[arg-type]


def read_text(
    path: str | os.PathLike[str],
    *,
    text_column: str = "text",
    label_column: str = "label",
    class_names: Sequence[str] | None = None,
    sep: str | None = None,
    require_labels: bool = True,
) -> Dataset:
    """Read text with labels from CSV/TSV/JSONL (columns ``text_column`` and ``label_column``; without
    ``require_labels``, a file with no label column is read unlabelled)."""
    p = Path(path)
    df = _read_rows(p, sep)
    if text_column not in df.columns:
        raise DataError(f"{p}: no text column {text_column!r}; columns are {list(df.columns)[:20]}. "
                        f"Name it with --text-column NAME or {p.name}?text=NAME (text_column= in Python)")
    texts = df[text_column]
    if texts.isna().any():
        rows = [int(i) for i in np.flatnonzero(texts.isna().to_numpy())[:5]]
        raise DataError(f"{p}: text column {text_column!r} is empty in rows {rows}")
    y, names = _labels_from_frame(df, label_column, p, class_names, "classification", require_labels)
    return Dataset(x=np.array(texts.astype(str).tolist(), dtype=object), y=y, kind="text", class_names=names,
                   name=p.stem, meta={"path": str(p)})


MAP_MIN_BYTES = 64 * 2**20
"""Inputs of an ``.npz`` at least this large (uncompressed) are memory-mapped, not read into memory."""

_NPZ_HELP = ("it is not a .npz of plain numeric arrays (a zip of .npy files without pickled objects; transferkit "
             "never unpickles data files). Re-save it with numpy.savez(path, x=..., y=...) using numeric or string "
             "arrays")


def read_npz(
    path: str | os.PathLike[str],
    *,
    x_key: str = "x",
    y_key: str = "y",
    kind: str | None = None,
    class_names: Sequence[str] | None = None,
    require_labels: bool = True,
    mmap: bool | None = None,
) -> Dataset:
    """Read arrays from a ``.npz`` (no pickles): inputs ``x_key``, labels ``y_key`` (optional without
    ``require_labels``).

    ``kind`` defaults from the array rank: 2 -> table, 3 -> signal (3-D ``uint8``: grey images
    ``(N, H, W)``, read as ``(N, 1, H, W)``), 4 -> image. Keys are matched case-insensitively
    (``X``/``x``); ``class_names`` may also be stored in the file.

    ``mmap``: True memory-maps the inputs, which must then be stored uncompressed (``numpy.savez``;
    a member compressed by ``numpy.savez_compressed`` cannot be mapped and is refused); False reads
    them into memory as float32; None (default) maps uncompressed numeric inputs of
    :data:`MAP_MIN_BYTES` or more and reads smaller ones. Mapped inputs keep their dtype and are
    read a block or batch at a time, so they may be larger than memory; labels are always read.
    Compressed inputs too large for the free memory are refused, saying how to re-save them.
    """
    p = Path(path)
    with _open_npz(p) as z:
        lower = {k.lower(): k for k in z.files}
        for key in (x_key, y_key) if require_labels else (x_key,):
            if key.lower() not in lower:
                raise DataError(f"{p}: array {key!r} not found; arrays are {sorted(z.files)}")
        x = _npz_inputs(p, z, lower[x_key.lower()], mmap)
        y_raw = _npz_member(p, z, lower[y_key.lower()]) if y_key.lower() in lower else None
        if class_names is None and "class_names" in lower:
            class_names = [str(c) for c in _npz_member(p, z, lower["class_names"]).tolist()]
    return _arrays_dataset(p, x, y_raw, kind=kind, class_names=class_names, x_name=x_key, y_name=y_key,
                           name=p.stem)


def read_npy(
    path: str | os.PathLike[str],
    *,
    labels: str | os.PathLike[str] | None = None,
    kind: str | None = None,
    class_names: Sequence[str] | None = None,
    require_labels: bool = True,
    name: str | None = None,
) -> Dataset:
    """Read inputs from an ``.npy`` file, memory-mapped (never read whole), and labels from another.

    ``labels``: an ``.npy`` of one label per row (integers or strings), a path relative to the
    folder of ``path`` (or to the working folder); on the command line ``x.npy?label=y.npy``, or a
    folder holding ``x.npy`` and ``y.npy``. Without labels the data set is unlabelled, which only
    ``require_labels=False`` accepts. ``kind`` defaults from the rank as for :func:`read_npz`. The
    inputs keep their dtype (``uint8`` images stay ``uint8`` in [0, 255]); float inputs are checked
    for NaN and infinity a block at a time when the data set is made.
    """
    p = Path(path)
    x = _load_npy(p, mmap=True)
    y_raw = None
    if labels is not None:
        lp = Path(labels)
        if not lp.is_absolute() and (p.parent / lp).exists():
            lp = p.parent / lp
        y_raw = _load_npy(lp, mmap=False)
    elif require_labels:
        raise DataError(f"{p}: no labels given: name an .npy of one label per row with {p.name}?label=LABELS.npy "
                        "(--label-column LABELS.npy, labels= in Python), or pass a folder holding x.npy and y.npy")
    return _arrays_dataset(p, x, y_raw, kind=kind, class_names=class_names, x_name=p.name,
                           y_name=str(labels), name=name or p.stem)


def _load_npy(p: Path, *, mmap: bool) -> np.ndarray:
    """One ``.npy`` array (memory-mapped with ``mmap``); never unpickles."""
    try:
        a = np.load(p, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError as exc:
        raise DataArgumentError(f"file {p} not found") from exc
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"cannot read {p} as an .npy array of numbers or strings ({exc}); save it with "
                        "numpy.save(path, array) (transferkit never unpickles data files)") from exc
    if not isinstance(a, np.ndarray):
        a.close()
        raise DataError(f"{p} is a .npz archive, not a single .npy array: name it .npz")
    return a


def _open_npz(p: Path) -> Any:
    """The opened archive (members are read on demand), or a DataError saying what is wrong."""
    try:
        loaded = np.load(p, allow_pickle=False)
    except FileNotFoundError as exc:
        raise DataArgumentError(f"file {p} not found") from exc
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"cannot read {p}: {_NPZ_HELP}") from exc
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise DataError(f"cannot read {p}: a single .npy array, not a .npz archive; {_NPZ_HELP}")
    return loaded


def _npz_member(p: Path, z: Any, key: str) -> np.ndarray:
    try:
        return np.asarray(z[key])
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"cannot read {p}: {_NPZ_HELP}") from exc


def _npz_inputs(p: Path, z: Any, key: str, mmap: bool | None) -> np.ndarray:
    """The inputs ``key``: memory-mapped when stored uncompressed and asked for (or large), else read."""
    info = _zip_member(p, key)
    if mmap is False or info is None or (mmap is None and info.file_size < MAP_MIN_BYTES):
        return _npz_member(p, z, key)
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
        gb = info.file_size / 1e9
        redo = (f"re-save it uncompressed with numpy.savez(path, {key}=..., y=...) (not savez_compressed), or as "
                f"{key}.npy + y.npy with numpy.save, which are read lazily")
        if mmap:
            raise DataError(f"{p}: array {key!r} is compressed in the archive, and a compressed member cannot be "
                            f"memory-mapped: {redo}")
        avail = _available_memory()
        if avail is not None and info.file_size > 0.5 * avail:
            raise DataError(f"{p}: array {key!r} is compressed ({gb:.1f} GB unpacked), so it cannot be memory-mapped "
                            f"and does not fit in the {avail / 1e9:.1f} GB of free memory: {redo}")
        return _npz_member(p, z, key)
    mapped = _map_stored(p, info)
    return mapped if mapped is not None else _npz_member(p, z, key)


def _zip_member(p: Path, key: str) -> zipfile.ZipInfo | None:
    try:
        with zipfile.ZipFile(p) as zf:
            names = set(zf.namelist())
            return zf.getinfo(f"{key}.npy" if f"{key}.npy" in names else key)
    except (KeyError, OSError, zipfile.BadZipFile):
        return None


def _map_stored(p: Path, info: zipfile.ZipInfo) -> np.ndarray | None:
    """A stored (uncompressed) ``.npy`` member memory-mapped at its offset in the zip, or None when its
    header says it cannot be (objects, no elements, an unknown format version)."""
    fmt = np.lib.format
    try:
        with open(p, "rb") as f:
            f.seek(info.header_offset)
            local = f.read(30)  # the local file header: its name and extra fields come before the data
            if len(local) != 30 or local[:4] != b"PK\x03\x04":
                return None
            name_len, extra_len = struct.unpack("<HH", local[26:30])
            f.seek(info.header_offset + 30 + name_len + extra_len)
            version = fmt.read_magic(f)
            if version not in ((1, 0), (2, 0)):
                return None
            read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, fortran, dtype = read(f)
            offset = f.tell()
    except (OSError, ValueError, struct.error):
        return None
    if dtype.hasobject or int(np.prod(shape, dtype=np.int64)) == 0:
        return None
    return np.memmap(p, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C")


def _arrays_dataset(p: Path, x: np.ndarray, y_raw: np.ndarray | None, *, kind: str | None,
                    class_names: Sequence[str] | None, x_name: str, y_name: str, name: str) -> Dataset:
    """A Dataset of inputs and labels read from array files (``.npz`` members or ``.npy`` files)."""
    if x.ndim == 0 or len(x) == 0 or x.size == 0:
        raise DataError(f"{p}: array {x_name!r} holds no rows of values (shape {x.shape}): it must hold one row per "
                        "example")
    if kind is None and x.ndim == 3 and x.dtype == np.uint8:
        kind = "image"  # (N, H, W) bytes: grey images
    if kind is None:
        kind = {2: "table", 3: "signal", 4: "image"}.get(x.ndim)
        if kind is None:
            raise DataError(f"{p}: cannot tell the kind of a {x.ndim}-D array; pass kind=...")
    if kind == "image" and x.ndim == 3:
        x = x[:, None]  # a view, also of a memory map
    if y_raw is not None and (y_raw.ndim != 1 or len(x) != len(y_raw)):
        raise DataError(f"{p}: {x_name!r} must hold one row per example and {y_name!r} one label per row; "
                        f"got shapes {x.shape} and {y_raw.shape}")
    if kind == "text":
        x = np.asarray([str(t) for t in x], dtype=object)
    elif isinstance(x, np.memmap) or (kind == "image" and x.dtype == np.uint8):
        _check_numbers(x, f"{p}: array {x_name!r}")  # kept as it is: NaN/inf are scanned by the Dataset
    else:
        x = as_float32(x, f"{p}: array {x_name!r}")
    if y_raw is None:  # unlabelled data (require_labels=False), checked like labelled data
        return Dataset(x=x, y=None, kind=kind, name=name, meta={"path": str(p)})  # type: ignore[arg-type]
    if class_names is not None and np.issubdtype(y_raw.dtype, np.integer):
        y_raw = np.asarray(class_names, dtype=object)[np.asarray(y_raw, dtype=np.int64)] \
            if y_raw.min() >= 0 and y_raw.max() < len(class_names) else y_raw
    try:
        y, names = encode_labels(y_raw if y_raw.dtype.kind in "iu" else y_raw.tolist(), class_names)
    except DataError as exc:
        raise DataError(f"{p}: array {y_name!r}: {exc}") from exc
    return Dataset(x=x, y=y, kind=kind, class_names=names, name=name,  # type: ignore[arg-type]
                   meta={"path": str(p)})


def _check_numbers(x: np.ndarray, where: str) -> None:
    """Refuse inputs that are not real numbers (what :func:`as_float32` refuses), without reading them."""
    if np.iscomplexobj(x):
        raise DataError(f"{where}: inputs are complex numbers ({x.dtype}); transferkit reads real values: "
                        "pass the real part, the magnitude or both as separate features explicitly")
    if x.dtype.kind not in "biuf":
        raise DataError(f"{where}: inputs must be numbers, got dtype {x.dtype}; encode them as numbers first")


def from_hf_dataset(ds: Any, *, input_column: str, label_column: str = "label", kind: str = "text") -> Dataset:
    """Convert a Hugging Face ``datasets.Dataset`` (needs the ``datasets`` package)."""
    try:
        cols = ds.column_names
    except AttributeError as exc:
        raise DataError("expected a datasets.Dataset (with .column_names)") from exc
    for c in (input_column, label_column):
        if c not in cols:
            raise DataError(f"column {c!r} not in the Hugging Face dataset; columns are {cols}")
    names = None
    feat = getattr(ds, "features", {}).get(label_column) if hasattr(ds, "features") else None
    if feat is not None and hasattr(feat, "names"):
        names = list(feat.names)
        labels = [names[i] for i in ds[label_column]]
    else:
        labels = list(ds[label_column])
    y, class_names = encode_labels(labels, names)
    x = ds[input_column]
    if kind == "text":
        x = np.array([str(t) for t in x], dtype=object)
    else:
        x = as_float32(x, f"Hugging Face column {input_column!r}")
    return Dataset(x=x, y=y, kind=kind, class_names=class_names, name=getattr(ds, "builder_name", None) or "hf",  # type: ignore[arg-type]
                   meta={"source": "huggingface"})


def read_path(path: str | os.PathLike[str], **kwargs: Any) -> Dataset:
    """Pick the reader from the path: a folder of class folders, a folder holding ``x.npy`` (and ``y.npy``),
    .npy (``labels=``), .npz, .parquet, .csv/.tsv/.jsonl.

    A CSV-like file with a ``text`` column (or ``text_column=``) is read as text, otherwise as a table.
    """
    p = check_regular_file(path, "data file or folder")
    if p.is_dir() and (p / "x.npy").is_file():  # a folder of arrays: x.npy (memory-mapped) and y.npy
        if kwargs.pop("text_column", None) is not None:
            raise DataArgumentError(f"{p} is a folder of arrays (x.npy): it has no text column")
        label = kwargs.pop("label_column", None) or ("y.npy" if (p / "y.npy").is_file() else None)
        keep = {k: v for k, v in kwargs.items() if k in ("kind", "class_names", "require_labels")}
        return read_npy(p / "x.npy", labels=label, name=p.name, **keep)
    if p.is_dir():
        named = [k for k in ("label_column", "text_column") if kwargs.pop(k, None) is not None]
        if named:
            raise DataArgumentError(f"{p} is an image folder: its labels are its class sub-folders and it has no "
                                    f"columns ({', '.join(named)} given)")
        return read_image_folder(p, **kwargs)
    if not p.exists():
        raise DataArgumentError(f"{p} does not exist (and is not a named data set: see `transferkit datasets`)")
    suffix = p.suffix.lower()
    if suffix == ".npy":  # ?label= names the .npy of labels
        if kwargs.pop("text_column", None) is not None:
            raise DataArgumentError(f"{p}: an .npy holds one array of inputs; ?text= (--text-column) is for tables "
                                    "and .npz archives")
        if (label := kwargs.pop("label_column", None)) is not None:
            kwargs["labels"] = label
        return read_npy(p, **kwargs)
    if suffix == ".npz":  # ?label= names the label array, ?text= the array of texts
        if (label := kwargs.pop("label_column", None)) is not None:
            kwargs["y_key"] = label
        if (text := kwargs.pop("text_column", None)) is not None:
            kwargs.update(x_key=text, kind="text")
        return read_npz(p, **kwargs)
    if suffix in (".csv", ".tsv", ".jsonl", ".ndjson", ".parquet", ".txt"):
        text_column = kwargs.pop("text_column", None)
        if text_column is None and suffix != ".parquet":
            head = _peek_columns(p, kwargs.get("sep"))
            text_column = "text" if "text" in head else None
        if text_column is not None:
            return read_text(p, text_column=text_column, **kwargs)
        return read_table(p, **kwargs)
    raise DataArgumentError(f"unsupported file type {suffix!r} for {p}; supported: folder, .npy, .npz, .csv, .tsv, .jsonl, .parquet")


def _peek_columns(p: Path, sep: str | None) -> list[str]:
    try:
        with open(p, encoding="utf-8") as f:
            first = f.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {p}: {exc}") from exc
    if p.suffix.lower() in (".jsonl", ".ndjson"):
        try:
            return list(json.loads(first).keys())
        except (json.JSONDecodeError, AttributeError) as exc:
            raise DataError(f"{p}: first line is not a JSON object: {exc}") from exc
    delim = sep or ("\t" if p.suffix.lower() == ".tsv" else ",")
    import csv

    try:  # the csv module reads quoted names with commas or quotes in them as pandas does
        return [c.strip() for c in next(csv.reader([first.rstrip("\r\n")], delimiter=delim), [])]
    except csv.Error as exc:
        raise DataError(f"cannot read the header of {p}: {exc}") from exc
