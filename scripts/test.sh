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
# STUDIO_TEST_WORKERS=N runs the suite in N workers, a whole file per worker (pytest-xdist):
# about 12 minutes instead of 20 on 2 cores, but the browser tests' timing margins were set for
# one test at a time, so the default stays a single process.
workers=${STUDIO_TEST_WORKERS:-0}
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
