"""Save PNG screenshots of run reports, as a person sees them in Chromium, for the README.

Usage (after ``bash .ci/browser-setup.sh``)::

    python docs/make_screenshots.py RUN_DIR [RUN_DIR ...] [--names NAME ...] [--out docs] [--full]

Each RUN_DIR is a folder written by a transferkit command; its ``report.html`` is rebuilt from
``results.json`` first, then opened in headless Debian Chromium (no network, fresh profile) and saved
as ``<out>/<name>.png`` (name: from ``--names`` in the same order, else ``report-<command>``). By
default the first screen (``--height`` pixels) is kept, which shows the verdict and the first plots;
``--full`` keeps the whole page.
"""

from __future__ import annotations

import argparse
import base64
import shutil
import sys
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         "--hide-scrollbars", "--force-device-scale-factor=1")


def _driver(width: int, height: int, profile: str):  # noqa: ANN202 - selenium is optional
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for f in (*FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        opts.add_argument(f)
    return webdriver.Chrome(options=opts, service=Service(executable_path=CHROMEDRIVER))


def screenshot(page: Path, out: Path, width: int = 1200, height: int = 1400, full: bool = False) -> Path:
    """Open ``page`` in headless Chromium and save a PNG of it to ``out``."""
    profile = tempfile.mkdtemp(prefix="tk-shot-")
    drv = _driver(width, height, profile)
    try:
        drv.get(page.resolve().as_uri())
        total = int(drv.execute_script("return document.documentElement.scrollHeight"))
        h = total if full else min(total, height)
        shot = drv.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": h, "scale": 1},
        })
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(base64.b64decode(shot["data"]))
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: rebuild each run's report and screenshot it."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path, help="run folders (each with results.json)")
    ap.add_argument("--names", nargs="*", default=[], help="PNG names (without .png), one per run")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder (docs/)")
    ap.add_argument("--width", type=int, default=1200)
    ap.add_argument("--height", type=int, default=1400, help="height kept without --full")
    ap.add_argument("--full", action="store_true", help="the whole page, not just the first screen")
    args = ap.parse_args(argv)
    if args.names and len(args.names) != len(args.runs):
        ap.error(f"--names has {len(args.names)} names for {len(args.runs)} run folders")
    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        print(f"{CHROMIUM} / {CHROMEDRIVER} missing: run `bash .ci/browser-setup.sh` first", file=sys.stderr)
        return 2
    from transferkit.reports.html import write_report
    from transferkit.reports.run import read_results

    for i, run in enumerate(args.runs):
        command = read_results(run).get("command", "run")
        name = args.names[i] if args.names else f"report-{command}"
        page = write_report(run)
        out = screenshot(page, args.out / f"{name}.png", args.width, args.height, args.full)
        print(f"{run} -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
