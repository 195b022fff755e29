#!/usr/bin/env bash
# Reproduces RELIABILITY.md on a fresh clone: runs the fault suite (FaultSuite and the
# 30 s idle test) on its own, prints its figures, then runs the whole test suite under
# ThreadSanitizer and AddressSanitizer (scripts/sanitizers.sh).
# Usage: scripts/reliability.sh [--no-sanitizers]
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizers=1
if [ "${1:-}" = "--no-sanitizers" ]; then sanitizers=0; fi
bash scripts/setup.sh
swift build --build-tests

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
swift test --skip-build --filter 'FaultSuite|IdleTests' 2>&1 | tee "$log" || status=1

echo
echo "== Figures (from the fault suite run above)"
grep '^FIGURE ' "$log" | sed 's/^FIGURE /  /' || true
grep -E '^(✔|✘) Test run with' "$log" | sed 's/^/  fault suite: /' || true

if [ $sanitizers -eq 1 ]; then
  for kind in thread address; do
    if bash scripts/sanitizers.sh "$kind" >"$log" 2>&1; then result=passed; else result=FAILED; status=1; fi
    # Kept beside the build it tested: .build-tsan/ or .build-asan/ (ignored by git).
    scratch=.build-tsan
    if [ "$kind" = address ]; then scratch=.build-asan; fi
    cp "$log" "$scratch/reliability-test.log"
    summary=$(grep -E '^(✔|✘) Test run with' "$log" | tail -1)
    skipped=$(grep -E '^➜ Test .* skipped' "$log" | sed 's/^➜ Test //; s/ skipped.*//' | sort -u | paste -sd, - || true)
    echo "  $kind sanitizer: $result; $summary; skipped: ${skipped:-none} (log: $scratch/reliability-test.log)"
  done
fi
exit $status
