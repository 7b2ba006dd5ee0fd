"""Property tests (Hypothesis) of issue 17: any input ends in a right result or a project error.

For every reader (CSV, TSV, JSONL, Parquet, ``.npz``, image folders), every transferability score
and domain distance, and the command-line entry points (through typer's test runner), generated
inputs, clean or damaged, must end in either

* a result that is right: finite, of the promised shape, holding exactly the values that were
  written (never NaN, never silently clipped or truncated), or
* a :class:`~transferkit.errors.TransferkitError` whose message names the input (the file, the data
  set or the option), and on the command line exit code 2 or 3 with one error line:

never any other exception, never a traceback, never exit code 1 (an internal error).

Budgets: each test runs twice, ``fast`` (a few dozen derandomised cases, the whole file in about
30 s: the default run) and ``slow`` (about ten times as many random cases: ``pytest -m slow
tests/test_fuzz.py``). :data:`BUDGET` lists the cases per entry point.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from transferkit.errors import TransferkitError  # noqa: E402

F32_MAX = float(np.finfo(np.float32).max)

BUDGET: dict[str, tuple[int, int]] = {  # entry point -> (fast, slow) generated cases
    "tables": (80, 800),
    "raw bytes": (60, 600),
    "npz": (80, 800),
    "image folders": (30, 300),
    "scores": (40, 400),
    "distances": (60, 600),
    "cli data commands": (25, 250),
    "cli fit": (4, 40),
    "cli multitask": (10, 100),
    "cli model commands": (8, 80),
    "cli report": (25, 250),
}

settings.register_profile(
    "transferkit-fuzz",
    deadline=None,
    database=None,  # nothing written into the repository
    derandomize=True,  # the default run is the same on every machine
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile("transferkit-fuzz-slow", parent=settings.get_profile("transferkit-fuzz"),
                          derandomize=False)


def budget(level: str, what: str) -> settings:
    """The settings of one property test at budget ``level`` (``fast`` or ``slow``)."""
    fast, slow = BUDGET[what]
    if level == "fast":
        return settings(settings.get_profile("transferkit-fuzz"), max_examples=fast)
    return settings(settings.get_profile("transferkit-fuzz-slow"), max_examples=slow)


LEVELS = pytest.mark.parametrize("level", ["fast", pytest.param("slow", marks=pytest.mark.slow)])


def outcome(fn: Callable[[], Any], *names: str) -> Any:
    """``fn()``, or None when it raised a project error whose message names one of ``names``.

    Any other exception propagates: the property fails and Hypothesis shows the smallest input.
    """
    try:
        return fn()
    except TransferkitError as exc:
        msg = str(exc)
        assert msg.strip(), f"{type(exc).__name__} without a message"
        assert any(n.lower() in msg.lower() for n in names), f"the error does not name the input {names}: {msg}"
        return None


# ----------------------------------------------------------------------------- tables

COLUMN_NAMES = ["a", "b c", "[/x]", "[bold]y", "ü", 'q"uote', "comma,name", "x\\", "0", "label2"]
LABELS = ["a", "b", "[/c]", "1", "-2"]
CLEAN_FLOATS = st.one_of(st.floats(-1e6, 1e6), st.floats(-1e30, 1e30), st.integers(-3, 3).map(float),
                         st.just(-0.0), st.floats(min_value=1e-30, max_value=1e-20))
DEFECTS = st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -1e39])


@st.composite
def tables(draw: st.DrawFn) -> tuple[Any, bool]:
    """A DataFrame of typed feature columns and a ``label`` column, and whether it is clean."""
    import pandas as pd

    n = draw(st.integers(0, 12))
    names = draw(st.lists(st.sampled_from(COLUMN_NAMES), min_size=1, max_size=3, unique=True))
    dirty = draw(st.integers(0, 3)) == 0
    cols: dict[str, Any] = {}
    for name in names:
        kind = draw(st.sampled_from(["float", "int", "bool"]))
        if kind == "float":
            vals = [draw(CLEAN_FLOATS) for _ in range(n)]
        elif kind == "int":
            vals = [draw(st.integers(-(2**40), 2**40)) for _ in range(n)]
        else:
            vals = [draw(st.booleans()) for _ in range(n)]
        cols[name] = vals
    labels: list[Any] = [draw(st.sampled_from(LABELS)) for _ in range(n)]
    if dirty and n:
        i, col = draw(st.integers(0, n - 1)), draw(st.sampled_from([*names, "label"]))
        if col == "label":
            labels[i] = None
        else:
            cols[col] = [float(v) for v in cols[col]]
            cols[col][i] = draw(DEFECTS)
    cols["label"] = labels
    return pd.DataFrame(cols), n > 0 and not dirty


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.item() if isinstance(v, np.generic) else v for k, v in row.items()}


def _write_table(df: Any, path: Path) -> None:
    if path.suffix == ".csv":
        df.to_csv(path, index=False)
    elif path.suffix == ".tsv":
        df.to_csv(path, index=False, sep="\t")
    elif path.suffix == ".jsonl":  # json.dumps writes floats exactly (pandas rounds to 10 digits)
        rows = df.to_dict(orient="records")
        path.write_text("".join(json.dumps(_plain(r)) + "\n" for r in rows), encoding="utf-8")
    else:
        df.to_parquet(path)


@LEVELS
def test_table_readers_read_exactly_what_was_written(level: str, tmp_path: Path) -> None:
    from transferkit.data.readers import read_path

    @budget(level, "tables")
    @given(tables(), st.sampled_from([".csv", ".tsv", ".jsonl", ".parquet"]))
    def check(table: tuple[Any, bool], suffix: str) -> None:
        df, clean = table
        path = tmp_path / f"t[x]{suffix}"
        _write_table(df, path)
        ds = outcome(lambda: read_path(path), path.name)
        if not clean:
            assert ds is None, f"a damaged table was read: {df!r}"
            return
        assert ds is not None, f"a clean table was refused: {df!r}"
        features = df.drop(columns="label").astype(np.float64).to_numpy()
        assert ds.x.dtype == np.float32 and ds.x.shape == features.shape
        np.testing.assert_array_equal(ds.x, features.astype(np.float32))  # exactly, not clipped or rounded twice
        assert [ds.class_names[i] for i in ds.y] == [str(v) for v in df["label"]]
        assert ds.feature_names == tuple(df.columns.drop("label"))

    check()


@LEVELS
def test_readers_on_arbitrary_bytes_refuse_cleanly(level: str, tmp_path: Path) -> None:
    from transferkit.data.readers import read_path

    @budget(level, "raw bytes")
    @given(st.one_of(st.binary(max_size=80), st.text(max_size=80).map(lambda t: t.encode("utf-8"))),
           st.sampled_from([".csv", ".tsv", ".jsonl", ".ndjson", ".parquet", ".npz", ".txt"]))
    def check(content: bytes, suffix: str) -> None:
        path = tmp_path / f"junk{suffix}"
        path.write_bytes(content)
        ds = outcome(lambda: read_path(path), path.name)
        if ds is not None and ds.x.dtype != object:
            assert np.all(np.isfinite(ds.x)) and len(ds) > 0

    check()


# ----------------------------------------------------------------------------- npz

NPZ_DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int8, np.uint64, np.bool_, np.complex64, "U3",
              "datetime64[s]"]


@st.composite
def npz_arrays(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(0, 5))
    shape = draw(st.sampled_from([(n, 2), (n, 1, 3), (n, 1, 2, 2), (n,), (), (n, 0)]))
    dtype = draw(st.sampled_from(NPZ_DTYPES))
    x = draw(hnp.arrays(dtype, shape))
    y_shape = draw(st.sampled_from([(n,), (n,), (n, 1), (n + 1,)]))
    y = draw(hnp.arrays(draw(st.sampled_from([np.int64, "U2", np.float64])), y_shape))
    return x, y


@LEVELS
def test_npz_reader(level: str, tmp_path: Path) -> None:
    from transferkit.data.readers import read_npz

    @budget(level, "npz")
    @given(npz_arrays())
    def check(arrays: tuple[np.ndarray, np.ndarray]) -> None:
        x, y = arrays
        path = tmp_path / "a.npz"
        np.savez(path, x=x, y=y)
        ds = outcome(lambda: read_npz(path), path.name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x_ok = (x.dtype.kind in "biuf" and x.ndim in (2, 3, 4) and len(x) > 0 and x.size > 0
                    and bool(np.all(np.isfinite(x.astype(np.float64))))
                    and float(np.max(np.abs(x.astype(np.float64)))) <= F32_MAX)
        y_ok = y.ndim == 1 and x.ndim > 0 and len(y) == len(x) and (y.dtype.kind in "iU" or bool(np.all(np.isfinite(y))))
        if not x_ok or not y_ok:
            assert ds is None, f"refusable arrays were read: {x!r}, {y!r}"
            return
        assert ds is not None, f"clean arrays were refused: {x!r}, {y!r}"
        np.testing.assert_array_equal(ds.x, x.astype(np.float32))
        assert [ds.class_names[i] for i in ds.y] == [str(v) for v in y.tolist()]

    check()


# ----------------------------------------------------------------------------- image folders

IMAGE_MODES = ["L", "RGB", "RGBA", "P", "LA", "1", "CMYK", "I;16", "I", "F", "LAB", "YCbCr"]


@st.composite
def image_specs(draw: st.DrawFn) -> list[list[tuple[str, tuple[int, int], str, Any]]]:
    """Per class: images as (mode, (w, h), suffix, pixels or None for a broken file)."""
    classes = []
    for _ in range(draw(st.integers(1, 3))):
        imgs = []
        for _ in range(draw(st.integers(1, 3))):
            mode = draw(st.sampled_from(IMAGE_MODES))
            size = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
            suffix = ".tif" if mode in ("I", "F", "CMYK", "LAB", "YCbCr") else draw(st.sampled_from([".png", ".tif"]))
            if draw(st.integers(0, 9)) == 0:
                imgs.append((mode, size, suffix, None))
                continue
            dtype = {"I;16": np.uint16, "I": np.int32, "F": np.float32}.get(mode, np.uint8)
            elements = {"I": st.integers(-5, 70000), "F": st.floats(-0.5, 1.5, width=32)}.get(mode)
            pixels = draw(hnp.arrays(dtype, (size[1], size[0]), elements=elements))
            imgs.append((mode, size, suffix, pixels))
        classes.append(imgs)
    return classes


def _make_image(mode: str, pixels: np.ndarray) -> Any:
    from PIL import Image

    if mode in ("I;16", "I", "F", "L"):
        return Image.fromarray(pixels, mode=None if mode != "L" else "L")
    grey = Image.fromarray(pixels, mode="L")
    if mode == "P":
        return grey.convert("P")
    if mode == "LAB":
        return Image.merge("LAB", (grey, grey, grey))
    return grey.convert(mode)


def _decodable(mode: str, pixels: np.ndarray | None) -> bool:
    if pixels is None:
        return False
    if mode == "I":
        return bool(pixels.min() >= 0 and pixels.max() <= 65535)
    if mode == "F":
        return bool(pixels.min() >= 0 and pixels.max() <= 1)
    return True


@LEVELS
def test_image_folders(level: str, tmp_path: Path) -> None:
    import shutil

    from transferkit.data.readers import read_image_folder

    @budget(level, "image folders")
    @given(image_specs())
    def check(spec: list[list[tuple[str, tuple[int, int], str, Any]]]) -> None:
        root = tmp_path / "imgs"
        shutil.rmtree(root, ignore_errors=True)
        for c, imgs in enumerate(spec):
            (root / f"class{c}").mkdir(parents=True)
            for i, (mode, _, suffix, pixels) in enumerate(imgs):
                f = root / f"class{c}" / f"img{i}{suffix}"
                if pixels is None:
                    f.write_bytes(b"\x89PNG\r\n\x1a\n broken")
                else:
                    _make_image(mode, pixels).save(f)
        ds = outcome(lambda: read_image_folder(root), str(root))
        flat = [img for imgs in spec for img in imgs]
        if not all(_decodable(m, p) for m, _, _, p in flat):
            assert ds is None, "an undecodable image was read"
            return
        assert ds is not None, "decodable images were refused"
        first_mode, (w, h), _, _ = flat[0]
        channels = 1 if first_mode in ("L", "LA", "1", "I;16", "I", "F") else 3
        assert ds.x.shape == (len(flat), channels, h, w) and ds.x.dtype == np.float32
        assert np.all(np.isfinite(ds.x)) and ds.x.min() >= 0.0 and ds.x.max() <= 1.0
        scale = {"L": 255.0, "I;16": 65535.0, "I": 65535.0, "F": 1.0}
        for k, (mode, size, _, pixels) in enumerate(flat):  # same size, same grey depth: exact values
            if channels == 1 and mode in scale and size == (w, h):
                want = (pixels.astype(np.float64) / scale[mode]).astype(np.float32)
                np.testing.assert_allclose(ds.x[k, 0], want, rtol=1e-6, atol=1e-7)

    check()


# ----------------------------------------------------------------------------- scores and distances

FEATURE_VALUES = st.one_of(st.floats(-1e3, 1e3), st.integers(-3, 3).map(float),
                           st.sampled_from([0.0, 1e-30, 3e38, -3e38, 1e30, 5e-324, math.nan, math.inf]))


@st.composite
def features_and_labels(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n, d = draw(st.integers(1, 24)), draw(st.integers(1, 5))
    kind = draw(st.sampled_from(["random", "random", "constant", "duplicate rows", "scaled"]))
    x = draw(hnp.arrays(np.float64, (n, d), elements=FEATURE_VALUES))
    if kind == "constant":
        x = np.full((n, d), draw(FEATURE_VALUES))
    elif kind == "duplicate rows":
        x = np.repeat(x[:1], n, axis=0)
    elif kind == "scaled":
        x = draw(hnp.arrays(np.float64, (n, d), elements=st.floats(-3, 3)))
        x = x * draw(st.sampled_from([1e-35, 1e-20, 1.0, 1e20, 1e35]))
    k = draw(st.integers(1, 4))
    y = np.arange(n) % k if draw(st.booleans()) else draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
    return x, np.asarray(y)


RANGES: dict[str, tuple[float, float]] = {  # documented value ranges (small tolerance for rounding)
    "knn_accuracy": (0.0, 1.0), "linear_probe_accuracy": (0.0, 1.0), "sfda": (0.0, 1.0),
    "gbc": (-math.inf, 1e-9), "leep": (-math.inf, 1e-9), "nleep": (-math.inf, 1e-9), "nce": (-math.inf, 1e-9),
    "transrate": (-1e-6, math.inf),
}


@LEVELS
def test_scores_are_finite_or_refuse(level: str) -> None:
    from transferkit.transferability import SCORES

    @budget(level, "scores")
    @given(features_and_labels(), st.booleans())
    def check(fy: tuple[np.ndarray, np.ndarray], normalise: bool) -> None:
        x, y = fy
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            probs = np.abs(np.nan_to_num(x, posinf=1.0))
            if normalise:
                probs = probs / np.where(probs.sum(1, keepdims=True) > 0, probs.sum(1, keepdims=True), 1.0)
        for name in SCORES.names():
            kind = SCORES.info(name).input
            arg = x if kind == "features" else probs if kind == "probs" else probs.argmax(axis=1)
            value = outcome(lambda: SCORES.get(name)(arg, y), "feature", "label", "prob", "pred", name)  # noqa: B023
            if value is None:
                continue
            assert math.isfinite(value), f"{name} returned {value}"
            lo, hi = RANGES.get(name, (-math.inf, math.inf))
            assert lo - 1e-9 <= value <= hi + 1e-9, f"{name} = {value} outside [{lo}, {hi}]"
            if name == "h_score":
                assert -1e-6 <= value <= min(x.shape[1], len(np.unique(y)) - 1) + 1e-6

    check()


@LEVELS
def test_distances_are_finite_or_refuse(level: str) -> None:
    from transferkit.similarity import DISTANCES

    @budget(level, "distances")
    @given(features_and_labels(), st.integers(0, 24))
    def check(fy: tuple[np.ndarray, np.ndarray], cut: int) -> None:
        x, _ = fy
        source, target = x[:cut], x[cut:]
        for name in DISTANCES.names():
            value = outcome(lambda: DISTANCES.get(name)(source, target),  # noqa: B023
                            "source", "target", "feature", name)
            if value is None:
                continue
            value = float(getattr(value, "value", value))
            assert math.isfinite(value), f"{name} returned {value}"
            if name in ("coral", "proxy_a"):
                assert value >= 0.0

    check()


# ----------------------------------------------------------------------------- command line


def _cli(args: list[str]) -> Any:
    from typer.testing import CliRunner

    from transferkit.cli import app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CliRunner().invoke(app, args, env={"TRANSFERKIT_DEBUG": ""})


def check_cli(result: Any, inputs: list[str]) -> None:
    """Exit 0, or 2/3 with one error line that names one of ``inputs``; never a traceback or exit 1."""
    out = result.output
    assert result.exit_code in (0, 2, 3), f"exit {result.exit_code}: {out[-2000:]}"
    assert "Traceback" not in out and "internal error" not in out, out[-2000:]
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    if result.exit_code:
        flat = "".join(out.split())
        items = [part for i in inputs for part in (i, *i.split(","))]  # "a,b" lists: each item counts
        assert any("".join(i.split()) in flat for i in items if i), f"no input named in: {out[-1500:]}"


def _no_nan(run_root: Path) -> None:
    def refuse(constant: str) -> None:
        pytest.fail(f"a results.json under {run_root} holds {constant}")

    for f in run_root.rglob("results.json"):
        json.loads(f.read_text(), parse_constant=refuse)


@st.composite
def cli_data_commands(draw: st.DrawFn, folder: Path) -> tuple[list[str], list[str]]:
    """A data command line on generated tables, and the user inputs an error may name."""
    src, tgt = folder / "source[x].csv", folder / "target.tsv"
    for path in (src, tgt):
        df, _ = draw(tables())
        if len(df) and draw(st.booleans()):  # mostly enough rows for the methods to run
            df = df.sample(n=40, replace=True, random_state=0).reset_index(drop=True)
        _write_table(df, path)
    number = st.one_of(st.integers(-2, 60).map(str), st.sampled_from(["", "x", "0.5", "[/x]"]))
    command = draw(st.sampled_from(["rank", "similarity", "features", "adapt", "pretrain", "zoo"]))
    if command == "rank":
        args = ["rank", "--target", str(src), "--models", draw(st.sampled_from(["raw", "tabmlp?hidden=4", "x"])),
                "--scores", draw(st.sampled_from(["logme", "logme,h_score,gbc,knn_accuracy,transrate", "leep", "nope"]))]
        if draw(st.booleans()):
            args += ["--max-samples", draw(number)]
    elif command == "similarity":
        args = ["similarity", "--source", str(src), "--target", str(tgt), "--backbone",
                draw(st.sampled_from(["raw", "tabmlp?hidden=4"])), "--permutations", draw(st.sampled_from(["0", "5"])),
                "--max-samples", draw(st.sampled_from(["0", "3", "20", "-1"])), "--measures",
                draw(st.sampled_from(["mmd,coral", "mmd,proxy_a,coral,frechet", "x"]))]
    elif command == "features":
        args = ["features", "--data", str(src), "--backbone", draw(st.sampled_from(["tabmlp?hidden=4", "tabmlp?x=1"])),
                "--no-cache", "--batch-size", draw(number)]
    elif command == "pretrain":
        args = ["pretrain", "--source", str(src), "--backbone", draw(st.sampled_from(["tabmlp?hidden=4", "smallcnn"])),
                "--name", draw(st.sampled_from(["fz", "../fz", "FZ", "fz-1"])), "--objective",
                draw(st.sampled_from(["supervised", "denoise", "simclr", "x"])), "--epochs", "1",
                "--zoo", str(folder / "zoo"), "--quiet"]
    elif command == "zoo":  # list a zoo folder whose entries may be damaged
        entry = folder / "zoo" / "fz"
        if entry.is_dir() and draw(st.booleans()):
            victim = entry / draw(st.sampled_from(["card.json", "model.safetensors"]))
            victim.write_bytes(draw(st.binary(max_size=40)))
        args = ["zoo", "--zoo", str(folder / "zoo")]
    else:
        args = ["adapt", "--source", str(src), "--target", str(tgt), "--method",
                draw(st.sampled_from(["coral", "coral", "dann", "nope"])), "--seeds", draw(st.sampled_from(["1", "0"])),
                "--target-labels", draw(st.sampled_from(["0", "1", "3"])), "--steps", "2", "--batch-size", "8",
                "--backbone", "tabmlp?hidden=4"]
    runs = [] if command in ("features", "zoo") else ["--runs", str(folder / "runs")]
    return args + runs, [src.stem, tgt.stem, *args[1:]]


@LEVELS
def test_cli_data_commands(level: str, tmp_path: Path) -> None:
    @budget(level, "cli data commands")
    @given(st.data())
    def check(data: st.DataObject) -> None:
        args, inputs = data.draw(cli_data_commands(tmp_path))
        check_cli(_cli(args), inputs)
        _no_nan(tmp_path / "runs")

    check()


@LEVELS
def test_cli_fit(level: str, tmp_path: Path) -> None:
    @budget(level, "cli fit")
    @given(tables(), tables(), st.sampled_from(["2", "all", "0.5", "1,all", "x", "0"]),
           st.sampled_from(["auto", "linear_probe", "finetune"]))
    def check(target: tuple[Any, bool], source: tuple[Any, bool], budgets: str, strategy: str) -> None:
        tgt, src = tmp_path / "tgt.csv", tmp_path / "src.csv"
        for (df, _), path in ((target, tgt), (source, src)):
            _write_table(df.sample(n=30, replace=True, random_state=0) if len(df) else df, path)
        args = ["fit", "--target", str(tgt), "--source", str(src), "--backbone", "tabmlp?hidden=4", "--seeds", "1",
                "--epochs", "1", "--source-epochs", "1", "--budgets", budgets, "--strategy", strategy, "--quiet",
                "--runs", str(tmp_path / "runs")]
        check_cli(_cli(args), ["tgt", "src", budgets, strategy, "tabmlp"])
        _no_nan(tmp_path / "runs")

    check()


@st.composite
def multitask_configs(draw: st.DrawFn, folder: Path) -> tuple[str, list[str]]:
    """YAML text of a multi-task config on generated tables, mostly valid, sometimes damaged."""
    import yaml

    tasks = []
    for i in range(draw(st.integers(0, 3))):
        df, _ = draw(tables())
        path = folder / f"task{i}.csv"
        _write_table(df.sample(n=30, replace=True, random_state=i) if len(df) else df, path)
        tasks.append({"name": draw(st.sampled_from([f"t{i}", f"t{i}", "../x", "a b"])), "data": str(path)})
    cfg: dict[str, Any] = {"name": "fz", "backbone": draw(st.sampled_from(["tabmlp?hidden=4", "smallcnn", "x"])),
                           "tasks": tasks, "weightings": draw(st.sampled_from([["equal"], ["equal", "pcgrad"], ["x"]])),
                           "seeds": 1, "epochs": 1, "batch_size": 8}
    for _ in range(draw(st.integers(0, 2))):  # damage: a key with a value of any type
        key = draw(st.sampled_from(["seeds", "epochs", "lr", "tasks", "weightings", "patience", "val_size", "nope"]))
        cfg[key] = draw(JSON_LEAF_FOR_CONFIG)
    text = yaml.safe_dump(cfg) if draw(st.integers(0, 5)) else draw(st.text(max_size=40))
    return text, [t["name"] for t in tasks] + [t["data"] for t in tasks]


JSON_LEAF_FOR_CONFIG = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(-2, 2), st.text(max_size=4),
                                 st.lists(st.integers(0, 2), max_size=2))


@LEVELS
def test_cli_multitask_configs(level: str, tmp_path: Path) -> None:
    @budget(level, "cli multitask")
    @given(st.data())
    def check(data: st.DataObject) -> None:
        text, inputs = data.draw(multitask_configs(tmp_path))
        cfg = tmp_path / "config.yaml"
        cfg.write_text(text, encoding="utf-8")
        result = _cli(["multitask", str(cfg), "--runs", str(tmp_path / "runs"), "--quiet"])
        check_cli(result, ["config.yaml", "config", "task", "weighting", "seeds", "epochs", "lr", "tabmlp", "smallcnn",
                           "backbone", "patience", "val_size", *inputs])
        _no_nan(tmp_path / "runs")

    check()


@pytest.fixture(scope="module")
def shipped_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder shipped by a tiny ``fit`` (tabmlp on two generated classes)."""
    folder = tmp_path_factory.mktemp("shipped")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3)) + np.repeat([[0.0], [2.0]], 40, axis=0)
    np.savez(folder / "train.npz", x=x, y=np.repeat(["a", "b"], 40))
    r = _cli(["fit", "--target", str(folder / "train.npz"), "--source", str(folder / "train.npz"), "--backbone",
              "tabmlp?hidden=4", "--strategy", "linear_probe", "--budgets", "all", "--seeds", "1", "--epochs", "1",
              "--source-epochs", "1", "--quiet", "--runs", str(folder / "runs"), "--save", str(folder / "model")])
    assert r.exit_code == 0, r.output
    return folder / "model"


