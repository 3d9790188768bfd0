#!/usr/bin/env bash
# Sets up (once, with the test tools) and runs the whole test suite. Extra arguments go to
# pytest, e.g. `bash scripts/test.sh tests/unit -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
. "${STUDIO_VENV:-.venv}/bin/activate"
export GRADIO_ANALYTICS_ENABLED=False
ruff check .
ruff format --check .
set +e
python -m pytest "$@"
code=$?
set -e
# pytest exits 5 when it collected no test: say so plainly instead of failing.
if [ $code = 5 ]; then
  echo "pytest collected no tests"
  exit 0
fi
exit $code
