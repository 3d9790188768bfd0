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
# The unit and integration tests run in STUDIO_TEST_WORKERS processes (default: 2, or 1 on a
# one-core machine), a whole file per worker (pytest-xdist); the browser tests then run on
# their own, one at a time, because their timing margins are set for a machine that is not
# also running other tests.
workers=${STUDIO_TEST_WORKERS:-$(($(nproc) > 1 ? 2 : 1))}
dist=()
[ "$workers" -gt 1 ] && dist=(-n "$workers" --dist loadfile)

run() {  # pytest, where "collected no tests" (exit 5) is said plainly instead of failing
  set +e
  python -m pytest "$@"
  local code=$?
  set -e
  if [ $code = 5 ]; then
    echo "pytest collected no tests"
    return 0
  fi
  return $code
}

if [ $# -gt 0 ]; then
  run "${dist[@]}" "$@"
  exit $?
fi
status=0
run "${dist[@]}" tests --ignore=tests/e2e || status=$?
run tests/e2e || status=$?
exit $status