@LEVELS
def test_cli_model_commands_on_damaged_models_and_data(level: str, tmp_path: Path, shipped_model: Path) -> None:
    import shutil

    @budget(level, "cli model commands")
    @given(tables(), st.sampled_from(["none", "none", "card", "weights", "delete card", "delete weights", "missing"]),
           st.sampled_from(["predict", "predict", "export", "fit"]), st.binary(max_size=60))
    def check(table: tuple[Any, bool], damage: str, command: str, junk: bytes) -> None:
        model = tmp_path / "model"
        shutil.rmtree(model, ignore_errors=True)
        shutil.copytree(shipped_model, model)
        card, weights = model / "model_card.json", model / "model.safetensors"
        if damage in ("card", "weights"):
            (card if damage == "card" else weights).write_bytes(junk)
        elif damage.startswith("delete"):
            (card if damage == "delete card" else weights).unlink()
        elif damage == "missing":
            shutil.rmtree(model)
        data = tmp_path / "data.csv"
        df, _ = table
        _write_table(df.rename(columns=dict(zip(df.columns[:3], ["f0", "f1", "f2"], strict=False))), data)
        if command == "predict":
            args = ["predict", str(model), str(data), "--out", str(tmp_path / "p.csv"), "--quiet"]
        elif command == "export":
            args = ["export", str(model), "--out", str(tmp_path / "m.onnx")]
        else:  # the shipped model as the backbone of another transfer
            args = ["fit", "--target", str(data), "--backbone", f"model:{model}", "--strategy", "linear_probe",
                    "--budgets", "all", "--seeds", "1", "--epochs", "1", "--quiet", "--runs", str(tmp_path / "runs")]
        check_cli(_cli(args), [str(model), "model_card.json", "model.safetensors", "data", "model:", "p.csv"])
        assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"

    check()


JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False, allow_infinity=False),
                      st.text(max_size=6))
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                             st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                          max_leaves=8)


def _paths(d: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(d, dict):
        for k, v in d.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out += _paths(v, (*prefix, i))
    return out


@LEVELS
def test_cli_report_on_damaged_results(level: str, tmp_path: Path) -> None:
    import copy
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from _report_samples import full_results

    base = full_results()
    sections = sorted(base["sections"])

    @budget(level, "cli report")
    @given(st.lists(st.sampled_from(sections), min_size=1, max_size=2, unique=True), st.data(),
           st.sampled_from(["fit", "demo", "rank", "adapt", "similarity", "multitask", "har", "agents", "pretrain"]),
           st.booleans())
    def check(keep: list[str], data: st.DataObject, command: str, quiet: bool) -> None:
        res = copy.deepcopy(base)  # a section or two (each plot costs time), then damaged in 1-3 places
        res["sections"] = {k: res["sections"][k] for k in keep}
        res["command"] = command
        where = _paths(res)
        edits = data.draw(st.lists(st.tuples(st.sampled_from(where), JSON_VALUE, st.booleans()), min_size=1,
                                   max_size=3))
        for path, value, delete in edits:
            node = res
            try:
                for key in path[:-1]:
                    node = node[key]
                if delete:
                    del node[path[-1]]
                else:
                    node[path[-1]] = value
            except (KeyError, IndexError, TypeError):
                continue
        (tmp_path / "results.json").write_text(json.dumps(res), encoding="utf-8")
        result = _cli(["report", str(tmp_path), *(["--quiet"] if quiet else [])])
        check_cli(result, [str(tmp_path), "results.json"])

    check()


def test_budgets_are_documented() -> None:
    """The module docstring promises fast and slow budgets; keep the table in step with the tests."""
    names = {"tables", "raw bytes", "npz", "image folders", "scores", "distances", "cli data commands", "cli fit",
             "cli multitask", "cli model commands", "cli report"}
    assert set(BUDGET) == names and all(slow >= 5 * fast for fast, slow in BUDGET.values())
    assert os.environ.get("HYPOTHESIS_PROFILE") in (None, "", "transferkit-fuzz", "transferkit-fuzz-slow")
