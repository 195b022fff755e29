#!/usr/bin/env bash
# The report benchmark: `loop-watchdog report` (release build) over a generated 1 GB stall
# log (scripts/make_stall_log.py), plain and gzip, with every output. Prints Markdown table
# rows: throughput in MB/s of input on one core and the process's peak resident memory,
# against the targets (>= 100 MB/s, < 100 MB). `bash scripts/report_benchmark.sh 256` uses
# a smaller log. The log is kept in ${TMPDIR:-/tmp} between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
megabytes="${1:-1024}"
bash scripts/setup.sh
[ -x /usr/bin/time ] || { sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd=sudo; $sudo_cmd apt-get update -qq; DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq time >/dev/null; }
swift build -c release --product loop-watchdog >&2
tool="$(swift build -c release --show-bin-path)/loop-watchdog"
log="${TMPDIR:-/tmp}/loop-watchdog-bench-${megabytes}mb.jsonl"
if [ ! -f "$log" ]; then
  echo "report benchmark: writing a ${megabytes} MB stall log" >&2
  python3 scripts/make_stall_log.py "$log" --megabytes "$megabytes" > "$log.truth"
fi
[ -f "$log.gz" ] || gzip -k -1 "$log"
out=$(mktemp -d)
bytes=$(stat -c %s "$log")
measure() {  # label, input file
  local label="$1" input="$2" started ended rss
  started=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$out/rss" "$tool" report --quiet --folded "$out/f" --flamegraph "$out/s.svg" \
    --trace "$out/t.json" --pprof "$out/p.pb.gz" "$input" >"$out/table" 2>"$out/stderr"
  ended=$(date +%s.%N)
  rss=$(tail -1 "$out/rss")
  python3 - "$label" "$bytes" "$started" "$ended" "$rss" <<'PY'
import sys
label, size, start, end, rss = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
rate = size / (1 << 20) / (end - start)
print(f"| report: {label}, {size >> 20} MB of JSON lines (every output on) | {rate:.0f} MB/s of log, {end - start:.1f} s; peak resident {rss / 1024:.0f} MB | >= 100 MB/s, < 100 MB | {'pass' if rate >= 100 and rss < 100 * 1024 else '**miss**'} |")
PY
}
measure "plain" "$log"
head -1 "$out/table" >&2
echo "report benchmark: the generator said: $(cat "$log.truth")" >&2
measure "gzip (level 1)" "$log.gz"
rm -rf "$out"
