"""Feature extraction against the plain loops it replaces, in one process, on the same inputs.

1. Images: ``extract_features`` (cache off, no progress bar) against a plain torch loop doing the
   same forward passes (``prepare`` then ``forward_features`` per batch under ``torch.no_grad``),
   for ``smallcnn`` and ``zoo:mnist-cnn`` on MNIST test images.
2. Text: ``extract_features`` with ``minilm?normalize=true`` against sentence-transformers
   ``SentenceTransformer.encode`` of the same all-MiniLM-L6-v2 folder (``max_seq_length`` 128, the
   backbone's truncation) on the first 2,000 SMS Spam Collection messages; also the largest
   difference between the two embeddings.

The two sides run interleaved ``--repeats`` times; a ratio is the plain side's median time over
the toolkit's (>= 1.0: the toolkit is at least as fast). One thread; on the CPU unless CUDA exists.

    python benchmarks/extract_speed.py [--repeats 3] [--images 2000] [--texts 2000] [--data-root DIR]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from transferkit.backbones import create_backbone
from transferkit.data import load_dataset
from transferkit.features import extract_features


def interleaved(a: Callable[[], Any], b: Callable[[], Any], repeats: int) -> tuple[float, float, Any, Any]:
    """Median seconds of ``a`` and ``b`` run alternately (one warm-up each), and their last results."""
    ra, rb = a(), b()
    ta, tb = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ra = a()
        ta.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        rb = b()
        tb.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb), ra, rb


def plain_loop(backbone: Any, x: Any, batch_size: int) -> np.ndarray:
    """The baseline: prepare and forward each batch under no_grad, nothing else."""
    backbone.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            out.append(backbone.forward_features(backbone.prepare(x[start:start + batch_size])).float().numpy())
    return np.concatenate(out)


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Print the image and text ratios."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--texts", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--skip-text", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    out: dict[str, float] = {}
    mnist = load_dataset("mnist@test", root=args.data_root)
    mnist = mnist.subset(np.arange(min(args.images, len(mnist))))
    for spec in ("smallcnn", "zoo:mnist-cnn"):
        bb = create_backbone(spec, data=mnist)
        t_plain, t_kit, f_plain, f_kit = interleaved(
            lambda bb=bb: plain_loop(bb, mnist.x, args.batch_size),
            lambda bb=bb: extract_features(bb, mnist, batch_size=args.batch_size, cache=False, progress=False),
            args.repeats)
        diff = float(np.max(np.abs(f_plain - f_kit)))
        out[spec] = t_plain / t_kit
        print(f"{spec:<16} {len(mnist)} images: plain loop {t_plain:.3f} s, extract_features {t_kit:.3f} s, "
              f"ratio {t_plain / t_kit:.3f} (goal >= 1.0), max |diff| {diff:.2e}")
    if not args.skip_text:
        from sentence_transformers import SentenceTransformer

        from transferkit.backbones.hf_text import minilm_path

        sms = load_dataset("sms-spam", root=args.data_root)
        texts = [str(t) for t in sms.x[: args.texts]]
        bb = create_backbone("minilm?normalize=true")
        st = SentenceTransformer(str(minilm_path()), device="cpu")
        st.max_seq_length = bb.max_length
        t_st, t_kit, e_st, e_kit = interleaved(
            lambda: st.encode(texts, batch_size=args.batch_size, convert_to_numpy=True),
            lambda: extract_features(bb, texts, batch_size=args.batch_size, cache=False, progress=False),
            args.repeats)
        diff = float(np.max(np.abs(np.asarray(e_st) - e_kit)))
        out["minilm"] = t_st / t_kit
        print(f"minilm           {len(texts)} SMS: sentence-transformers encode {t_st:.3f} s, extract_features "
              f"{t_kit:.3f} s, ratio {t_st / t_kit:.3f} (goal >= 1.0), max |embedding diff| {diff:.2e}")
    return out


if __name__ == "__main__":
    main()
