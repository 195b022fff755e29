#!/usr/bin/env bash
# Installs what building and testing LoopWatchdog needs beyond the Swift toolchain:
# libunwind's headers and shared library (Debian's libunwind-dev), zlib's (zlib1g-dev, for
# the gzip of `loop-watchdog report`), and strace, the real
# tracer the fault suite attaches to a child process (TracerTests). Does nothing when they
# are there already.
set -euo pipefail

missing=()
if [ ! -f /usr/include/libunwind.h ] && [ ! -f /usr/include/x86_64-linux-gnu/libunwind.h ] \
   && [ ! -f /usr/include/aarch64-linux-gnu/libunwind.h ]; then
  missing+=(libunwind-dev)
fi
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
command -v strace >/dev/null || missing+=(strace)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift is not on PATH" >&2; exit 1; }
