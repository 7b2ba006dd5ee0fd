"""Issue 17: bad, hostile or odd inputs end in a correct result or a clear project error.

One test (or a small group) per audited case and its family: image modes, dtypes, empty and
degenerate inputs, rich markup in user strings, atomic writes, orphan temp files, option names.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from transferkit.errors import DataError

# ---------------------------------------------------------------- images: depth, palette, alpha, size


def _save(path: Path, im) -> str:  # noqa: ANN001 - a PIL image
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path)
    return str(path)


def test_16_bit_png_is_scaled_by_its_own_range(tmp_path: Path) -> None:
    from PIL import Image

    from transferkit.data.readers import load_images, read_image_folder

    a = (np.arange(16).reshape(4, 4) * 4000).astype(np.uint16)
    f = _save(tmp_path / "a" / "x.png", Image.fromarray(a))
    assert Image.open(f).mode == "I;16"
    got = load_images([f])
    assert got.shape == (1, 1, 4, 4)
    np.testing.assert_allclose(got[0, 0], a / 65535.0, atol=1e-6)  # not all 1.0
    _save(tmp_path / "b" / "y.png", Image.fromarray(a[::-1].copy()))
    ds = read_image_folder(tmp_path)
    assert 0.0 <= ds.x.min() and ds.x.max() < 1.0 and len(np.unique(ds.x)) > 2
    # resized 16-bit images keep their scale
    small = load_images([f], image_size=2)
    assert small.shape == (1, 1, 2, 2) and 0.0 < small.max() < 1.0


def test_wide_modes_with_an_unknown_scale_are_refused(tmp_path: Path) -> None:
    from PIL import Image

    from transferkit.data.readers import load_images

    f = _save(tmp_path / "i.tif", Image.fromarray(np.full((4, 4), 70000, np.int32)))
    with pytest.raises(DataError, match=r"i\.tif.*70000"):
        load_images([f])
    f = _save(tmp_path / "f.tif", Image.fromarray(np.full((4, 4), 3.5, np.float32)))
    with pytest.raises(DataError, match=r"f\.tif"):
        load_images([f])
    ok = _save(tmp_path / "g.tif", Image.fromarray(np.full((4, 4), 0.25, np.float32)))
    np.testing.assert_allclose(load_images([ok]), 0.25)
    ok = _save(tmp_path / "h.tif", Image.fromarray(np.full((4, 4), 65535, np.int32)))
    np.testing.assert_allclose(load_images([ok]), 1.0)


def test_palette_and_alpha_images(tmp_path: Path) -> None:
    from PIL import Image

    from transferkit.data.readers import load_images

    im = Image.new("P", (4, 4))
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.putpixel((0, 0), 1)
    got = load_images([_save(tmp_path / "p.png", im)])
    assert got.shape == (1, 3, 4, 4)
    np.testing.assert_allclose(got[0, :, 0, 0], [1, 0, 0])  # the palette colour, not its index
    np.testing.assert_allclose(got[0, :, 1, 1], [0, 0, 0])
    # transparent pixels are composited over white; opaque ones keep their colour
    im = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    im.putpixel((0, 0), (0, 0, 255, 255))
    got = load_images([_save(tmp_path / "a.png", im)])
    np.testing.assert_allclose(got[0, :, 0, 0], [0, 0, 1])
    np.testing.assert_allclose(got[0, :, 3, 3], [1, 1, 1])
    im = Image.new("LA", (4, 4), (0, 0))
    im.putpixel((0, 0), (0, 255))
    got = load_images([_save(tmp_path / "la.png", im)])
    assert got.shape == (1, 1, 4, 4) and got[0, 0, 0, 0] == 0.0 and got[0, 0, 3, 3] == 1.0
    # a palette with a transparent index
    im = Image.new("P", (4, 4))
    im.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    im.info["transparency"] = 0
    im.putpixel((0, 0), 1)
    got = load_images([_save(tmp_path / "pt.png", im)])
    np.testing.assert_allclose(got[0, :, 0, 0], [0, 1, 0])
    np.testing.assert_allclose(got[0, :, 2, 2], [1, 1, 1])


def test_decompression_bomb_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    from transferkit.data.readers import load_images

    f = _save(tmp_path / "huge.png", Image.new("L", (64, 64)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 64*64 > 2 * 100: Pillow's bomb error
    with pytest.raises(DataError, match=r"huge\.png.*too large"):
        load_images([f])


@pytest.mark.parametrize("content", [b"", b"not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40])
def test_broken_image_files_name_the_file(tmp_path: Path, content: bytes) -> None:
    from transferkit.data.readers import load_images

    f = tmp_path / "bad.png"
    f.write_bytes(content)
    with pytest.raises(DataError, match=r"bad\.png"):
        load_images([str(f)])


# ---------------------------------------------------------------- rich markup in user strings

MARKUP_NAMES = ["data[/x]", "[bold]b", "x[/]", "c\\"]


def _cli(*args: str):  # noqa: ANN202 - a click Result
    from typer.testing import CliRunner

    from transferkit.cli import app

    return CliRunner().invoke(app, list(args))


def _markup_table(tmp_path: Path) -> Path:
    folder = tmp_path / "data["  # the file is literally `data[/x].csv`
    folder.mkdir()
    f = folder / "x].csv"
    rng = np.random.default_rng(0)
    rows = ["[/c],label"] + [f"{rng.normal() + i % 2:.4f},{MARKUP_NAMES[i % 2]}" for i in range(20)]
    f.write_text("\n".join(rows) + "\n")
    return f


def test_markup_in_file_column_and_class_names_prints_literally(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setenv("TRANSFERKIT_DATA", os.environ.get("TRANSFERKIT_DATA", ""))  # --data-root sets it
    f = _markup_table(tmp_path)
    assert str(f).endswith("data[/x].csv")
    r = _cli("rank", "--target", str(f), "--models", "raw", "--scores", "logme", "--runs", str(tmp_path / "runs"))
    assert r.exit_code == 0, r.output
    r = _cli("rank", "--target", str(f), "--models", "raw", "--runs", str(tmp_path / "runs"), "--scores", "[/x]")
    assert r.exit_code == 2 and "unknown transferability score '[/x]'" in r.output and "Traceback" not in r.output
    # an error message that quotes the column names: printed as they are, from inside the error handler
    f2 = f.with_name("y].csv")
    f2.write_text("[/c],[bold]d\\\n1,2\n")
    r = _cli("rank", "--target", str(f2), "--models", "raw", "--runs", str(tmp_path / "runs"))
    assert r.exit_code == 3, r.output  # bad data
    out = "".join(r.output.split())
    assert "data[/y].csv" in out and "'[/c]'" in out and "'[bold]d\\\\'" in out
    # commands that print the user's spec in their first line (a rule) or a title
    r = _cli("fit", "--target", str(f), "--backbone", "tabmlp", "--runs", str(tmp_path / "runs"), "--quiet")
    assert r.exit_code == 2 and "transferkit fit: tabmlp -> " in r.output and "built-in" in r.output
    r = _cli("datasets", "--data-root", str(tmp_path / "r[/x]"))
    assert r.exit_code == 0 and "r[/x]" in r.output


def test_markup_in_progress_descriptions(tmp_path: Path) -> None:
    from transferkit.backbones import create_backbone
    from transferkit.data import Dataset
    from transferkit.features import extract_features

    ds = Dataset(x=np.random.default_rng(0).random((6, 3)).astype(np.float32), y=np.arange(6) % 2, kind="table",
                 class_names=("[/a]", "b"), name="d[/x]")
    bb = create_backbone("tabmlp?hidden=8", ds)
    assert extract_features(bb, ds, progress=True, cache=False).shape[0] == 6


def test_cli_consoles_never_parse_markup() -> None:
    from transferkit.cli._app import console, err_console

    assert not console._markup and not err_console._markup  # noqa: SLF001 - the promise under test


# ---------------------------------------------------------------- adaptation: labels are encoded


def test_adapt_evaluate_encodes_raw_labels() -> None:
    from transferkit.adaptation import adapt

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(1, 21), 15)  # labels 1..20, not 0..19
    centers = rng.normal(scale=4.0, size=(21, 6))
    x = centers[y] + rng.normal(size=(len(y), 6))
    res = adapt((x, y), x + 0.1, "coral", target_val=(x[:40] + 0.1, y[:40]))
    rows = res.evaluate(x + 0.1, y)
    assert all(r["target_accuracy"] > 0.8 for r in rows)  # was ~0.001: indices compared with raw labels
    assert all(r["target_val_accuracy"] > 0.8 for r in rows)
    # string labels work the same way; a test label the source never had is an error, not "wrong"
    names = np.array([f"c{v:02d}" for v in y])
    res = adapt((x, names), x + 0.1, "coral")
    assert min(r["target_accuracy"] for r in res.evaluate(x + 0.1, names)) > 0.8
    with pytest.raises(DataError, match="not among the source classes"):
        res.evaluate(x[:3], np.array(["c01", "c02", "zz"]))
    with pytest.raises(DataError, match="mix types"):
        adapt((x[:4], np.array([1, "a", 2, "b"], dtype=object)), x[:4], "coral")


def test_run_adapt_matches_target_classes_by_name() -> None:
    from transferkit.adaptation.run import source_labels
    from transferkit.data import Dataset

    src = Dataset(x=np.zeros((4, 2)), y=np.array([0, 1, 2, 0]), kind="table", class_names=("a", "b", "c"))
    tgt = Dataset(x=np.zeros((3, 2)), y=np.array([0, 1, 1]), kind="table", class_names=("b", "c"))
    np.testing.assert_array_equal(source_labels(tgt, src), [1, 2, 2])
    other = Dataset(x=np.zeros((2, 2)), y=np.array([0, 1]), kind="table", class_names=("a", "q"), name="t")
    with pytest.raises(DataError, match=r"t: classes \['q'\]"):
        source_labels(other, src)


# ---------------------------------------------------------------- dtypes, empty and header-only files


def _npz(tmp_path: Path, **arrays: np.ndarray) -> Path:
    f = tmp_path / "d.npz"
    np.savez(f, **arrays)
    return f


Y4 = np.array([0, 1, 0, 1])


@pytest.mark.parametrize(("x", "match"), [
    (np.ones((4, 2)) + 1j, "complex"),
    (np.full((4, 2), 1e300), "1e\\+300 exceed float32's range"),
    (np.full((4, 2), np.nan), "NaN or infinite"),
    (np.array([["a", "b"]] * 4), "must be numbers, got dtype <U1"),
    (np.zeros((4, 2), dtype="datetime64[D]"), "must be numbers"),
    (np.zeros((0, 2)), "no rows"),
    (np.array(1.0), "one row per example"),
    (np.zeros((3, 2)), "one row per example"),
])
def test_npz_inputs_are_real_finite_numbers(tmp_path: Path, x: np.ndarray, match: str) -> None:
    from transferkit.data.readers import read_npz

    y = Y4 if len(np.shape(x)) == 0 or len(x) else np.zeros(0)
    with pytest.raises(DataError, match=match) as err:
        read_npz(_npz(tmp_path, x=x, y=y))
    assert "d.npz" in str(err.value)


def test_npz_object_arrays_and_non_archives_are_refused(tmp_path: Path) -> None:
    from transferkit.data.readers import read_npz

    f = _npz(tmp_path, x=np.array([[object(), 1]] * 4, dtype=object), y=Y4)
    with pytest.raises(DataError, match="never unpickles"):
        read_npz(f)
    with open(f, "wb") as fh:
        np.save(fh, np.zeros(3))  # a bare .npy under a .npz name
    with pytest.raises(DataError, match=r"d\.npz"):
        read_npz(f)
    f.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match=r"d\.npz"):
        read_npz(f)
    ok = read_npz(_npz(tmp_path, x=np.ones((4, 2), dtype=bool), y=Y4))
    assert ok.x.dtype == np.float32


@pytest.mark.parametrize(("content", "match"), [
    ("a,label\n", "has no rows"),
    ("", "is empty"),
    ("a,label\n1e300,x\n2,y\n", "exceed float32's range"),
    ("a,label\n,x\n1,y\n", r"columns \['a'\] hold NaN"),
    ("text,label\n", "has no rows"),
])
def test_csv_edge_cases(tmp_path: Path, content: str, match: str) -> None:
    from transferkit.data.readers import read_path

    f = tmp_path / "t.csv"
    f.write_text(content)
    with pytest.raises(DataError, match=match) as err:
        read_path(f)
    assert "t.csv" in str(err.value)


def test_dataset_refuses_complex_and_float32_overflow() -> None:
    from transferkit.data import Dataset

    with pytest.raises(DataError, match="real numbers"):
        Dataset(x=np.ones((2, 2)) * 1j, y=np.array([0, 1]), kind="table", class_names=("a", "b"))
    with pytest.raises(DataError, match="float32's range"):
        Dataset(x=np.full((2, 2), 1e300), y=np.array([0, 1]), kind="table", class_names=("a", "b"))


# ---------------------------------------------------------------- scores and distances at extreme scales


@pytest.mark.parametrize("scale", [1e200, 1e-200, 1e39])
def test_scores_and_distances_refuse_features_beyond_float32_alike(scale: float) -> None:
    from transferkit.similarity import DISTANCES
    from transferkit.transferability import SCORES

    rng = np.random.default_rng(0)
    y = np.arange(60) % 3
    f = (rng.normal(size=(60, 5)) + y[:, None]) * scale
    for name in SCORES.names():
        if SCORES.info(name).input != "features":
            continue
        with pytest.raises(DataError, match="outside float32's range"):  # was nan (gbc), 0 (h_score), LinAlgError
            SCORES.get(name)(f, y)
    for name in DISTANCES.names():
        with pytest.raises(DataError, match="outside float32's range"):
            DISTANCES.get(name)(f[:30], f[30:])


def test_scale_invariant_scores_keep_their_value_within_range() -> None:
    from transferkit.transferability import SCORES

    rng = np.random.default_rng(0)
    y = np.arange(60) % 3
    f = rng.normal(size=(60, 5)) + y[:, None]
    for name in ("h_score", "regularized_h_score", "transrate", "logme", "knn_accuracy"):
        ref = SCORES.get(name)(f, y)
        for scale in (1e30, 1e-30):
            assert SCORES.get(name)(f * scale, y) == pytest.approx(ref, rel=1e-6, abs=1e-9), (name, scale)


def test_nleep_mixture_failure_is_a_data_error() -> None:
    from transferkit.transferability import SCORES

    rng = np.random.default_rng(0)
    y = np.arange(60) % 3
    f = (rng.normal(size=(60, 5)) + y[:, None]) * 1e30  # sklearn's mixture collapses at this scale
    with pytest.raises(DataError, match="nleep"):
        SCORES.get("nleep")(f, y)


# ---------------------------------------------------------------- files written: paths, atomicity, orphans


def test_features_out_prints_the_path_it_writes(tmp_path: Path) -> None:
    from transferkit.data.readers import read_npz

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    r = _cli("features", "--data", "breast-cancer", "--backbone", "tabmlp?hidden=8", "--out", str(out_dir),
             "--no-cache")
    assert r.exit_code == 0, r.output
    written = out_dir / "breast-cancer-features.npz"
    assert f"saved {written}" in "".join(r.output.split("\n")) and written.is_file()
    assert read_npz(written).x.shape[0] == 569
    r = _cli("features", "--data", "breast-cancer", "--backbone", "tabmlp?hidden=8", "--out", str(tmp_path / "feats"),
             "--no-cache")
    assert r.exit_code == 0 and (tmp_path / "feats.npz").is_file() and not (tmp_path / "feats").exists()
    assert f"saved {tmp_path / 'feats.npz'}" in "".join(r.output.split("\n"))
    assert not list(tmp_path.rglob("*.tmp"))  # written through a temp file, renamed into place


def test_extract_features_on_empty_data_names_it() -> None:
    from transferkit.data import Dataset
    from transferkit.features import extract_features

    ds = Dataset(x=np.zeros((0, 3), np.float32), y=None, kind="table", name="nothing")
    with pytest.raises(DataError, match="'nothing' holds no inputs"):
        extract_features("tabmlp?hidden=8&in_features=3", ds, cache=False)
    with pytest.raises(DataError, match="batch-size"):
        extract_features("tabmlp?hidden=8&in_features=3", np.zeros((2, 3), np.float32), cache=False,
                         batch_size=0)


def _dead_pid() -> int:
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_orphan_temp_files_are_removed_but_not_a_live_writers(tmp_path: Path) -> None:
    import os
    import time

    from transferkit import _io
    from transferkit.features import FeatureCache

    host = _io._HOST  # noqa: SLF001
    dead = tmp_path / f".abc.npy.{host}-{_dead_pid()}.0a1b2c3d.tmp"
    live = tmp_path / f".abc.npy.{host}-{os.getpid()}.0a1b2c3e.tmp"
    other_host_new = tmp_path / ".abc.npy.elsewhere-1.0a1b2c3f.tmp"
    other_host_old = tmp_path / ".abd.npy.elsewhere-1.0a1b2c40.tmp"
    old_unknown = tmp_path / ".legacy.tmp"
    keep = tmp_path / "entry.npy"
    for p in (dead, live, other_host_new, other_host_old, old_unknown, keep):
        p.write_bytes(b"x" * 10)
    hour_ago = time.time() - 3600
    for p in (other_host_old, old_unknown, keep):
        os.utime(p, (hour_ago, hour_ago))
    assert FeatureCache(tmp_path).remove_orphans() == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other_host_new.name, keep.name])
    # the cache cleans up on use (at most once a minute per folder)
    dead2 = tmp_path / f".x.npy.{host}-{_dead_pid()}.0a1b2c41.tmp"
    dead2.write_bytes(b"x")
    from transferkit.features import cache as cache_mod

    cache_mod._CLEANED.clear()  # noqa: SLF001
    assert FeatureCache(tmp_path).load("0" * 64) is None and not dead2.exists()


def test_cache_keys_cannot_name_other_folders(tmp_path: Path) -> None:
    from transferkit.features import FeatureCache

    for key in ("../x", "a/b", "", ".hidden", "x" * 200):
        with pytest.raises(DataError, match="invalid feature-cache key"):
            FeatureCache(tmp_path).store(key, np.zeros((1, 1)))


def test_corrupt_results_json_names_the_file(tmp_path: Path) -> None:
    from transferkit._io import read_results

    f = tmp_path / "results.json"
    for text in ('{"schema": "transferkit.results/1", ', "\udcff", "[" * 100_000):
        f.write_bytes(text.encode("utf-8", "surrogateescape"))
        with pytest.raises(DataError, match=r"results\.json") as err:
            read_results(tmp_path)
        assert str(tmp_path) in str(err.value)
    r = _cli("report", str(tmp_path))
    assert r.exit_code == 3 and "results.json" in r.output and "Traceback" not in r.output


def test_seed_options_name_the_option(tmp_path: Path) -> None:
    for cmd in (["rank", "--target", "breast-cancer", "--models", "raw"],
                ["similarity", "--source", "breast-cancer", "--target", "breast-cancer", "--backbone", "raw"],
                ["pretrain", "--source", "breast-cancer", "--backbone", "tabmlp", "--name", "x"]):
        r = _cli(*cmd, "--seed", "-1", "--runs", str(tmp_path))
        assert r.exit_code == 2 and "--seed" in r.output, r.output


# ---------------------------------------------------------------- model files: safetensors only


def _tiny_bert(folder: Path, safe: bool) -> Path:
    transformers = pytest.importorskip("transformers")
    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    transformers.BertTokenizer(str(folder / "vocab.txt")).save_pretrained(folder)
    cfg = transformers.BertConfig(vocab_size=len(vocab), hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=16, max_position_embeddings=32)
    model = transformers.BertModel(cfg)
    model.save_pretrained(folder)
    if not safe:  # the old pickle format (transformers 5 no longer writes it)
        import torch

        torch.save(model.state_dict(), folder / "pytorch_model.bin")
        (folder / "model.safetensors").unlink()
    return folder


def test_hf_folders_load_safetensors_only(tmp_path: Path) -> None:
    from transferkit.backbones import create_backbone
    from transferkit.errors import BackboneError

    ok = create_backbone(f"hf:{_tiny_bert(tmp_path / 'safe', True)}")
    assert ok.num_features == 8
    pickled = _tiny_bert(tmp_path / "pickled", False)
    assert (pickled / "pytorch_model.bin").is_file() and not list(pickled.glob("*.safetensors"))
    with pytest.raises(BackboneError, match="never unpickles") as err:
        create_backbone(f"hf:{pickled}")
    assert "pytorch_model.bin" in str(err.value)


# ---------------------------------------------------------------- exit codes: 0 ok, 1 bug, 2 usage, 3 bad data/model


def _bad_csv(tmp_path: Path) -> Path:
    f = tmp_path / "bad.csv"
    f.write_text("a,label\n1,x\n,y\n3,x\n")
    return f


def test_exit_codes_usage_and_data(tmp_path: Path) -> None:
    runs = ["--runs", str(tmp_path / "runs")]
    assert _cli("models").exit_code == 0
    usage = {
        "unknown name": ["rank", "--target", "breast-cancer", "--models", "raw", "--scores", "logmee", *runs],
        "typer's own check": ["rank", "--target", "breast-cancer", "--models", "raw", "--seed", "-1", *runs],
        "missing path": ["rank", "--target", str(tmp_path / "nope.csv"), "--models", "raw", *runs],
        "bad backbone option": ["features", "--data", "breast-cancer", "--backbone", "tabmlp?depth=x"],
        "random backbone for transfer": ["fit", "--target", "breast-cancer", "--backbone", "tabmlp", "--quiet",
                                         *runs],
        "missing run folder": ["report", str(tmp_path / "no-run")],
        "unknown zoo entry": ["features", "--data", "breast-cancer", "--backbone", "zoo:nothing-here"],
    }
    for what, args in usage.items():
        r = _cli(*args)
        assert r.exit_code == 2, (what, r.output)
        assert "Traceback" not in r.output and "internal error" not in r.output, what
    data = {
        "NaN cell": ["rank", "--target", str(_bad_csv(tmp_path)), "--models", "raw", *runs],
        "damaged weights": ["features", "--data", "breast-cancer", "--backbone",
                            f"timm:resnet18?weights={tmp_path / 'bad.csv'}"],
    }
    for what, args in data.items():
        r = _cli(*args)
        assert r.exit_code == 3, (what, r.output)
        assert r.output.startswith("error: ") and "Traceback" not in r.output, what


def test_exit_code_1_for_bugs_with_a_report_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import transferkit.data as data

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("some_internal_key")

    monkeypatch.setattr(data, "load_dataset", broken)
    monkeypatch.delenv("TRANSFERKIT_DEBUG", raising=False)
    r = _cli("features", "--data", "breast-cancer", "--backbone", "tabmlp")
    assert r.exit_code == 1
    out = " ".join(r.output.split())
    assert "internal error: KeyError: 'some_internal_key'" in out and "please report" in out
    assert "Traceback" not in out
    monkeypatch.setenv("TRANSFERKIT_DEBUG", "1")
    r = _cli("features", "--data", "breast-cancer", "--backbone", "tabmlp")
    assert r.exit_code == 1 and "Traceback" in r.output and "please report" in r.output
    # with TRANSFERKIT_DEBUG a project error keeps its own code, with the traceback first
    r = _cli("rank", "--target", "breast-cancer", "--models", "raw", "--scores", "logmee")
    assert r.exit_code == 2 and "Traceback" in r.output and "unknown transferability score" in r.output


def test_exit_code_of_each_error_class() -> None:
    from transferkit.cli._common import exit_code
    from transferkit.errors import (
        BackboneError,
        BackboneSpecError,
        DataArgumentError,
        TransferkitError,
        UnknownName,
        UsageError,
    )
    from transferkit.reports._values import ReportError

    assert exit_code(UnknownName("score", "x", ["y"])) == 2
    assert exit_code(UsageError("x")) == exit_code(TransferkitError("x")) == 2
    assert exit_code(DataArgumentError("x")) == exit_code(BackboneSpecError("x")) == 2
    assert exit_code(DataError("x")) == exit_code(BackboneError("x")) == exit_code(ReportError("x")) == 3
    assert exit_code(FileNotFoundError("x")) == exit_code(PermissionError("x")) == 2
    for bug in (KeyError("x"), ValueError("x"), TypeError("x"), RuntimeError("x"), IndexError("x")):
        assert exit_code(bug) == 1
    assert isinstance(DataArgumentError("x"), DataError) and isinstance(BackboneSpecError("x"), BackboneError)


def test_exit_codes_of_a_real_process(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    code = "from transferkit.cli import app; app()"
    r = subprocess.run([sys.executable, "-c", code, "rank", "--target", str(_bad_csv(tmp_path)), "--models", "raw",
                        "--runs", str(tmp_path)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 3 and "columns ['a'] hold NaN" in r.stderr and "Traceback" not in r.stderr


# ---------------------------------------------------------------- security: no pickle is loaded, no name escapes its folder


class _Payload:
    """Unpickling this creates the marker file: proof that a loader ran a pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (Path.touch, (self.marker,))


