#!/usr/bin/env bash
# Runs the whole test suite (`swift test`), installing what the build needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
swift test "$@"
