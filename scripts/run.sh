#!/usr/bin/env bash
# Sets up (once) and starts TextGen Studio on http://127.0.0.1:7860 (STUDIO_HOST/STUDIO_PORT).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. "${STUDIO_VENV:-.venv}/bin/activate"
export GRADIO_ANALYTICS_ENABLED=False
# A progress bar redraws its line with carriage returns: fine on a terminal, one unreadable
# line in a log file.
if [ ! -t 1 ]; then
  export TQDM_DISABLE=1 HF_HUB_DISABLE_PROGRESS_BARS=1
fi
# Convert the embedded default model now, so the first Train or Generate click does not wait.
python -m studio.models.prepare
exec python app.py "$@"
