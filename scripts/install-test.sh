#!/usr/bin/env bash
# Install softiommu the way a user does and use it from there.
#
#   scripts/install-test.sh [BUILD_DIR]      (default: build-install)
#
# Configures and builds the installable targets in BUILD_DIR, installs
# them with `cmake --install BUILD_DIR --prefix DIR` into a temporary
# prefix (not the configured one, so the installed tree must be
# relocatable), then, from the installed tree only:
#   - finds softiommu.pc under DIR (lib/ or a multiarch lib/<triplet>/);
#   - builds the README's C example (examples/minimal.c) with
#     `pkg-config --cflags --libs softiommu` and runs it, against the shared
#     library and against the static one;
#   - runs `DIR/bin/softiommu run -- true` and `DIR/bin/softiommu info`;
#   - moves the tree elsewhere and does the pkg-config build and `run`
#     again.
# One line per check; exits 1 if any check failed.  The temporary
# directories are removed at the end.
set -uo pipefail
cd "$(dirname "$0")/.."

build=${1:-build-install}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/softiommu-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
failed=0

# check NAME CMD...: run CMD, its output in $tmp/log, and say how it went.
check() {
	local name=$1
	shift
	if "$@" >"$tmp/log" 2>&1; then
		echo "ok   $name"
	else
		echo "FAIL $name"
		sed 's/^/     | /' "$tmp/log" | tail -n 20
		failed=1
	fi
}

# Checks that need the ones before them stop the run when those failed.
need() {
	if [[ $failed -ne 0 ]]; then
		echo "install-test: stopped after a failed check" >&2
		exit 1
	fi
}

check "configure ($build)" \
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
need
check "build the installed targets" \
	cmake --build "$build" -j"$(nproc)" --target softiommu softiommu_static \
		softiommu_cli softiommu_preload softiommu_vmm_demo
need
check "install into a temporary prefix" \
	cmake --install "$build" --prefix "$prefix"
need

# Where pkg-config's file went: lib/pkgconfig or lib/<triplet>/pkgconfig.
pcfile=$(find "$prefix" -name softiommu.pc -path '*/pkgconfig/*' | head -n 1)
check "softiommu.pc installed (${pcfile#"$prefix"/})" test -f "$pcfile"
need
pcdir=$(dirname "$pcfile")

# The example, built and run with what pkg-config says about the tree at
# $1 ($2: the .pc directory there).
build_example() {
	local root=$1 pc=$2 out=$3
	local cflags libs libdir
	cflags=$(PKG_CONFIG_PATH=$pc pkg-config --cflags softiommu) || return 1
	libs=$(PKG_CONFIG_PATH=$pc pkg-config --libs softiommu) || return 1
	libdir=$(PKG_CONFIG_PATH=$pc pkg-config --variable=libdir softiommu) ||
		return 1
	# The flags must point into this tree, not where it was configured.
	[[ $(realpath "$libdir") == "$(realpath "$root")"/* ]] || {
		echo "libdir $libdir is outside $root"
		return 1
	}
	# shellcheck disable=SC2086
	cc -o "$out" examples/minimal.c $cflags $libs || return 1
	LD_LIBRARY_PATH=$libdir "$out"
}

build_static_example() {
	local pc=$1 out=$2
	local cflags libs libdir
	cflags=$(PKG_CONFIG_PATH=$pc pkg-config --cflags softiommu) || return 1
	libs=$(PKG_CONFIG_PATH=$pc pkg-config --static --libs softiommu) ||
		return 1
	libdir=$(PKG_CONFIG_PATH=$pc pkg-config --variable=libdir softiommu) ||
		return 1
	# The archive by name: with both present, -lsoftiommu is the .so.
	# shellcheck disable=SC2086
	cc -o "$out" examples/minimal.c $cflags "$libdir/libsoftiommu.a" \
		${libs//-lsoftiommu/} || return 1
	! ldd "$out" | grep -q libsoftiommu || {
		echo "$out still needs the shared library"
		return 1
	}
	"$out"
}

check "examples/minimal.c: pkg-config build, run (shared)" \
	build_example "$prefix" "$pcdir" "$tmp/minimal"
check "examples/minimal.c: pkg-config --static build, run (static)" \
	build_static_example "$pcdir" "$tmp/minimal-static"
check "softiommu run -- true" "$prefix/bin/softiommu" run -- true
check "softiommu info" "$prefix/bin/softiommu" info

# Relocated: the same tree under another name works the same.
moved=$tmp/moved
mv "$prefix" "$moved"
check "moved tree: pkg-config build, run" \
	build_example "$moved" "$moved/${pcdir#"$prefix"/}" "$tmp/minimal-moved"
check "moved tree: softiommu run -- true" "$moved/bin/softiommu" run -- true

if [[ $failed -ne 0 ]]; then
	echo "install-test: FAILED"
	exit 1
fi
echo "install-test: all checks passed"
