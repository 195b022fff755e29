#!/usr/bin/env bash
# Installs what building LoopWatchdog needs beyond the Swift toolchain: libunwind's headers
# and shared library (Debian's libunwind-dev). Does nothing when they are there already.
set -euo pipefail

if [ ! -f /usr/include/libunwind.h ] && [ ! -f /usr/include/x86_64-linux-gnu/libunwind.h ] \
   && [ ! -f /usr/include/aarch64-linux-gnu/libunwind.h ]; then
  echo "setup: installing libunwind-dev" >&2
  sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq libunwind-dev >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift is not on PATH" >&2; exit 1; }
