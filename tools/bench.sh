#!/usr/bin/env bash
# The benchmark in one command: installs the packages, builds ./build, runs
# voxbridge-bench (G.711 passthrough, 24 kHz PCM and callers interrupting the
# model, 50/100/200 concurrent calls, then the largest sustained count) and
# rewrites BENCHMARKS.md. Extra arguments go to voxbridge-bench,
# e.g. ./tools/bench.sh --calls 20 --duration 10 (then BENCHMARKS.md is left alone
# unless --write-benchmarks-md is given too).
# Run it on a quiet machine: the figures are CPU time and latencies.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install-deps.sh
./tools/build.sh
if [ $# -eq 0 ]; then
  set -- --mode g711,pcm24k,bargein --calls 50,100,200 --rate 20 --duration 20 --find-max \
    --json out/bench/bench.json --write-benchmarks-md BENCHMARKS.md
fi
mkdir -p out/bench
exec ./build/tools/bench/voxbridge-bench "$@"
