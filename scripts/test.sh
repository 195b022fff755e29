#!/usr/bin/env bash
# Runs the whole test suite (`swift test`), installing what the build needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
# Serial: many tests use real threads, real signals and real time; run side by side on
# two cores they would measure each other instead of the watchdog.
swift test --no-parallel "$@"
