#!/usr/bin/env bash
# Install what the browser tests need, from Debian's and PyPI's packages only (no browser download):
#   - Debian's chromium and the chromedriver built for that same chromium (versions always match);
#   - Selenium's Python bindings, told to use /usr/bin/chromedriver (no Selenium Manager download).
# Idempotent: it does nothing when both are already there. Usage: bash .ci/browser-setup.sh [PYTHON]
set -euo pipefail

PY="${1:-${PYTHON:-.venv/bin/python}}"
SELENIUM_PIN="selenium==4.51.0"

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-dejavu-core
fi

if ! "$PY" -c "import selenium" >/dev/null 2>&1; then
  "$PY" -m pip install -q "$SELENIUM_PIN"
fi

/usr/bin/chromium --version
/usr/bin/chromedriver --version
"$PY" -c "import selenium; print('selenium', selenium.__version__)"
