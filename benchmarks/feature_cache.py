"""Cold vs warm feature extraction: MiniLM on the SMS Spam Collection, twice, in one process.

Prints ``warm/cold ratio: X`` (target X <= 0.05). Cold = forward passes over all 5,574 messages and
writing the cache entry; warm = the identical second call, answered from the cache (fingerprints
of backbone and data are recomputed, no forward pass runs). The backbone is loaded once, before
timing, so neither figure includes model loading.

    python benchmarks/feature_cache.py [--data-root DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from transferkit.backbones import create_backbone
from transferkit.data import load_dataset
from transferkit.features import FeatureCache, extract_features


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--limit", type=int, default=None, help="use only the first N messages (quick check)")
    args = ap.parse_args()
    data = load_dataset("sms-spam", root=args.data_root)
    if args.limit:
        data = data.subset(range(min(args.limit, len(data))))
    backbone = create_backbone("minilm")
    calls = {"n": 0}
    inner = backbone.forward_features

    def counted(inputs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return inner(inputs)

    backbone.forward_features = counted  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        cache = FeatureCache(tmp)
        t0 = time.perf_counter()
        cold = extract_features(backbone, data, cache=cache, batch_size=64)
        t_cold = time.perf_counter() - t0
        cold_calls = calls["n"]
        t0 = time.perf_counter()
        warm = extract_features(backbone, data, cache=cache, batch_size=64)
        t_warm = time.perf_counter() - t0
    assert (cold == warm).all()
    print(f"messages: {len(data)}  features: {cold.shape[1]}")
    print(f"cold: {t_cold:.2f} s ({cold_calls} forward passes)  warm: {t_warm:.3f} s "
          f"({calls['n'] - cold_calls} forward passes)")
    print(f"warm/cold ratio: {t_warm / t_cold:.4f}")


if __name__ == "__main__":
    main()
