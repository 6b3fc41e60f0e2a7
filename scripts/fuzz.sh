#!/usr/bin/env bash
# Fuzz the iommufd ioctl dispatcher (tests/fuzz, docs/fuzzing.md).
#   scripts/fuzz.sh [SECONDS]    run fuzz_iommufd for SECONDS (default 60)
# Builds in build-asan (clang, ASan+UBSan: what scripts/test.sh --asan
# makes, configured the same way if it is not there yet) and fuzzes a copy
# of the committed seeds in .cache/fuzz-corpus, which keeps what earlier
# runs found; the repository is never written.  Exits non-zero on any
# crash, leak, sanitizer report or timeout; the input that caused it is
# left in .cache/fuzz-artifacts/ (replay: build-asan/tests/fuzz/fuzz_iommufd FILE).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
case "$secs" in
''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2 ;;
esac
dir=build-asan
bin=$dir/tests/fuzz/fuzz_iommufd

if [ ! -f "$dir/CMakeCache.txt" ]; then
	scripts/setup.sh
	scripts/fetch-kernel.sh >/dev/null
	CC=clang cmake -S . -B "$dir" -DSIO_WERROR=ON -DSIO_SANITIZE=address \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$dir" -j"$(nproc)" --target fuzz_iommufd

corpus=.cache/fuzz-corpus
artifacts=.cache/fuzz-artifacts
log=.cache/fuzz.log
mkdir -p "$corpus" "$artifacts"
cp tests/fuzz/corpus/* "$corpus"/

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "fuzz: $bin for ${secs}s on $corpus (log: $log)"
rc=0
"$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
	-print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" \
	>"$log" 2>&1 || rc=$?
grep -E '^#[0-9]+' "$log" | tail -n 1 || true
grep -E '^stat::' "$log" || true
if [ "$rc" -ne 0 ]; then
	echo "fuzz: FAILED (exit $rc); the report:" >&2
	grep -E -A 40 'ERROR: |runtime error|fuzz_iommufd: |Test unit written' "$log" \
		| head -n 80 >&2 || tail -n 60 "$log" >&2
	exit "$rc"
fi
echo "fuzz: OK"
