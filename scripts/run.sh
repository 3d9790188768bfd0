#!/usr/bin/env bash
# Sets up (once) and starts TextGen Studio on http://127.0.0.1:7860 (STUDIO_HOST/STUDIO_PORT).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. "${STUDIO_VENV:-.venv}/bin/activate"
export GRADIO_ANALYTICS_ENABLED=False
# Convert the embedded default model now, so the first Train or Generate click does not wait.
python -m studio.models.prepare
exec python app.py "$@"
