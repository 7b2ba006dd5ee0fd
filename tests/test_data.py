"""Readers against the real files in ../shared/data, user formats, and the errors they must give."""

import json

import numpy as np
import pytest

from transferkit.data import (
    Dataset,
    TransferTask,
    class_subset,
    encode_labels,
    label_budget,
    load_dataset,
    parse_budget,
    read_image_folder,
    read_npz,
    read_path,
    read_table,
    read_text,
    train_val_test_split,
)
from transferkit.errors import DataError


# ------------------------------------------------------------------ named public sets (real files)
def test_mnist_counts_match_source(data_root):
    test = load_dataset("mnist@test", root=data_root)
    assert test.x.shape == (10000, 1, 28, 28) and test.x.dtype == np.float32
    assert 0.0 <= test.x.min() and test.x.max() <= 1.0
    assert list(np.bincount(test.y)) == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    train_labels = load_dataset("mnist@train", root=data_root).y
    assert list(np.bincount(train_labels)) == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_usps_counts_and_range(data_root):
    tr, te = load_dataset("usps@train", root=data_root), load_dataset("usps@test", root=data_root)
    assert tr.x.shape == (7291, 1, 16, 16) and te.x.shape == (2007, 1, 16, 16)
    assert list(np.bincount(te.y)) == [359, 264, 198, 166, 200, 160, 170, 147, 166, 177]
    assert tr.x.min() >= 0 and tr.x.max() <= 1 and tr.x.mean() > 0.05
    assert len(load_dataset("usps", root=data_root)) == 9298


def test_jda_domains(data_root):
    m = load_dataset("mnist-usps-jda:mnist", root=data_root)
    u = load_dataset("mnist-usps-jda:usps", root=data_root)
    assert m.x.shape == (2000, 1, 16, 16) and u.x.shape == (1800, 1, 16, 16)
    assert list(np.bincount(u.y)) == [352, 241, 165, 166, 166, 126, 139, 172, 129, 144]
    with pytest.raises(DataError, match="needs a domain"):
        load_dataset("mnist-usps-jda", root=data_root)


def test_sms_spam(data_root):
    d = load_dataset("sms-spam", root=data_root)
    assert d.kind == "text" and len(d) == 5574
    assert d.class_counts() == {"ham": 4827, "spam": 747}


@pytest.mark.parametrize("hospital,n,neg", [("cleveland", 303, 164), ("hungarian", 294, 188),
                                            ("switzerland", 123, 8), ("va", 200, 51)])
def test_heart_disease_hospitals(data_root, hospital, n, neg):
    d = load_dataset(f"heart-disease:{hospital}", root=data_root)
    assert d.x.shape == (n, 23) and np.isfinite(d.x).all()
    assert int((d.y == 0).sum()) == neg
    assert d.feature_names[:3] == ("age", "sex", "cp") and d.feature_names[-1] == "thal_missing"


def test_heart_missing_values_are_flagged(data_root):
    d = load_dataset("heart-disease:switzerland", root=data_root)
    chol_missing = d.x[:, d.feature_names.index("chol_missing")]
    assert chol_missing.mean() > 0.9  # Switzerland did not record cholesterol (stored as 0)
    all_ = load_dataset("heart-disease", root=data_root)
    assert len(all_) == 920 and set(all_.groups) == {"cleveland", "hungarian", "switzerland", "va"}


@pytest.mark.parametrize("domain,n", [("amazon", 958), ("caltech", 1123), ("dslr", 157), ("webcam", 295), ("W", 295)])
def test_office_caltech_domains(data_root, domain, n):
    d = load_dataset(f"office-caltech10-surf:{domain}", root=data_root)
    assert d.x.shape == (n, 800) and d.num_classes == 10
    assert abs(float(d.x.mean())) < 1e-4  # z-scored within the domain


def test_office_raw_counts(data_root):
    from transferkit.data.public import load_office

    raw = load_office(data_root, "dslr", normalize=False)
    assert raw.x.min() >= 0 and list(np.bincount(raw.y)) == [12, 21, 12, 13, 10, 24, 22, 12, 8, 23]


def test_uci_har_subjects(data_root):
    d = load_dataset("uci-har:1", root=data_root)
    assert d.x.shape == (347, 9, 128) and set(d.groups) == {1}
    assert list(np.bincount(d.y)) == [95, 53, 49, 47, 53, 50]
    many = load_dataset("uci-har:1-3,30", root=data_root)
    assert set(many.groups) == {1, 2, 3, 30}
    tr = load_dataset("uci-har:1@train", root=data_root)
    te = load_dataset("uci-har:1@test", root=data_root)
    assert len(tr) + len(te) == 347
    with pytest.raises(DataError, match="1..30"):
        load_dataset("uci-har:31", root=data_root)


