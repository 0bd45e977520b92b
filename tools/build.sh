#!/usr/bin/env bash
# Configures (once) and builds voxbridge into ./build. Extra arguments go to
# `meson setup` the first time (e.g. -Dlauncher=disabled).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  meson setup build "$@"
fi
ninja -C build -j"$(nproc)"
