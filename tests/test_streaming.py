"""Inputs larger than memory: ``.npy`` and stored ``.npz`` members are memory-mapped and read a batch at a time.

The data are real MNIST digits written to ``.npy``/``.npz`` files in a temporary folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from transferkit.errors import DataArgumentError, DataError


@pytest.fixture(scope="module")
def digits_files(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """``x.npy`` (3,000 MNIST test digits, uint8 (N, 28, 28)) and ``y.npy`` in one folder."""
    from transferkit.data import load_dataset

    mnist = load_dataset("mnist@test", root=data_root)
    x = np.rint(np.asarray(mnist.x[:3000, 0]) * 255).astype(np.uint8)
    y = np.asarray(mnist.y[:3000])
    folder = tmp_path_factory.mktemp("arrays")
    np.save(folder / "x.npy", x)
    np.save(folder / "y.npy", y)
    return folder, x, y


class CountingMap(np.memmap):
    """A memory map that records how many rows each indexing reads."""

    reads: list[int] = []

    def __getitem__(self, index: object) -> object:
        out = super().__getitem__(index)
        if isinstance(out, np.ndarray) and out.ndim == self.ndim:
            CountingMap.reads.append(len(out))
        return out


def test_npy_with_labels_stays_a_memory_map(digits_files) -> None:
    from transferkit.data import load_dataset
    from transferkit.data.dataset import _file_map

    folder, x, y = digits_files
    ds = load_dataset(f"{folder / 'x.npy'}?label=y.npy")
    assert isinstance(ds.x, np.memmap) and _file_map(ds.x) is not None  # backed by the file, not a copy
    assert ds.kind == "image" and ds.x.shape == (3000, 1, 28, 28) and ds.x.dtype == np.uint8
    assert ds.class_names == tuple(str(i) for i in range(10)) and np.array_equal(ds.y, y)
    same = load_dataset(str(folder))  # a folder holding x.npy and y.npy
    assert isinstance(same.x, np.memmap) and same.name == folder.name
    assert same.fingerprint() == ds.fingerprint() == load_dataset(f"{folder / 'x.npy'}?label=y.npy").fingerprint()
    eager = type(ds)(x=np.array(x)[:, None], y=ds.y, kind="image", class_names=ds.class_names)
    assert eager.fingerprint() == ds.fingerprint()  # every byte hashed: the cache is shared with in-memory data


def test_extraction_reads_a_map_batch_by_batch_and_equals_the_in_memory_path(digits_files) -> None:
    from transferkit.backbones import create_backbone
    from transferkit.data import Dataset, load_dataset
    from transferkit.features import extract_features

    folder, x, _ = digits_files
    ds = load_dataset(str(folder))
    counting = Dataset(x=ds.x.view(CountingMap), y=ds.y, kind="image", class_names=ds.class_names)
    assert isinstance(counting.x, CountingMap)
    b = create_backbone("zoo:mnist-cnn")
    CountingMap.reads = []
    lazy = extract_features(b, counting, cache=False, progress=False, batch_size=256)
    assert CountingMap.reads and max(CountingMap.reads) <= 256 and sum(CountingMap.reads) == len(x)
    eager = Dataset(x=np.array(x)[:, None], y=ds.y, kind="image", class_names=ds.class_names)
    np.testing.assert_array_equal(lazy, extract_features(b, eager, cache=False, progress=False, batch_size=256))
    workers = extract_features(b, ds, cache=False, progress=False, batch_size=256, num_workers=2)
    np.testing.assert_array_equal(workers, lazy)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_released_pages_leave_the_resident_set(tmp_path: Path) -> None:
    from transferkit.data.dataset import release_mapped_pages

    def rss_file() -> int:
        text = Path("/proc/self/status").read_text()
        return int(next(line.split()[1] for line in text.splitlines() if line.startswith("RssFile:"))) * 1024

    np.save(tmp_path / "big.npy", np.ones((1024, 64 * 1024), dtype=np.uint8))  # 64 MiB
    mm = np.load(tmp_path / "big.npy", mmap_mode="r")
    before = rss_file()
    assert int(mm.sum(dtype=np.int64)) == mm.size  # every page read
    read = rss_file()
    release_mapped_pages(mm[10:20])  # any view of the map releases the map
    assert read - before > 48 * 2**20 and read - rss_file() > 48 * 2**20
    assert int(mm[5].sum()) == mm.shape[1]  # still readable after the release


def test_npy_label_errors_say_what_to_do(digits_files, tmp_path: Path) -> None:
    from transferkit.data import load_dataset, read_npy

    folder, _, y = digits_files
    np.save(tmp_path / "short.npy", y[:10])
    with pytest.raises(DataError, match=r"one label per row; got shapes \(3000, 1, 28, 28\) and \(10,\)"):
        read_npy(folder / "x.npy", labels=tmp_path / "short.npy")
    with pytest.raises(DataError, match=r"no labels given: .*x\.npy\?label=LABELS\.npy"):
        load_dataset(str(folder / "x.npy"))
    assert read_npy(folder / "x.npy", require_labels=False).y is None
    with pytest.raises(DataArgumentError, match="not found"):
        load_dataset(f"{folder / 'x.npy'}?label=missing.npy")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="never unpickles"):
        read_npy(tmp_path / "obj.npy", require_labels=False)


def test_stored_npz_members_are_mapped_and_compressed_ones_refused(digits_files, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from transferkit.data import read_npz, readers

    _, x, y = digits_files
    xf = np.asfortranarray(x[:500].reshape(500, -1).astype(np.float32) / 255)  # a table in Fortran order
    np.savez(tmp_path / "stored.npz", x=xf, y=y[:500])
    mapped = read_npz(tmp_path / "stored.npz", mmap=True)
    assert isinstance(mapped.x, np.memmap) and mapped.x.dtype == np.float32
    np.testing.assert_array_equal(mapped.x, xf)
    assert mapped.fingerprint() == read_npz(tmp_path / "stored.npz", mmap=False).fingerprint()
    assert not isinstance(read_npz(tmp_path / "stored.npz").x, np.memmap)  # small: read into memory
    monkeypatch.setattr(readers, "MAP_MIN_BYTES", 1000)
    assert isinstance(read_npz(tmp_path / "stored.npz").x, np.memmap)  # large: mapped by default

    np.savez_compressed(tmp_path / "packed.npz", x=x, y=y)
    with pytest.raises(DataError, match="compressed in the archive, and a compressed member cannot be memory-mapped: "
                                        r"re-save it uncompressed with numpy\.savez"):
        read_npz(tmp_path / "packed.npz", mmap=True)
    monkeypatch.setattr(readers, "_available_memory", lambda: 1_000_000)
    with pytest.raises(DataError, match=r"does not fit in the 0\.0 GB of free memory"):
        read_npz(tmp_path / "packed.npz")
    monkeypatch.setattr(readers, "_available_memory", lambda: None)
    packed = read_npz(tmp_path / "packed.npz")  # fits: read into memory, as (N, 1, 28, 28) uint8 images
    assert packed.kind == "image" and packed.x.dtype == np.uint8 and np.array_equal(packed.x[:, 0], x)


def test_nan_in_a_mapped_float_array_is_found_block_by_block(tmp_path: Path, monkeypatch) -> None:
    from transferkit.data import dataset, read_npy

    x = np.zeros((400, 3, 16), dtype=np.float32)
    x[321, 2, 5] = np.nan
    np.save(tmp_path / "s.npy", x)
    np.save(tmp_path / "y.npy", np.arange(400) % 2)
    monkeypatch.setattr(dataset, "_CHUNK_BYTES", 1000)  # many blocks
    with pytest.raises(DataError, match="1 input values are NaN or infinite"):
        read_npy(tmp_path / "s.npy", labels="y.npy")


def test_integer_labels_encode_like_any_labels() -> None:
    from transferkit.data import encode_labels

    y = np.random.default_rng(0).choice([7, 3, 12, -1], size=500)
    fast = encode_labels(y)
    slow = encode_labels(y.tolist())
    assert fast[1] == slow[1] == ("-1", "3", "7", "12") and np.array_equal(fast[0], slow[0])
    names = ("-1", "0", "3", "7", "12")
    assert np.array_equal(encode_labels(y, names)[0], encode_labels(y.tolist(), names)[0])
    with pytest.raises(DataError, match=r"labels \['12'\] are not among the known classes"):
        encode_labels(y, ("-1", "3", "7"))


def test_chunk_size_does_not_change_sfda_and_etran(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from transferkit import _compute
    from transferkit.data import load_dataset
    from transferkit.transferability._etran import etran_terms
    from transferkit.transferability._sfda import sfda

    ds = load_dataset("usps@test", root=data_root)
    f = np.asarray(ds.x).reshape(len(ds), -1).astype(np.float32)
    whole = (sfda(f, ds.y), etran_terms(f, ds.y))
    monkeypatch.setattr(_compute, "CHUNK_BYTES", 5 * 8 * f.shape[1])  # five rows a chunk
    assert _compute.chunk_rows(len(f), f.shape[1], _compute.resolve_device(None)) == 5
    chunked = (sfda(f, ds.y), etran_terms(f, ds.y))
    assert chunked[0] == pytest.approx(whole[0], rel=1e-10)
    assert chunked[1] == pytest.approx(whole[1], rel=1e-10)


def test_features_and_rank_cli_read_a_folder_of_arrays(digits_files, tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from transferkit.cli import app

    folder, _, _ = digits_files
    monkeypatch.setenv("TRANSFERKIT_CACHE", str(tmp_path / "cache"))
    runner = CliRunner()
    r = runner.invoke(app, ["features", "--data", f"{folder / 'x.npy'}?label=y.npy", "-b", "zoo:mnist-cnn",
                            "--out", str(tmp_path / "f.npz")])
    assert r.exit_code == 0, r.output
    assert "3000 x 128 features" in r.output
    r = runner.invoke(app, ["rank", "--target", str(folder), "-m", "zoo:mnist-cnn", "--scores", "logme,sfda",
                            "--out", str(tmp_path / "runs")])
    assert r.exit_code == 0, r.output


def test_batches_for_spawned_workers_carry_the_file_not_its_content(digits_files) -> None:
    import pickle

    from transferkit.data import load_dataset, read_npz
    from transferkit.features.extract import _PreparedBatches

    folder, x, _ = digits_files
    ds = load_dataset(str(folder))  # (N, 1, 28, 28): a view of the (N, 28, 28) map
    blob = pickle.dumps(_PreparedBatches(ds.x, None, np.asarray, 100))
    assert len(blob) < 10_000 < x.nbytes
    again = pickle.loads(blob)
    assert isinstance(again.x, np.memmap) and again.x.shape == ds.x.shape and np.array_equal(again[29], x[2900:, None])
    np.savez(folder / "t.npz", x=np.asfortranarray(x.reshape(len(x), -1)), y=np.arange(len(x)) % 2)
    t = read_npz(folder / "t.npz", mmap=True).x
    back = pickle.loads(pickle.dumps(_PreparedBatches(t, None, np.asarray, 7))).x
    assert back.flags.f_contiguous and np.array_equal(back, t)
    in_memory = pickle.dumps(_PreparedBatches(np.array(x), None, np.asarray, 100))
    assert len(in_memory) > x.nbytes  # arrays that are not file maps are pickled as they are
