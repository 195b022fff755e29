#!/usr/bin/env bash
# Runs every LoopWatchdog benchmark (Tools/Benchmarks, release builds) and its asyncio peer,
# and prints one Markdown table: measurement | result | target | verdict. The table and the
# raw outputs are also written to Tools/Benchmarks/.build/results/.
#
# Installs what it needs when missing: libunwind-dev (scripts/setup.sh), wrk (Debian) and
# aiodebug (PyPI), libdw-dev (Debian). The first builds of the benchmarks package (SwiftNIO,
# ordo-one/benchmark) and of Examples/HummingbirdExample take several minutes on 2 cores and
# are not part of the run's time; the run itself takes about 5 minutes (2 shared cores, load average 4-6). All load goes to 127.0.0.1 and every
# step stops by itself.
#
# Timings on a shared machine are noisy: compare ratios within one run (off and on runs
# alternate), and read the load averages printed at the start and the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bench=Tools/Benchmarks
results=$bench/.build/results
mkdir -p "$results"
table=$results/table.md
raw=$results/raw.txt
: >"$table"
: >"$raw"

say() { echo "benchmarks: $*" >&2; }
row() { echo "$*" | tee -a "$table"; }

bash scripts/setup.sh
# wrk loads the HTTP servers; libdw-dev is the elfutils symbolication candidate.
wanted=()
command -v wrk >/dev/null || wanted+=(wrk)
[ -f /usr/include/elfutils/libdwfl.h ] || wanted+=(libdw-dev)
if [ ${#wanted[@]} -gt 0 ]; then
  say "installing ${wanted[*]}"
  sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${wanted[@]}" >/dev/null
fi
if ! python3 -c "import aiodebug" 2>/dev/null; then
  say "installing aiodebug"
  python3 -m pip install -q aiodebug
fi

say "building $bench in release (the first build takes minutes)"
swift build -c release --package-path "$bench" >&2
# A Hummingbird-sized application, measured from the outside (first report, memory, idle).
say "building Examples/HummingbirdExample in release (the first build takes minutes)"
swift build -c release --package-path Examples/HummingbirdExample >&2
bin=$bench/.build/release
started=$(date +%s)

# Runs one benchmark command: its table rows go to the table, everything to the raw log.
run() {
  say "$*"
  "$@" 2> >(tee -a "$raw" >&2) | tee -a "$raw" | grep '^|' | tee -a "$table"
}

{
  echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(free -g | awk '/^Mem:/{print $2}') GiB"
  echo "- kernel: $(uname -r); clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo unknown)"
  echo "- $(swift --version 2>&1 | head -1)"
  echo "- $(python3 --version), aiodebug $(python3 -c 'import importlib.metadata as m; print(m.version("aiodebug"))'), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| measurement | result | target | verdict |"
  echo "|---|---|---|---|"
} | tee -a "$table"

# Heartbeat: time per beat here, allocations per beat through ordo-one/benchmark.
run "$bin/watchdog-bench" heartbeat
say "ordo-one/benchmark: Heartbeat"
swift package --package-path "$bench" benchmark --target Heartbeat --no-progress --format markdown \
  >"$results/heartbeat-ordo.md" 2>>"$raw"
# The markdown holds one table per benchmark; the malloc row's p100 column is the worst run.
mallocs=$(awk '/^### beat/{b=1} b && /Malloc \(total\)/{gsub(/ /,""); split($0,c,"|"); print c[9]; exit}' "$results/heartbeat-ordo.md")
row "| heartbeat: allocations per beat (ordo-one/benchmark malloc counter, worst of all samples) | ${mallocs:-not found} | 0 | $([ "${mallocs:-x}" = 0 ] && echo pass || echo '**miss**') |"

run "$bin/watchdog-bench" capture --captures 2000
run "$bin/watchdog-bench" async-callers --captures 1000
# Symbolication: each candidate in a process of its own, so that its memory is its own.
for candidate in lean runtime libdw; do
  run "$bin/watchdog-bench-small" symbolicate --candidate "$candidate"
  run "$bin/watchdog-bench" symbolicate --candidate "$candidate"
done
run python3 scripts/first_report.py --runs 5 --idle-seconds 10 --name "Hummingbird example" -- \
  Examples/HummingbirdExample/.build/release/HummingbirdExample
# The Vapor example too with LWD_BENCH_VAPOR=1 (its first release build takes about 10 minutes).
if [ "${LWD_BENCH_VAPOR:-0}" = 1 ]; then
  swift build -c release --package-path Examples/VaporExample >&2
  run python3 scripts/first_report.py --runs 5 --idle-seconds 10 --name "Vapor example" -- \
    Examples/VaporExample/.build/release/VaporExample
fi
run "$bin/watchdog-bench-small" detection --stalls 100
run "$bin/watchdog-bench" detection --stalls 40
run "$bin/watchdog-bench" idle --seconds 5 --loops 1 8 64
run "$bin/watchdog-bench" chain --pairs 40
run "$bin/watchdog-bench" chain --pairs 40 --timer-pending
run "$bin/watchdog-bench" chain --pairs 40 --variant none
run "$bin/watchdog-bench" task-chain --pairs 150 --switches 200000
run "$bin/watchdog-bench" task-chain --pairs 150 --switches 200000 --control

# HTTP on loopback: three servers, watchdog off, on, and off again (an A/A control whose
# spread is the noise floor), loaded in turn by wrk, in a rotating order.
servers=()
cleanup() { for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
ports=(18080 18081 18082)
modes=(off on off)
for i in 0 1 2; do
  "$bin/watchdog-bench" http-server --port "${ports[$i]}" --watchdog "${modes[$i]}" --max-seconds 240 2>>"$raw" &
  servers+=($!)
done
for port in "${ports[@]}"; do
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done
# One wrk run against server $1 (0, 1, 2) for $2; prints "requests/s server-CPU-µs-per-request",
# the server's CPU read from /proc/PID/stat (utime + stime, in clock ticks) around the run.
server_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
load() {
  local port=${ports[$1]} pid=${servers[$1]} before after output
  before=$(server_ticks "$pid")
  output=$(wrk -t1 -c32 -d"$2" "http://127.0.0.1:$port/" 2>>"$raw")
  after=$(server_ticks "$pid")
  echo "$output" >>"$raw"
  echo "$output" | awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
    / requests in /{requests=$1} /^Requests\/sec/{rps=$2}
    END{printf "%s %.2f\n", rps, ticks * 1e6 / hz / requests}'
}
for i in 0 1 2; do load "$i" 1s >/dev/null; done
rounds=6
say "wrk: $rounds rounds of off / on / off-again, 3 s each, rotating order"
declare -a rps cpu ratio_on ratio_aa cpu_on cpu_aa rps_off rps_on cpu_off cpu_onv
for round in $(seq 0 $((rounds - 1))); do
  for k in 0 1 2; do
    i=$(( (k + round) % 3 ))
    read -r rps[$i] cpu[$i] < <(load "$i" 3s)
  done
  rps_off+=("${rps[0]}"); rps_on+=("${rps[1]}"); cpu_off+=("${cpu[0]}"); cpu_onv+=("${cpu[1]}")
  ratio_on+=("$(python3 -c "print(${rps[1]} / ${rps[0]})")")
  ratio_aa+=("$(python3 -c "print(${rps[2]} / ${rps[0]})")")
  cpu_on+=("$(python3 -c "print(${cpu[0]} / ${cpu[1]})")")
  cpu_aa+=("$(python3 -c "print(${cpu[0]} / ${cpu[2]})")")
done
cleanup
servers=()
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
verdict() { python3 -c "print('pass' if $1 >= 0.99 else '**miss**')"; }
on=$(median "${ratio_on[@]}"); aa=$(median "${ratio_aa[@]}")
con=$(median "${cpu_on[@]}"); caa=$(median "${cpu_aa[@]}")
row "| HTTP/1.1 server (NIOHTTP1, 1 loop) under wrk -t1 -c32 on 127.0.0.1, requests/s off / on | median $(median "${rps_off[@]}") / $(median "${rps_on[@]}"); server CPU per request $(median "${cpu_off[@]}") / $(median "${cpu_onv[@]}") µs | - | - |"
row "| HTTP server: throughput ratio on/off, median of $rounds rounds | $(printf '%.3f' "$on") (rounds: $(printf '%.2f ' "${ratio_on[@]}")); A/A control off-again/off: $(printf '%.3f' "$aa") (rounds: $(printf '%.2f ' "${ratio_aa[@]}")) | ≥ 0.99 | $(verdict "$on") |"
row "| HTTP server: server CPU per request ratio off/on (throughput on the server's own CPU clock), median of $rounds rounds | $(printf '%.3f' "$con") (rounds: $(printf '%.2f ' "${cpu_on[@]}")); A/A control: $(printf '%.3f' "$caa") (rounds: $(printf '%.2f ' "${cpu_aa[@]}")) | ≥ 0.99 | $(verdict "$con") |"

say "loop-watchdog report over a 1 GB stall log"
bash scripts/report_benchmark.sh 1024 2>>"$raw" | tee -a "$raw" | tee -a "$table"

say "asyncio peer (7 rounds with aiodebug, 3 with debug mode, which is slow)"
python3 Tools/peers/asyncio_chain.py --rounds 7 --debug-rounds 3 2>>"$raw" | tee -a "$raw" | tee -a "$table"

{
  echo
  echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg); run time $(( $(date +%s) - started )) s after the build"
} | tee -a "$table"
say "table: $root/$table; raw output: $root/$raw"
