#!/usr/bin/env bash
# Builds the example servers (Examples/HummingbirdExample, Examples/VaporExample, each its own SwiftPM
# package), starts each on 127.0.0.1 and drives every route over loopback, one request at a
# time and under wrk load on the fast route, checking the watchdog's JSON events
# (scripts/examples_driver.py): each route as ROUTE:LOOP-PREFIX:FUNCTION:CAUSE; --metrics
# scrapes the server's Prometheus page too. Each server's stall log is then read back by
# `loop-watchdog report` (scripts/report_check.py). `bash scripts/examples.sh hummingbird` runs one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v wrk >/dev/null; then
  echo "examples: installing wrk" >&2
  sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq wrk >/dev/null
fi
# The driver parses the Prometheus page with the reference parser (prometheus_client).
if ! python3 -c "import prometheus_client" 2>/dev/null; then
  echo "examples: installing prometheus-client" >&2
  python3 -m pip install -q prometheus-client
fi
scratch="${TMPDIR:-/tmp}/loop-watchdog-examples"
mkdir -p "$scratch"
which="${1:-all}"
status=0

run_example() {
  local name="$1" dir="$2" product="$3" port="$4"; shift 4
  local start=$SECONDS
  swift build --package-path "$dir" --product "$product"
  echo "examples: $name built in $((SECONDS - start)) s"
  local binary
  binary="$(swift build --package-path "$dir" --show-bin-path)/$product"
  python3 scripts/examples_driver.py "$name" "$port" "$scratch/$name-events.jsonl" "$@" -- "$binary" || status=1
  # The stall log the server wrote, read back by `loop-watchdog report` and its outputs
  # opened in real tools (scripts/report_check.py).
  python3 scripts/report_check.py "$tool" "$scratch/$name-events.jsonl" || status=1
}

swift build --product loop-watchdog
tool="$(swift build --show-bin-path)/loop-watchdog"

if [ "$which" = all ] || [ "$which" = hummingbird ]; then
  run_example hummingbird Examples/HummingbirdExample HummingbirdExample 18080 --metrics \
    sleep:swift-concurrency-pool.medium:sleepRoute:sleeping \
    spin:swift-concurrency-pool.medium:spinRoute:computing \
    read:swift-concurrency-pool.medium:readRoute:file_io \
    lock:swift-concurrency-pool.medium:lockRoute:waiting_for_lock
fi
if [ "$which" = all ] || [ "$which" = vapor ]; then
  run_example vapor Examples/VaporExample VaporExample 18081 \
    sleep:swift-concurrency-pool.medium:sleepRoute:sleeping \
    spin:swift-concurrency-pool.medium:spinRoute:computing \
    read:swift-concurrency-pool.medium:readRoute:file_io \
    lock:swift-concurrency-pool.medium:lockRoute:waiting_for_lock \
    sync-sleep:NIO-:syncSleepRoute:sleeping
fi
exit $status
