#!/usr/bin/env bash
# Does transferkit install beside an environment that already has its own numpy, pandas and
# scikit-learn, without downgrading them? Makes a fresh venv holding recent releases of those three
# (older than the versions CI pins, so pyproject.toml's lower bounds are what admits them), installs
# transferkit WITHOUT constraints.txt, fails if any package already there went down a version, then
# runs the demo and the data-reading tests with the versions found there.
#
#   scripts/check_coexist.sh [VENV_DIR]        (default: a new temporary folder; PYTHON=python3.11 to choose)
#
# torch and torchvision are put in first at the versions constraints.txt names, like an environment
# that already has torch: a resolver left alone may fetch a multi-GB CUDA build of the newest torch.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${1:-$(mktemp -d)/venv}
PREINSTALLED=${PREINSTALLED:-"numpy==2.3.5 pandas==2.3.3 scikit-learn==1.7.2"}

"$PY" -m venv "$VENV"
pip="$VENV/bin/pip"
"$pip" install -q $(grep -E '^(torch|torchvision)==' constraints.txt)
# shellcheck disable=SC2086
"$pip" install -q $PREINSTALLED
"$pip" freeze --exclude-editable > "$VENV/before.txt"
echo "before: $(grep -ciE '^(numpy|pandas|scikit-learn)==' "$VENV/before.txt") of numpy/pandas/scikit-learn present:" \
     $(grep -iE '^(numpy|pandas|scikit-learn|torch)==' "$VENV/before.txt")

"$pip" install -q -e .                      # no -c constraints.txt: what a user's `pip install` does
"$pip" freeze --exclude-editable > "$VENV/after.txt"

"$VENV/bin/python" - "$VENV/before.txt" "$VENV/after.txt" <<'PYEOF'
import sys
from packaging.version import Version

def read(path):
    out = {}
    for line in open(path):
        if "==" in line:
            name, ver = line.strip().split("==", 1)
            out[name.lower().replace("_", "-")] = ver
    return out

before, after = read(sys.argv[1]), read(sys.argv[2])
down = [(n, v, after.get(n)) for n, v in before.items() if n not in after or Version(after[n]) < Version(v)]
up = [(n, v, after[n]) for n, v in before.items() if n in after and Version(after[n]) > Version(v)]
print(f"packages before: {len(before)}, after: {len(after)} ({len(after) - len(before)} added)")
for n, v, w in up:
    print(f"  upgraded   {n} {v} -> {w}")
for n, v, w in down:
    print(f"  DOWNGRADED {n} {v} -> {w or 'removed'}")
for n in ("numpy", "pandas", "scikit-learn", "torch"):
    print(f"  {n}: {before.get(n)} -> {after.get(n)}")
sys.exit(1 if down else 0)
PYEOF
echo "no package was downgraded or removed"

# the versions found there work: the demo, and the tests of every reader and named data set
"$VENV/bin/transferkit" --help > /dev/null
TRANSFERKIT_RUNS="$VENV/runs" "$VENV/bin/transferkit" demo --seeds 2 > "$VENV/demo.log" 2>&1 || { tail -20 "$VENV/demo.log"; exit 1; }
tail -3 "$VENV/demo.log"
"$pip" install -q pytest hypothesis
TRANSFERKIT_DATA=${TRANSFERKIT_DATA:-../shared/data} "$VENV/bin/python" -m pytest -q -m "not slow" -p no:cacheprovider \
    tests/test_data.py tests/test_estimators.py
echo "check_coexist: OK ($VENV)"
