#!/usr/bin/env bash
# Debian trixie's QEMU (10.0) on this bookworm machine, without installing
# it: a minimal trixie tree with qemu-system-x86 in it, whose
# qemu-system-x86_64 runs through the tree's own dynamic loader and
# libraries.
#
#   scripts/qemu-trixie.sh --setup      build the tree (root, debootstrap)
#   scripts/qemu-passthrough.sh --qemu scripts/qemu-trixie.sh [--iommufd]
#   scripts/qemu-trixie.sh ARGS...      qemu-system-x86_64 ARGS...
#
# The tree is .cache/qemu-trixie (about 365 MB; debootstrap --variant=minbase
# --include=qemu-system-x86 trixie from deb.debian.org).  Running execs the
# loader with QEMU and its arguments, with the tree's firmware directory
# first (-L), so that under `softiommu run -- scripts/qemu-trixie.sh ...` the
# shim is preloaded into QEMU itself.  The tree is built only by --setup,
# never under `softiommu run`.  docs/device-assignment.md ("QEMU versions")
# says what QEMU 10.0 does on softiommu.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
tree=${SOFTIOMMU_TRIXIE_TREE:-$here/.cache/qemu-trixie}
qemu=$tree/usr/bin/qemu-system-x86_64

if [ "${1:-}" = --setup ]; then
	if [ -x "$qemu" ]; then
		echo "qemu-trixie: $tree is there" >&2
		exit 0
	fi
	command -v debootstrap >/dev/null ||
		{ echo "qemu-trixie: debootstrap is missing (apt-get install debootstrap)" >&2; exit 2; }
	[ "$(id -u)" = 0 ] || { echo "qemu-trixie: debootstrap needs root" >&2; exit 2; }
	rm -rf "$tree.tmp"
	mkdir -p "$(dirname "$tree")"
	echo "qemu-trixie: debootstrap trixie with qemu-system-x86 into $tree" >&2
	debootstrap --variant=minbase --include=qemu-system-x86 trixie "$tree.tmp" \
		http://deb.debian.org/debian >"$tree.log" 2>&1 ||
		{ tail -n 20 "$tree.log" >&2; echo "qemu-trixie: debootstrap failed, log $tree.log" >&2; exit 2; }
	mv "$tree.tmp" "$tree"
	"$0" --version | head -n1
	exit 0
fi

[ -x "$qemu" ] || { echo "qemu-trixie: no tree at $tree (scripts/qemu-trixie.sh --setup)" >&2; exit 2; }
exec "$tree/lib64/ld-linux-x86-64.so.2" \
	--library-path "$tree/usr/lib/x86_64-linux-gnu:$tree/lib/x86_64-linux-gnu" \
	"$qemu" -L "$tree/usr/share/qemu" "$@"
