#!/usr/bin/env bash
# Builds the tool in release mode and runs `loop-watchdog demo`; extra arguments go to the
# tool (for example: scripts/demo.sh demo). Environment variables LOOP_WATCHDOG_* apply.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product loop-watchdog >&2
if [ $# -eq 0 ]; then set -- demo; fi
exec .build/release/loop-watchdog "$@"
