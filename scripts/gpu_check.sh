#!/usr/bin/env bash
# The GPU check in one command: the CUDA paths a CPU never reaches (QLoRA NF4 with bf16
# compute, bf16 LoRA, the shared prompt prefix with activation checkpointing on and off,
# fast generation, evaluation, the merged export) on the packaged SmolLM2 and a tiny random
# Mistral, one line each, then the studio's trainer against a plain Trainer + PEFT.
# No network. Under 10 minutes on one GPU.
#
#   bash scripts/gpu_check.sh            # on a CUDA machine
#   bash scripts/gpu_check.sh --cpu      # a dry run on a CPU (says so): the script works
#   bash scripts/gpu_check.sh --steps 40 --keep
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
# One line per path: no progress bars (building the tiny models, loading weights).
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false TQDM_DISABLE=1
exec "$PY" -m scripts.gpu_check "$@"
