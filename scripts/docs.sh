#!/usr/bin/env bash
# Builds the DocC documentation of LoopWatchdog, LoopWatchdogNIO, LoopWatchdogReport and
# LoopWatchdogServiceLifecycle with the swift-docc-plugin, failing on any DocC warning
# (an unresolved symbol link, a bad article), then checks that every public symbol has a doc
# comment (scripts/doc_coverage.py). The archives go to $DOCS_OUTPUT (default
# ${TMPDIR:-/tmp}/loop-watchdog-docs); `swift package --disable-sandbox preview-documentation
# --target LoopWatchdog` serves one locally.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
output="${DOCS_OUTPUT:-${TMPDIR:-/tmp}/loop-watchdog-docs}"
mkdir -p "$output"
start=$SECONDS
for target in LoopWatchdog LoopWatchdogNIO LoopWatchdogServiceLifecycle LoopWatchdogReport; do
  swift package --allow-writing-to-directory "$output" generate-documentation \
    --target "$target" --output-path "$output/$target.doccarchive" --warnings-as-errors
done
python3 scripts/doc_coverage.py .build/*/extracted-symbols
echo "docs: 4 archives in $output, no warnings, in $((SECONDS - start)) s"
