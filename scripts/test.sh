#!/usr/bin/env bash
# Runs the whole test suite (`swift test`), installing what the build needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
# The async-callers tests run this helper as built in debug and in release: a release build
# inlines and lays out async functions differently (AsyncCallersTests).
swift build -c release --product lwd-async-helper
# Serial: many tests use real threads, real signals and real time; run side by side on
# two cores they would measure each other instead of the watchdog.
swift test --no-parallel "$@"