def test_embedded_sets_need_no_files(tmp_path):
    d = load_dataset("digits", root=tmp_path)
    assert d.x.shape == (1797, 1, 8, 8)
    b = load_dataset("breast-cancer", root=tmp_path)
    assert b.x.shape == (569, 30) and b.class_names == ("malignant", "benign")


def test_missing_files_say_how_to_fix(tmp_path):
    with pytest.raises(DataError, match="--data-root"):
        load_dataset("usps", root=tmp_path)


# ------------------------------------------------------------------ user formats
def _png_folder(root, classes=("cat", "dog"), n=3, size=(12, 10)):
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, size=(*size, 3), dtype=np.uint8)).save(root / c / f"{i}.png")
    return root


def test_image_folder(tmp_path):
    root = _png_folder(tmp_path / "imgs")
    d = read_image_folder(root)
    assert d.x.shape == (6, 3, 12, 10) and d.class_names == ("cat", "dog")
    lazy = read_image_folder(root, load=False)
    assert lazy.x.dtype == object and len(lazy) == 6
    assert read_image_folder(root, image_size=8).x.shape == (6, 3, 8, 8)


def test_unreadable_image_and_empty_class(tmp_path):
    root = _png_folder(tmp_path / "imgs")
    (root / "dog" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="cannot read image"):
        read_image_folder(root)
    root2 = _png_folder(tmp_path / "imgs2")
    (root2 / "empty").mkdir()
    with pytest.raises(DataError, match="without images"):
        read_image_folder(root2)


def test_csv_tsv_parquet_jsonl_tables_and_text(tmp_path):
    import pandas as pd

    df = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [0.5, 0.1, 0.2, 0.3], "label": ["x", "y", "x", "y"]})
    df.to_csv(tmp_path / "t.csv", index=False)
    df.to_csv(tmp_path / "t.tsv", index=False, sep="\t")
    df.to_parquet(tmp_path / "t.parquet")
    for f in ("t.csv", "t.tsv", "t.parquet"):
        d = read_path(tmp_path / f)
        assert d.kind == "table" and d.x.shape == (4, 2) and d.class_names == ("x", "y")
    texts = pd.DataFrame({"text": ["hi", "win money", "hello", "free prize"], "label": ["ham", "spam", "ham", "spam"]})
    texts.to_json(tmp_path / "m.jsonl", orient="records", lines=True)
    texts.to_csv(tmp_path / "m.csv", index=False)
    for f in ("m.jsonl", "m.csv"):
        d = read_path(tmp_path / f)
        assert d.kind == "text" and list(d.x) == ["hi", "win money", "hello", "free prize"]
        assert d.class_counts() == {"ham": 2, "spam": 2}


def test_table_errors(tmp_path):
    (tmp_path / "bad.csv").write_text("a,b,label\n1,2,x\n3,4\n5,6,y,7,8\n")
    with pytest.raises(DataError, match="cannot parse"):
        read_table(tmp_path / "bad.csv")
    (tmp_path / "nolabel.csv").write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(DataError, match="no label column 'label'"):
        read_table(tmp_path / "nolabel.csv")
    (tmp_path / "nan.csv").write_text("a,b,label\n1,,x\n3,4,y\n")
    with pytest.raises(DataError, match="NaN"):
        read_table(tmp_path / "nan.csv")
    (tmp_path / "unknown.csv").write_text("a,label\n1,x\n2,z\n")
    with pytest.raises(DataError, match="not among the known classes"):
        read_table(tmp_path / "unknown.csv", class_names=["x", "y"])
    (tmp_path / "strcol.csv").write_text("a,c,label\n1,red,x\n2,blue,y\n")
    with pytest.raises(DataError, match="not numeric"):
        read_table(tmp_path / "strcol.csv")
    with pytest.raises(DataError, match="no text column"):
        read_text(tmp_path / "nolabel.csv")


