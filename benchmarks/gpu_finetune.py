"""Fine-tuning throughput: the toolkit's training loop against a plain hand-written PyTorch step.

    python benchmarks/gpu_finetune.py                      # CUDA GPU: ResNet-50 and ViT-B/16, 224x224, bf16
    python benchmarks/gpu_finetune.py --smoke              # any machine: tiny sizes, checks the script runs

Both sides train the same torchvision architecture (random weights), at the same batch size, with
AdamW, bf16 autocast and no gradient clipping, on the same in-memory uint8 images, in one process.
The plain step slices the array, pins and copies the batch, normalises it on the GPU and steps;
the toolkit side is ``transferkit.training.train`` (HF Accelerate, DataLoader workers running the
backbone's ``prepare``, uint8 batches normalised on the device). Throughput is images per second
after warm-up; the ratio toolkit / plain is the overhead figure (goal: >= 0.95).

For reference (from the issue): a plain compiled bf16 step on one H200 gave about 6,400 img/s
(ResNet-50, batch 256) and 3,200 img/s (ViT-B/16, batch 128). ``--compile`` compiles both sides.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

SETTINGS = {  # model -> (batch size, image size) for the GPU run
    "resnet50": (256, 224),
    "vit_b_16": (128, 224),
}
SMOKE = {"resnet50": (4, 64), "vit_b_16": (2, 32)}


def make_data(n: int, size: int, classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random uint8 RGB images and labels (speed does not depend on the pixel values)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3, size, size), dtype=np.uint8), rng.integers(0, classes, n)


def plain_step_throughput(name: str, x: np.ndarray, y: np.ndarray, batch: int, steps: int, warmup: int,
                          classes: int, compile_: bool, device: torch.device) -> float:
    """Images/s of a hand-written loop: slice, pin, copy, normalise on the device, bf16 forward/backward, AdamW."""
    from torchvision import models

    size = x.shape[-1]
    kwargs = {"image_size": size} if name.startswith("vit_") else {}
    model = models.get_model(name, weights=None, num_classes=classes, **kwargs).to(device)
    if compile_:
        model.compile()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4)
    mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)
    cuda = device.type == "cuda"
    perm = np.random.default_rng(1).permutation(len(x))
    model.train()

    def step(i: int) -> None:
        idx = np.sort(perm[(i * batch) % len(x):][:batch])
        xb = torch.from_numpy(x[idx])
        yb = torch.from_numpy(y[idx])
        if cuda:
            xb, yb = xb.pin_memory(), yb.pin_memory()
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        xb = (xb.float() / 255.0 - mean) / std
        with torch.autocast(device.type, dtype=torch.bfloat16):
            loss = torch.nn.functional.cross_entropy(model(xb).float(), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for i in range(warmup):
        step(i)
    if cuda:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for i in range(steps):
        step(warmup + i)
    if cuda:
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - t0)


def toolkit_throughput(name: str, x: np.ndarray, y: np.ndarray, batch: int, steps: int, epochs: int,
                       classes: int, compile_: bool, workers: int) -> float:
    """Images/s of ``transferkit.training.train``: epochs after the first (warm-up) are timed.

    One epoch is ``steps`` batches; the loop's own per-epoch clock (``history[i]["seconds"]``,
    taken after the epoch's loss is read back, so the GPU work is finished) gives the times.
    """
    from transferkit.backbones import create_backbone
    from transferkit.data import Dataset
    from transferkit.training import TrainConfig, TransferModel, train

    size = x.shape[-1]
    backbone = create_backbone(f"torchvision:{name}?pretrained=false&image_size={size}")
    model = TransferModel(backbone, classes)
    if compile_:
        model.compile()
    n = steps * batch
    data = Dataset(x=x[:n], y=y[:n], kind="image", name="random-images",
                   class_names=tuple(str(i) for i in range(classes)))
    mp = "bf16" if torch.cuda.is_available() else "no"
    config = TrainConfig(epochs=epochs, batch_size=batch, lr=1e-4, weight_decay=1e-4, patience=None,
                         mixed_precision=mp, max_grad_norm=None, progress=False, num_workers=workers)
    result = train(model, data, None, config)
    secs = [h["seconds"] for h in result.history]
    return (len(secs) - 1) * n / (secs[-1] - secs[0])


def main(argv: list[str] | None = None) -> list[dict]:
    """Run both sides for each model and print images/s and the ratio."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="resnet50,vit_b_16", help="comma-separated torchvision model names")
    p.add_argument("--steps", type=int, default=40, help="timed steps per measurement (and batches per epoch)")
    p.add_argument("--epochs", type=int, default=3, help="toolkit epochs (the first is warm-up)")
    p.add_argument("--workers", type=int, default=8, help="DataLoader workers for the toolkit loop")
    p.add_argument("--compile", action="store_true", help="torch.compile both sides")
    p.add_argument("--smoke", action="store_true", help="tiny sizes on any device: checks that the script runs")
    args = p.parse_args(argv)
    cuda = torch.cuda.is_available()
    if not cuda and not args.smoke:
        raise SystemExit("no CUDA GPU here: this benchmark measures GPU throughput. Run it on a machine with one, "
                         "or pass --smoke to check the script on CPU at tiny sizes.")
    device = torch.device("cuda" if cuda else "cpu")
    if cuda:
        torch.backends.cudnn.benchmark = True
        print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    table = SMOKE if args.smoke else SETTINGS
    steps = 2 if args.smoke else args.steps
    epochs = 2 if args.smoke else args.epochs
    workers = args.workers
    classes = 1000
    rows = []
    for name in args.models.split(","):
        batch, size = table.get(name, (4, 32) if args.smoke else (64, 224))
        x, y = make_data(steps * batch, size, classes)
        plain = plain_step_throughput(name, x, y, batch, steps, 1 if args.smoke else 10, classes, args.compile,
                                      device)
        ours = toolkit_throughput(name, x, y, batch, steps, epochs, classes, args.compile, workers)
        rows.append({"model": name, "batch": batch, "image_size": size, "plain_img_s": plain, "toolkit_img_s": ours,
                     "ratio": ours / plain})
        if cuda:
            torch.cuda.empty_cache()
    print(f"{'model':<10} {'batch':>5} {'size':>4} {'plain img/s':>12} {'toolkit img/s':>14} {'ratio':>6}")
    for r in rows:
        print(f"{r['model']:<10} {r['batch']:>5} {r['image_size']:>4} {r['plain_img_s']:>12.1f} "
              f"{r['toolkit_img_s']:>14.1f} {r['ratio']:>6.3f}")
    if args.smoke:
        print("(smoke run: tiny sizes, the figures mean nothing)")
    return rows


if __name__ == "__main__":
    main()
