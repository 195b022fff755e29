#!/usr/bin/env bash
# Runs the whole test suite under ThreadSanitizer and under AddressSanitizer, each in its
# own scratch path (.build-tsan, .build-asan; ignored by git). Tests that a sanitizer
# cannot run say so in their `.disabled(if: Sanitizer.thread, "reason")` trait.
# Usage: scripts/sanitizers.sh [thread|address]...   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
kinds=("$@")
if [ ${#kinds[@]} -eq 0 ]; then kinds=(thread address); fi
status=0
for kind in "${kinds[@]}"; do
  case "$kind" in
    thread) scratch=.build-tsan ;;
    address) scratch=.build-asan ;;
    *) echo "sanitizers.sh: unknown sanitizer '$kind' (thread or address)" >&2; exit 2 ;;
  esac
  # Leaks inside the toolchain's libraries only (see the file); exported for the children.
  export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan-suppressions.txt:print_suppressions=0"
  echo "== swift test --sanitize=$kind --scratch-path $scratch" >&2
  swift build --build-tests --sanitize="$kind" --scratch-path "$scratch"
  if swift test --skip-build --sanitize="$kind" --scratch-path "$scratch"; then
    echo "== $kind sanitizer: passed" >&2
  else
    echo "== $kind sanitizer: FAILED" >&2
    status=1
  fi
done
exit $status