def test_pickled_weights_are_refused_before_anything_reads_them(tmp_path: Path) -> None:
    import pickle

    import torch

    from transferkit.backbones import create_backbone
    from transferkit.errors import BackboneError

    marker = tmp_path / "ran"
    torch.save({"w": _Payload(marker)}, tmp_path / "w.pt")
    (tmp_path / "disguised.safetensors").write_bytes((tmp_path / "w.pt").read_bytes())  # zip under a safe name
    (tmp_path / "raw.safetensors").write_bytes(pickle.dumps({"w": _Payload(marker)}))  # a bare pickle
    for name in ("w.pt", "disguised.safetensors", "raw.safetensors"):
        for provider in ("timm:resnet18", "torchvision:resnet18"):
            with pytest.raises(BackboneError, match="never unpickles") as err:
                create_backbone(f"{provider}?weights={tmp_path / name}")
            assert name in str(err.value) and "safetensors" in str(err.value)
    assert not marker.exists()
    r = _cli("features", "--data", "breast-cancer", "--backbone", f"timm:resnet18?weights={tmp_path / 'w.pt'}")
    assert r.exit_code == 3 and "never unpickles" in r.output and not marker.exists()


def test_pickled_checkpoints_and_data_are_never_unpickled(tmp_path: Path) -> None:
    import pickle

    import torch

    from transferkit.data.readers import read_npz
    from transferkit.training.checkpoint import Checkpoint, load_checkpoint, save_checkpoint

    marker = tmp_path / "ran"
    net = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    folder = tmp_path / "ck"
    save_checkpoint(folder, {"net": net}, opt, Checkpoint(1, 0, 0, 0.5, [], 0.0, None, {}))
    (folder / "last.safetensors").write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(DataError, match="not a readable safetensors checkpoint"):
        load_checkpoint(folder, {"net": net}, opt)
    (folder / "state.json").write_text("{torn")
    with pytest.raises(DataError, match=r"state\.json is damaged"):
        load_checkpoint(folder, {"net": net}, opt)
    np.savez(tmp_path / "obj.npz", x=np.array([_Payload(marker)], dtype=object), y=np.array([0]))
    with pytest.raises(DataError, match="never unpickles"):
        read_npz(tmp_path / "obj.npz")
    assert not marker.exists()


