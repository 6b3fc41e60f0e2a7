#!/usr/bin/env bash
# Set up, build and run every test.
#   scripts/test.sh           gcc build, warnings as errors, the whole suite
#   scripts/test.sh --asan    clang, ASan+UBSan (and LeakSanitizer), the whole suite
#   scripts/test.sh --tsan    clang, ThreadSanitizer, the concurrency tests
# Each variant builds in its own directory (build-test, build-asan, build-tsan).
set -euo pipefail
cd "$(dirname "$0")/.."

variant=${1:-}
case "$variant" in
"")     dir=build-test; cc=gcc;   san="";        ctest_args=() ;;
--asan) dir=build-asan; cc=clang; san=address;   ctest_args=() ;;
--tsan) dir=build-tsan; cc=clang; san=thread;    ctest_args=(-L concurrency) ;;
*) echo "usage: scripts/test.sh [--asan|--tsan]" >&2; exit 2 ;;
esac

scripts/setup.sh
# The ABI test compares our headers with the kernel's own (Debian's
# linux-libc-dev and linux-source 7.3), fetched once into .cache/.
scripts/fetch-kernel.sh >/dev/null

CC=$cc cmake -S . -B "$dir" -DSIO_WERROR=ON -DSIO_SANITIZE="$san" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$dir" -j"$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
cd "$dir"
ctest --output-on-failure -j"$(nproc)" "${ctest_args[@]}"
