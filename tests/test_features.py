"""Feature extraction: the cache hit runs no forward pass; writes are atomic; corrupt entries recover."""

import multiprocessing as mp

import numpy as np
import pytest

from transferkit.backbones import create_backbone
from transferkit.data import load_dataset
from transferkit.features import FeatureCache, FeatureExtractor, extract_features


class CountingBackbone:
    """Wraps forward_features to count calls."""

    def __init__(self, backbone):
        self.calls = 0
        self.inner = backbone.forward_features

        def counted(inputs):
            self.calls += 1
            return self.inner(inputs)

        backbone.forward_features = counted


@pytest.fixture()
def digits():
    return load_dataset("digits").subset(range(200))


def test_second_identical_call_runs_no_forward_pass(tmp_path, digits):
    b = create_backbone("smallcnn")
    counter = CountingBackbone(b)
    f1 = extract_features(b, digits, cache=tmp_path, batch_size=64, progress=False)
    assert counter.calls == 4 and f1.shape == (200, b.num_features)
    f2 = extract_features(b, digits, cache=tmp_path, batch_size=64, progress=False)
    assert counter.calls == 4 and np.array_equal(f1, f2)
    # other data, other weights or no cache -> new forward passes
    extract_features(b, digits.subset(range(10)), cache=tmp_path, progress=False)
    assert counter.calls == 5
    extract_features(b, digits, cache=False, progress=False)
    assert counter.calls == 9
    import torch

    with torch.no_grad():
        next(b.parameters()).mul_(1.01)
    extract_features(b, digits, cache=tmp_path, progress=False)
    assert counter.calls == 13


def test_corrupt_or_truncated_entry_is_recomputed(tmp_path, digits):
    b = create_backbone("smallcnn")
    f1 = extract_features(b, digits, cache=tmp_path, progress=False)
    (entry,) = list(tmp_path.glob("*.npy"))
    entry.write_bytes(entry.read_bytes()[:100])  # as if killed mid-write without the atomic rename
    counter = CountingBackbone(b)
    f2 = extract_features(b, digits, cache=tmp_path, progress=False)
    assert counter.calls > 0 and np.allclose(f1, f2, atol=1e-6)
    assert FeatureCache(tmp_path).load(entry.stem, len(digits)) is not None


def test_interrupted_write_leaves_no_entry(tmp_path, monkeypatch):
    cache = FeatureCache(tmp_path)

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        cache.store("k", np.ones((3, 2), dtype=np.float32))
    assert list(tmp_path.iterdir()) == [] and cache.load("k") is None


def _writer(directory, seed):
    arr = np.full((500, 64), 1.0, dtype=np.float32)
    c = FeatureCache(directory)
    for _ in range(20):
        c.store("same-key", arr)
        got = c.load("same-key", 500)
        assert got is None or np.array_equal(got, arr)


def test_two_processes_writing_the_same_key(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(tmp_path, s)) for s in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    assert np.array_equal(FeatureCache(tmp_path).load("same-key", 500), np.ones((500, 64), dtype=np.float32))
    assert not list(tmp_path.glob("*.tmp"))


def test_text_features_keep_order(tmp_path):
    texts = ["a much longer message about winning a free prize today", "hi", "see you at five o'clock"]
    b = create_backbone("minilm")
    f = extract_features(b, texts, cache=tmp_path, progress=False)
    single = np.stack([extract_features(b, [t], cache=False, progress=False)[0] for t in texts])
    assert np.allclose(f, single, atol=1e-5)


def test_feature_extractor_in_a_pipeline(tmp_path, monkeypatch):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    monkeypatch.setenv("TRANSFERKIT_CACHE", str(tmp_path))
    texts = ["win a free prize now", "free cash prize claim", "lunch at noon?", "see you at the station",
             "claim your free reward", "meeting moved to 3pm"]
    y = [1, 1, 0, 0, 1, 0]
    pipe = make_pipeline(FeatureExtractor("minilm"), LogisticRegression(C=10.0)).fit(texts, y)
    assert pipe.predict(["free prize waiting, claim now"])[0] == 1
    assert pipe.predict(["are we still meeting for lunch"])[0] == 0


def test_no_cache_hashes_nothing_and_workers_give_the_same_features(digits, monkeypatch):
    b = create_backbone("smallcnn")
    plain = extract_features(b, digits, cache=False, progress=False)

    def no_hashing(self):  # cache=False must not pay for fingerprints
        raise AssertionError("fingerprint computed without a cache")

    monkeypatch.setattr(type(digits), "fingerprint", no_hashing)
    monkeypatch.setattr(type(b), "fingerprint", no_hashing)
    again = extract_features(b, digits, cache=False, progress=False, batch_size=48)
    workers = extract_features(b, digits, cache=False, progress=False, batch_size=48, num_workers=2)
    np.testing.assert_allclose(again, plain, atol=1e-6)
    np.testing.assert_array_equal(workers, again)
    with pytest.raises(Exception, match="num_workers"):
        extract_features(b, digits, cache=False, progress=False, num_workers=-1)


def test_memory_mapped_images_stay_mapped_and_give_the_same_features(tmp_path, digits):
    from transferkit.data import Dataset

    x8 = np.round(np.asarray(digits.x) * 255).astype(np.uint8)
    np.save(tmp_path / "x.npy", x8)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    lazy = Dataset(x=mm, y=digits.y, kind="image", class_names=digits.class_names, name="mapped")
    eager = Dataset(x=np.array(x8), y=digits.y, kind="image", class_names=digits.class_names, name="mapped")
    assert isinstance(lazy.x, np.ndarray) and np.shares_memory(lazy.x, mm)  # not read into memory
    assert lazy.fingerprint() == eager.fingerprint()  # hashed block by block, same bytes
    b = create_backbone("smallcnn")
    np.testing.assert_array_equal(extract_features(b, lazy, cache=False, progress=False),
                                  extract_features(b, eager, cache=False, progress=False))