def test_names_never_become_paths_outside_their_folder(tmp_path: Path) -> None:
    from transferkit._io import make_run_dir
    from transferkit.backbones.zoo import check_name
    from transferkit.data import load_dataset
    from transferkit.errors import BackboneError
    from transferkit.features import FeatureCache

    for bad in ("../x", "a/b", "..", "/abs", "x\\y", ""):
        with pytest.raises(BackboneError):
            check_name(bad)  # zoo entry names (pretrain --name, zoo:NAME) are folder names
        with pytest.raises(DataError):
            FeatureCache(tmp_path).path(bad)
    for name in ("../../escape", "/abs/x", "..", "a/../../b"):
        run = make_run_dir("fit", tmp_path / "runs", name)
        assert run.parent == tmp_path / "runs" and ".." not in run.name and "/" not in run.name
    for spec in ("mnist@../x", "heart-disease:../../etc", "office-caltech10-surf:../x", "uci-har:../1"):
        with pytest.raises(DataError):
            load_dataset(spec)
    r = _cli("pretrain", "--source", "breast-cancer", "--backbone", "tabmlp", "--name", "../evil",
             "--zoo", str(tmp_path / "zoo"), "--runs", str(tmp_path / "runs"))
    assert r.exit_code == 2 and "not valid" in r.output and not (tmp_path / "evil").exists()


