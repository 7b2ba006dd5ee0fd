"""MNIST <-> USPS deep domain adaptation: source-only vs each deep method, 3 seeds.

Protocol (fixed before any result was seen):

* data: full sets. MNIST 60k train / 10k test (IDX files), USPS 7,291 train / 2,007 test
  (ESL "ZIP code" files), read with ``transferkit.data.load_dataset``.
* resolution: **everything at 16x16 grey**, scaled to [-1, 1]. USPS is used at its native
  16x16 (digits fill the frame, as its size normalisation made them); MNIST's 28x28 images are
  cropped to the central 20x20 box in which MNIST's own size normalisation placed each digit,
  then downsampled with antialiasing to 16x16. So both domains use each data set's own digit
  box; the remaining shift is writing style, stroke width and acquisition.
* source stream: the labelled source *train* split; target stream: the *unlabelled* target
  train split; reported metric: accuracy on the target *test* split, whose labels are read
  only by this script, after training.
* network: LeNet-style CNN (``transferkit.adaptation.deep.LeNet(image_size=16)``), linear head.
* optimisation (the shared loop, same for every method): SGD, Nesterov momentum 0.9, weight
  decay 5e-4, lr 0.01 annealed as lr / (1 + 10 p)^0.75, batch 64 per stream,
  ``--steps`` steps (default 1200, about 1.3 epochs of MNIST), each method at its default
  except the domain discriminators of DANN and CDAN, which use two hidden layers of 100
  units (DANN's MNIST setting used a 100-unit domain classifier) to save CPU time.
* seeds 0, 1, 2 (initialisation, batch order, dropout); mean and std over seeds.
* CPU: ``torch.set_num_threads(1)``; one process per direction (``--directions``) can run in parallel; on a lightly loaded core the default run takes about 20 minutes per direction (it took about an hour on the heavily shared 2-core build machine).

Run: ``.venv/bin/python benchmarks/digits_deep_da.py [--steps 1000] [--seeds 0 1 2]
[--methods ...] [--data-root DIR]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from transferkit.adaptation import DEEP_METHODS
from transferkit.adaptation.deep import (
    AdaptationNetwork,
    DeepConfig,
    LeNet,
    predict_outputs,
    train_adaptation,
)
from transferkit.data import load_dataset

CROP_MNIST = True
PARAMS = {"dann": {"hidden": 100}, "cdan": {"hidden": 100}}
METHODS = ("source_only", "dann", "deep_coral", "dan", "cdan", "mcc", "self_training")


def prepared(name: str, split: str, root: str | None) -> tuple[torch.Tensor, np.ndarray]:
    """Images of ``name@split`` at 16x16 in [-1, 1], and their labels."""
    ds = load_dataset(f"{name}@{split}", root)
    raw = ds.x[:, :, 4:24, 4:24] if (name == "mnist" and CROP_MNIST) else ds.x
    x = LeNet(image_size=16).prepare(raw)
    return x, np.asarray(ds.y)


def run_one(method: str, src: tuple, tgt_train_x: torch.Tensor, tgt_test: tuple, seed: int, steps: int,
            device: str = "cpu") -> dict:
    """Train one (method, seed) and return its target test accuracy."""
    torch.manual_seed(seed)
    net = AdaptationNetwork(LeNet(image_size=16), 10)
    res = train_adaptation(
        net,
        DEEP_METHODS.get(method)(**PARAMS.get(method, {})),
        src[0],
        src[1],
        tgt_train_x,
        DeepConfig(steps=steps, batch_size=64, seed=seed, device=device),
    )
    _, probs = predict_outputs(net, tgt_test[0])  # test labels are read only below
    acc = float(np.mean(probs.argmax(1) == tgt_test[1]))
    return {"method": method, "seed": seed, "target_test_accuracy": acc, "train_seconds": res.seconds}


def print_table(rows: list[dict], methods: list[str], directions: list[str], steps: int) -> None:
    """Mean +- std of target test accuracy over the seeds present, one line per method."""
    seeds = sorted({r["seed"] for r in rows})
    print(
        f"\nTarget test accuracy, 16x16 (each set's digit box), LeNet, {steps} steps x 64, mean +- std over "
        f"seeds {seeds}"
    )
    print(f"| method | {' | '.join(directions)} |")
    print("|---|" + "---|" * len(directions))
    for method in methods:
        cells = []
        for direction in directions:
            accs = [r["target_test_accuracy"] for r in rows if r["method"] == method and r["direction"] == direction]
            cells.append(f"{np.mean(accs):.3f} +- {np.std(accs):.3f} (n={len(accs)})" if accs else "-")
        print(f"| {method} | {' | '.join(cells)} |")


def main() -> None:
    """Run the table and print it."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--directions", nargs="+", default=["mnist->usps", "usps->mnist"])
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--device", default="cpu", help="cpu (the published protocol), cuda or auto")
    ap.add_argument("--json", default=None, help="also write the per-run rows to this file")
    ap.add_argument(
        "--summarize", nargs="+", default=None, help="only print the table from --json files of earlier runs"
    )
    args = ap.parse_args()
    if args.summarize:
        rows = [r for path in args.summarize for r in json.load(open(path, encoding="utf-8"))]
        print_table(rows, args.methods, args.directions, args.steps)
        return
    torch.set_num_threads(1)
    data = {(n, s): prepared(n, s, args.data_root) for n in ("mnist", "usps") for s in ("train", "test")}
    rows = []
    t0 = time.time()
    for seed in args.seeds:  # seed-major: a cut-short run still has every method for the first seeds
        for direction in args.directions:
            s_name, t_name = direction.split("->")
            for method in args.methods:
                r = run_one(
                    method,
                    data[(s_name, "train")],
                    data[(t_name, "train")][0],
                    data[(t_name, "test")],
                    seed,
                    args.steps,
                    args.device,
                )
                r["direction"] = direction
                rows.append(r)
                print(
                    f"{direction:12s} {method:14s} seed {seed}: {r['target_test_accuracy']:.4f} "
                    f"({r['train_seconds']:.0f} s)",
                    flush=True,
                )
                if args.json:
                    with open(args.json, "w", encoding="utf-8") as f:
                        json.dump(rows, f, indent=1)
    print(f"(total {time.time() - t0:.0f} s)")
    print_table(rows, args.methods, args.directions, args.steps)


if __name__ == "__main__":
    main()
