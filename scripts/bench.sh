#!/usr/bin/env bash
# Run every benchmark and end with their "target" lines: each figure is
# printed beside floors measured in the same run (bench/floors.h), never
# against a figure from another run.
#   scripts/bench.sh [BUILD_DIR]     (default: build-test, built by scripts/test.sh)
# The bench/shim programs run under `softiommu run`, as a program would;
# the others link the library.  Under a minute on a 2-vCPU machine.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build-test}
run="$build/softiommu run --"
b="$build/bench"
if [ ! -x "$b/bench_ioctl" ]; then
	echo "bench.sh: $b/bench_ioctl is missing: build first (scripts/test.sh)" >&2
	exit 2
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT

step() {
	echo "== $*" | tee -a "$out"
	"$@" 2>&1 | tee -a "$out"
}

step $run "$b/bench_ioctl"
step $run "$b/bench_pin" 100000 30
step $run "$b/bench_shared"
step "$build/softiommu" run --shared -- "$b/bench_shared"
step "$b/bench_map" 7
step "$b/bench_dma" 7
step "$b/bench_iopf" 5
step "$b/bench_dirty" 5
step "$b/bench_pgtable" 3
step "$b/bench_ioat" 3
step "$b/bench_mmio"

echo
echo "== targets (each against its floor of the same run)"
grep -i "^ *target" "$out" | sed 's/^ *//'