def test_multitask_task_names_are_plain(tmp_path: Path) -> None:
    from transferkit.multitask.config import MultitaskConfigError, TaskSpec

    for bad in ("../x", "a/b", "x y"):
        with pytest.raises(MultitaskConfigError, match="task name"):
            TaskSpec(name=bad, data="breast-cancer")


def test_yaml_configs_cannot_construct_objects(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    cfg = tmp_path / "evil.yaml"
    cfg.write_text(f"backbone: !!python/object/apply:pathlib.Path.touch [!!python/object/apply:pathlib.Path "
                   f"['{marker}']]\ntasks: []\n")
    r = _cli("multitask", str(cfg), "--runs", str(tmp_path / "runs"))
    assert r.exit_code == 2 and "not valid YAML" in r.output and not marker.exists()
    cfg.write_bytes(b"\xff\xfe\x00binary")
    r = _cli("multitask", str(cfg), "--runs", str(tmp_path / "runs"))
    assert r.exit_code == 2 and "not valid YAML" in r.output


def test_decoding_more_images_than_memory_holds_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    from transferkit.data import readers

    files = [_save(tmp_path / f"i{k}.png", Image.new("L", (64, 64))) for k in range(3)]
    monkeypatch.setattr(readers, "_available_memory", lambda: 10_000)  # 3 x 64 x 64 x 4 bytes do not fit
    with pytest.raises(DataError, match=r"i0\.png.*image_size"):
        readers.load_images(files)
    assert readers.load_images(files, image_size=8).shape == (3, 1, 8, 8)  # small enough


# ---------------------------------------------------------------- named pipes: refused, never waited on


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
def test_named_pipes_are_refused_without_waiting(tmp_path: Path) -> None:
    """A FIFO named like a data file, an image, a config, a results file or a model card would block a
    read forever: every command refuses it at once (exit 3 or 2), naming it. Nothing writes to the
    pipes, so a reader that opened one would hang until the timeout."""
    import subprocess
    import sys

    fifo_csv = tmp_path / "data.csv"
    os.mkfifo(fifo_csv)
    folder = tmp_path / "images"
    (folder / "a").mkdir(parents=True)
    (folder / "b").mkdir()
    os.mkfifo(folder / "a" / "x.png")
    os.mkfifo(tmp_path / "config.yaml")
    run = tmp_path / "run"
    run.mkdir()
    os.mkfifo(run / "results.json")
    model = tmp_path / "model"
    model.mkdir()
    os.mkfifo(model / "model_card.json")
    cases = [
        (["rank", "--target", str(fifo_csv), "--models", "raw"], 3, "data.csv"),
        (["rank", "--target", str(folder), "--models", "raw"], 3, "x.png"),
        (["multitask", str(tmp_path / "config.yaml")], 2, "config.yaml"),
        (["report", str(run)], 3, "results.json"),
        (["predict", str(model), "digits", "--out", str(tmp_path / "p.csv")], 3, "model_card.json"),
    ]
    for args, code, name in cases:
        p = subprocess.run([sys.executable, "-m", "transferkit.cli", *args], capture_output=True, text=True,
                           timeout=120, cwd=tmp_path, env={**os.environ, "COLUMNS": "400"})
        assert p.returncode == code, (args, p.returncode, p.stdout, p.stderr)
        out = p.stdout + p.stderr
        assert name in out and "Traceback" not in out, (args, out)
