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
# A few workers, each taking whole files (their module fixtures stay in one process): most
# tests wait on a child process, a server or the browser, so two workers keep two cores busy.
# STUDIO_TEST_WORKERS=0 runs in this process alone.
workers=${STUDIO_TEST_WORKERS:-$(python -c "import os; print(min(4, max(2, os.cpu_count() or 2)))")}
dist=()
[ "$workers" != 0 ] && dist=(-n "$workers" --dist loadfile)
set +e
python -m pytest "${dist[@]}" "$@"
code=$?
set -e
# pytest exits 5 when it collected no test: say so plainly instead of failing.
if [ $code = 5 ]; then
  echo "pytest collected no tests"
  exit 0
fi
exit $code