def test_npz_reader_and_errors(tmp_path):
    x = np.random.default_rng(0).normal(size=(10, 3, 20)).astype(np.float32)
    np.savez(tmp_path / "s.npz", X=x, y=np.arange(10) % 2, class_names=np.array(["rest", "move"]))
    d = read_npz(tmp_path / "s.npz")
    assert d.kind == "signal" and d.class_names == ("rest", "move") and d.x.shape == (10, 3, 20)
    np.savez(tmp_path / "noy.npz", X=x)
    with pytest.raises(DataError, match="'y' not found"):
        read_npz(tmp_path / "noy.npz")
    (tmp_path / "junk.npz").write_bytes(b"garbage")
    with pytest.raises(DataError, match="cannot read"):
        read_npz(tmp_path / "junk.npz")
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}], dtype=object), y=np.array([0]))
    with pytest.raises(DataError):
        read_npz(tmp_path / "obj.npz")  # pickled objects are refused


def test_hf_dataset():
    datasets = pytest.importorskip("datasets")
    from transferkit.data import from_hf_dataset

    ds = datasets.Dataset.from_dict({"sentence": ["good", "bad", "great"], "label": [1, 0, 1]}).cast_column(
        "label", datasets.ClassLabel(names=["neg", "pos"]))
    d = from_hf_dataset(ds, input_column="sentence")
    assert d.class_names == ("neg", "pos") and list(d.y) == [1, 0, 1]


# ------------------------------------------------------------------ dataset record, splits, tasks
def test_labels_any_hashable_and_bad_values():
    y, names = encode_labels([3, "a", 3])
    assert len(names) == 2 and y[0] == y[2]
    with pytest.raises(DataError, match="missing"):
        encode_labels([1, None])
    with pytest.raises(DataError, match="inputs but"):
        Dataset(x=np.zeros((3, 2)), y=np.array([0, 1]), kind="table", class_names=("a", "b"))
    with pytest.raises(DataError, match="NaN"):
        Dataset(x=np.array([[np.nan, 1.0]]), y=np.array([0]), kind="table", class_names=("a",))
    with pytest.raises(DataError, match="dimensions"):
        Dataset(x=np.zeros((3, 2)), y=None, kind="image")


def test_stratified_split_is_seeded_and_disjoint():
    d = load_dataset("digits")
    s1, s2 = train_val_test_split(d, seed=3), train_val_test_split(d, seed=3)
    assert np.array_equal(s1.train.y, s2.train.y)
    assert sum(s1.sizes().values()) == len(d)
    # class proportions preserved
    for part in (s1.train, s1.val, s1.test):
        frac = np.bincount(part.y, minlength=10) / len(part)
        assert np.allclose(frac, 0.1, atol=0.02)
    fp = {part.fingerprint() for part in (s1.train, s1.val, s1.test)}
    assert len(fp) == 3


def test_label_budget_and_parse():
    d = load_dataset("digits")
    b = label_budget(d, 5, seed=1)
    assert len(b) == 50 and set(np.bincount(b.y)) == {5}
    assert not np.array_equal(b.x, label_budget(d, 5, seed=2).x)
    assert abs(len(label_budget(d, 0.1)) - 180) <= 10
    assert parse_budget("all") == "all" and parse_budget("10") == 10 and parse_budget("0.5") == 0.5
    with pytest.raises(DataError):
        parse_budget("lots")
    # a stratified total: 64 in all, class proportions kept, at least one per class
    assert parse_budget("64total") == "64total"
    t = label_budget(d, "64total", seed=0)
    assert len(t) == 64 and set(np.bincount(t.y)) <= {6, 7} and np.bincount(t.y).min() >= 6
    y = np.array([0] * 95 + [1] * 5)
    skewed = Dataset(x=np.arange(100.0)[:, None], y=y, kind="table", class_names=("a", "b"))
    assert np.bincount(label_budget(skewed, "10total").y).tolist() == [9, 1]
    assert np.bincount(label_budget(skewed, "2total").y).tolist() == [1, 1]
    with pytest.raises(DataError, match="cannot cover"):
        label_budget(skewed, "1total")
    with pytest.raises(DataError, match="has 100"):
        label_budget(skewed, "500total")
    with pytest.raises(DataError, match="64total"):
        label_budget(skewed, "manytotal")


def test_transfer_task_single_class_target_and_kinds():
    d = load_dataset("digits")
    one = class_subset(d, ["3"])
    with pytest.raises(DataError, match="only 1 class"):
        TransferTask(target=one)
    with pytest.raises(DataError, match="source is table data"):
        TransferTask(target=d, source=load_dataset("breast-cancer"))
    task = TransferTask(target=class_subset(d, list("56789")), source=class_subset(d, list("01234")))
    assert not task.shared_labels and task.target_splits.train.class_names == tuple("56789")
    json.dumps(task.describe())
