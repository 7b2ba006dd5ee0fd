"""Rebuild an entry of the starter zoo shipped in ``src/transferkit/zoo`` (deterministic, CPU).

    python scripts/build_zoo.py mnist-cnn            # or har-cnn, heart-mlp, all
    python scripts/build_zoo.py heart-mlp --out runs/zoo-check

Each recipe is small enough for two CPU cores (MNIST is subsampled; the card says so). With the
same seed and library versions the rebuilt entry reproduces the card's source metric; weights can
differ in the last bits across CPU types or thread counts, so the checksum may change while the
metric stays within a small tolerance (tests/test_zoo.py checks this).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "src" / "transferkit" / "zoo"

RECIPES: dict[str, dict[str, Any]] = {
    "mnist-cnn": {
        "backbone": "smallcnn?image_size=16&width=16&num_features=128",
        "source": "mnist@train",
        "objective": "supervised",
        "epochs": 4,
        "max_samples": 5000,
        "batch_size": 64,
        "lr": 2e-3,
        "seed": 0,
        "description": "3-block CNN (width 16) pre-trained on a 5000-image stratified subsample of the MNIST "
        "training set, images resized to 16x16 (the USPS size); 10 digit classes",
    },
    "har-cnn": {
        "backbone": "signalcnn?width=16&num_features=64",
        "source": "uci-har:1-20",
        "objective": "supervised",
        "epochs": 6,
        "max_samples": 3000,
        "batch_size": 64,
        "lr": 2e-3,
        "seed": 0,
        "description": "1-D CNN (width 16) pre-trained on a 3000-window stratified subsample of UCI HAR "
        "subjects 1-20 (9 inertial channels x 128 steps, per-channel standardisation from the "
        "source); 6 activities. Subjects 21-30 stay unseen for transfer experiments",
    },
    "heart-mlp": {
        "backbone": "tabmlp?hidden=64,32",
        "source": "heart-disease:cleveland",
        "objective": "supervised",
        "epochs": 40,
        "max_samples": None,
        "val_size": 0.15,
        "test_size": 0.2,
        "batch_size": 32,
        "lr": 1e-3,
        "seed": 0,
        "description": "MLP (64-32) pre-trained on the Cleveland hospital of UCI Heart Disease "
        "(303 patients, 13 attributes + 10 missing-value flags, standardisation from Cleveland); "
        "disease present or not",
    },
}


def build(name: str, out: Path = DEFAULT_OUT, progress: bool = True) -> dict[str, Any]:
    """Build recipe ``name`` into ``out/name``; returns the card."""
    from transferkit.pretraining import pretrain

    recipe = dict(RECIPES[name])
    res = pretrain(
        recipe.pop("backbone"),
        recipe.pop("source"),
        recipe.pop("objective"),
        name=name,
        zoo_dir=out,
        resume=False,
        progress=progress,
        rebuild=f"python scripts/build_zoo.py {name}",
        **recipe,
    )
    return res.card


def main(argv: list[str] | None = None) -> int:
    """Command line: build one recipe (or all)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("name", choices=[*RECIPES, "all"])
    p.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="zoo folder (default: the package's starter zoo)"
    )
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    for name in RECIPES if args.name == "all" else [args.name]:
        t0 = time.perf_counter()
        card = build(name, args.out, progress=not args.quiet)
        m = card["metrics"]
        print(
            f"{name}: {m['primary']} = {m[m['primary']]:.4f}, {card['weights']['bytes'] / 1e6:.2f} MB, "
            f"sha256 {card['weights']['sha256'][:16]}..., {time.perf_counter() - t0:.0f} s -> "
            f"{args.out / name}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
