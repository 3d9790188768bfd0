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
# The whole suite runs in STUDIO_TEST_WORKERS processes (default: 2, or 1 on a one-core
# machine), a whole file per worker (pytest-xdist); then the browser tests marked `alone`, one
# at a time, because their checks have timing margins set for a machine that runs nothing
# else. Tests named as arguments run in one process unless STUDIO_TEST_WORKERS says otherwise.
if [ $# -gt 0 ]; then default=1; else default=$(($(nproc) > 1 ? 2 : 1)); fi
workers=${STUDIO_TEST_WORKERS:-$default}
dist=()
if [ "$workers" -gt 1 ]; then dist=(-n "$workers" --dist loadfile); fi

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
run "${dist[@]}" -m "not alone" || status=$?
run -m alone || status=$?
exit $status
