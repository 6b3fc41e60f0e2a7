#!/usr/bin/env bash
# The softiommu command with the ASan+UBSan build's shim, for running
# unmodified (uninstrumented) programs under the sanitizers:
#
#   scripts/asan-launcher.sh run -- PROG [ARGS...]
#   SOFTIOMMU=scripts/asan-launcher.sh scripts/conformance.sh --prog iommufd_fail_nth
#
# The ASan shim (build-asan, from `scripts/test.sh --asan`) loads only into
# a process that already has the sanitizer runtime, so clang's runtime is
# preloaded too; the plain build's launcher (build-test) puts the shim
# first in LD_PRELOAD and keeps the runtime after it, which
# verify_asan_link_order=0 accepts.  Leaks are reported at exit and make
# the program fail.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
launcher=${SOFTIOMMU_LAUNCHER:-$here/build-test/softiommu}
shim=${SOFTIOMMU_ASAN_PRELOAD:-$here/build-asan/libsoftiommu-preload.so}
rt=$(clang -print-file-name=libclang_rt.asan-x86_64.so)
for f in "$launcher" "$shim" "$rt"; do
	[ -e "$f" ] || { echo "asan-launcher: $f is missing (scripts/test.sh and scripts/test.sh --asan build them)" >&2; exit 2; }
done
export SOFTIOMMU_PRELOAD=$shim
export ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
LD_PRELOAD=$rt${LD_PRELOAD:+:$LD_PRELOAD} exec "$launcher" "$@"
