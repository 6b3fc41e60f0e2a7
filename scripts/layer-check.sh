#!/usr/bin/env bash
# Check the layering of the library on its object files.
#
#   scripts/layer-check.sh [BUILD_DIR]      (default: build-test)
#
# Each directory under src/ is a layer.  A layer may call its own
# directory and the layers below it in LAYERS; a lower layer reaches an
# upper one only through an ops table or a registration the upper layer
# made, never by name.  This reads the symbols every object file of a build
# defines and references (nm) and fails on each reference that goes up the
# table, printing
#
#   dir/file.c.o -> symbol (defined in dir2)
#
# References to symbols no object of ours defines (libc, liburcu, the
# compiler's runtime) are not ours to order and are skipped, and so are the
# libc names the preload shim defines (its interposers).  Calls through
# inline functions in headers leave no symbol and are not seen.  The table
# is also in docs/architecture.md: change both together.  Exit 0 when the
# tree is clean, 1 on any upward reference or an object in a directory the
# table does not know, 2 on usage errors.
set -euo pipefail

# Bottom to top.
LAYERS=(
	util      # errors, RCU, interval tree, raw system calls, locks
	pgtable   # I/O page-table formats and the walker
	pasid     # the PASID space, sets, notifiers
	core      # system, instances, devices, groups, domains, attach
	mm        # process address spaces
	sva       # SVA bonds and shared domains
	iopf      # I/O page faults
	drivers   # mock, soft, the shared page-table domain
	dma       # the device data path
	pci       # PCI device models' interface
	models    # the bundled device models
	file      # emulated file descriptors
	umem      # user memory
	mmio      # MMIO traps
	iommufd   # /dev/iommu
	vfio      # VFIO groups, devices, the container
	machine   # a whole emulated machine
	shared    # the shared mode's server (in the launcher)
	preload   # the LD_PRELOAD shim (a separate shared object)
)

build=${1:-build-test}
objroot="$build/src/CMakeFiles/sio_objs.dir"
preroot="$build/src/preload/CMakeFiles/softiommu_preload.dir"
if [[ $# -gt 1 || ! -d "$objroot" ]]; then
	echo "usage: scripts/layer-check.sh [BUILD_DIR]" >&2
	echo "  ($objroot not found: configure and build first)" >&2
	exit 2
fi

# The libc names the shim interposes are libc's, whoever else defines them.
libc=$(${CC:-cc} -print-file-name=libc.so.6 2>/dev/null || true)
libc_syms=$(mktemp)
trap 'rm -f "$libc_syms"' EXIT
if [[ -f "$libc" ]]; then
	nm -D --defined-only "$libc" | awk '{ print $NF }' | sed 's/@.*//' |
		sort -u >"$libc_syms"
else
	# Without libc's list the shim's interposers would look like ours.
	echo "layer-check: libc.so.6 not found: the shim's objects are skipped" >&2
	preroot=/nonexistent
fi

rank_list=$(for i in "${!LAYERS[@]}"; do echo "${LAYERS[$i]} $i"; done)

# One line per symbol: "D|U layer object symbol", the object relative to
# the build's object root ("core/attach.c.o"; the shim's as "preload/...").
symbols() {
	local root=$1 prefix=$2 o rel
	while IFS= read -r -d '' o; do
		rel=$prefix${o#"$root"/}
		nm -P "$o" | awk -v obj="$rel" '
			$2 == "U" { print "U", obj, $1; next }
			$2 ~ /^[TDBRCVWGS]$/ { print "D", obj, $1 }'
	done < <(find "$root" -name '*.o' -print0 | sort -z)
}

{
	symbols "$objroot" ""
	if [[ -d "$preroot" ]]; then
		symbols "$preroot" "preload/"
	fi
} | awk -v ranks="$rank_list" -v libcfile="$libc_syms" '
	BEGIN {
		n = split(ranks, r, "\n")
		for (i = 1; i <= n; i++) {
			split(r[i], kv, " ")
			rank[kv[1]] = kv[2]
		}
		while ((getline s < libcfile) > 0)
			libc[s] = 1
		bad = 0
	}
	{
		split($2, p, "/")
		dir = p[1]
		if (!(dir in rank)) {
			if (!(dir in unknown))
				printf "%s: directory %s is not in the layer table\n", $2, dir
			unknown[dir] = 1
			bad = 1
			next
		}
		if ($1 == "D") {
			if (!($3 in libc))
				def[$3] = dir
		} else {
			nref++
			refobj[nref] = $2
			refsym[nref] = $3
			refdir[nref] = dir
		}
	}
	END {
		for (i = 1; i <= nref; i++) {
			s = refsym[i]
			if (!(s in def))
				continue
			if (rank[def[s]] > rank[refdir[i]]) {
				printf "%s -> %s (defined in %s)\n", refobj[i], s, def[s]
				bad = 1
			}
		}
		exit bad
	}' && status=0 || status=$?

if [[ $status -eq 0 ]]; then
	echo "layer-check: no reference goes up the layer table"
else
	echo "layer-check: references go up the layer table (see docs/architecture.md)" >&2
fi
exit "$status"
