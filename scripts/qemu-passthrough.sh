#!/usr/bin/env bash
# Device assignment with a real VMM: QEMU's vfio-pci, under `softiommu run`,
# hands the emulated Intel I/OAT DMA engine to a Linux guest, whose own
# ioatdma driver runs dmatest on it.  docs/device-assignment.md describes the
# whole path and what QEMU asks of softiommu.
#
#  1. QEMU: qemu-system-x86_64 from PATH (or --qemu), installed from Debian
#     with apt-get (qemu-system-x86) when missing.
#  2. The guest, from Debian bookworm's packages only, cached under
#     .cache/qemu: apt-get downloads (its own source list and list directory,
#     the machine's apt configuration is left alone) linux-image-amd64's
#     kernel, busybox-static, the kernel's headers and kbuild and
#     linux-source; dpkg-deb -x unpacks them.  Nothing is installed on the
#     machine.  Debian's kernel does not build dmatest (CONFIG_DMATEST is
#     off), so dmatest.c of the same kernel version is built here against
#     that kernel's headers as an out-of-tree module.
#  3. An initramfs (cpio newc, gzip): busybox, the kernel's ioatdma with the
#     modules it depends on (from the modules' own depends= field), dmatest,
#     and tests/qemu/init as /init.
#  4. QEMU, TCG by default (-smp 1, q35, -m 512M, console on ttyS0), under
#     timeout; with the device, as
#       softiommu run -- qemu-system-x86_64 ... -device vfio-pci,host=BDF
#  5. The guest prints one "SIOTEST ..." line (tests/qemu/init); this script
#     prints ONE line at the end, e.g.
#       qemu-passthrough: device=0100:00:01.0 accel=tcg result=pass
#       dmatest_threads=1/1 passed, 0 failed; iterations=20 passed, 0 failed;
#       boot=9.8s run=31.2s; iommu: maps=12 unmaps=3 translations=4800 faults=0
#     (on one line).  The IOMMU's counts come from the file named by
#     SOFTIOMMU_STATS_FILE, which `softiommu run` is asked to write at exit
#     (docs/device-assignment.md, "The IOMMU's counts"); while it writes none
#     the line says "iommu: not reported".
#
# --fault runs the fault scenario instead (docs/device-assignment.md, "A
# fault in the guest path"): the guest gets QEMU's intel-iommu, so its DMA
# API maps and unmaps reach softiommu, and tests/qemu/siofault.c unmaps a
# DMA destination while the I/OAT channel copies into it.  The line is then
#   qemu-passthrough: fault: device=0100:00:01.0 accel=tcg viommu=intel-iommu
#   result=pass unmapped=1024KiB@0xff900000 after 30/1024 copies ...;
#   chanerr=0x200 (WRITE_DATA_ERR) ...; qemu=alive guest=poweroff; ...
#   iommu: maps=... unmaps=... translations=... faults=1
#
# Exit status: 0 when the run shows what it should (with the device: every
# dmatest thread passed; with --no-device: the guest booted, loaded the
# modules and found no I/OAT channel; with --fault: see the scenario), 1
# when the guest ran but the test did not pass, 2 when the guest could not
# be built or did not report.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${SOFTIOMMU_QEMU_CACHE:-$here/.cache/qemu}
suite=bookworm

usage() {
	cat <<EOF
Usage: scripts/qemu-passthrough.sh [options]

  --no-device          boot the guest without a passed-through device (no
                       softiommu): checks the guest, its modules and the
                       reporting; dmatest then finds no channel
  --bdf BDF            the emulated device to assign (default 0100:00:01.0)
  --fault              the fault scenario: a guest vIOMMU (intel-iommu),
                       two vCPUs, and tests/qemu/siofault.c unmapping a DMA
                       destination under a running chain of copies; then
                       dmatest on the same channel
  --fault-copies N     copies in siofault's first chain (default 1024)
  --softiommu PATH     the softiommu launcher (default build-test/softiommu)
  --qemu PATH          qemu-system-x86_64 to run (default: from PATH,
                       installed from Debian if missing)
  --timeout SECS       kill QEMU after SECS seconds (default 600)
  --accel tcg|kvm      QEMU's accelerator (default tcg); kvm needs a usable
                       /dev/kvm and implies --no-mmap with the device
  --iommufd            QEMU 8.2 and later: -object iommufd and
                       vfio-pci,iommufd=...: the device's cdev bound to
                       /dev/iommu instead of the group and container
  --shared             run QEMU under "softiommu run --shared": the
                       launcher serves /dev/iommu and the VFIO files, and
                       QEMU's BAR accesses travel to it
                       (docs/process-model.md)
  --no-mmap            vfio-pci,x-no-mmap=on: every BAR access goes through
                       pread/pwrite on the device fd instead of the mmap
  --iterations N       dmatest iterations per thread (default 20)
  --threads N          dmatest threads per channel (default 1)
  --channels N|all     I/OAT channels to test (default 1)
  --dma-timeout MS     dmatest's per-transfer timeout (default 10000)
  --trace PATTERN      QEMU trace events to enable (e.g. 'vfio*'), logged
                       with the console
  --strace             run QEMU under strace -f (openat, ioctl, stat, mmap,
                       pread/pwrite, readlink), log in the run directory
  --verbose            show the guest console while it runs, and the
                       kernel's boot messages (no "quiet")
  --rebuild            rebuild dmatest.ko and the initramfs
  -h, --help           this text

Run directory (console log, QEMU command, strace log): .cache/qemu/run/
(.cache/qemu/run-fault/ with --fault)
EOF
}

with_device=1
bdf=0100:00:01.0
softiommu=$here/build-test/softiommu
qemu=
run_timeout=600
accel=tcg
no_mmap=0
iterations=20
threads=1
channels=1
dma_timeout=10000
trace=
use_strace=0
verbose=0
rebuild=0
fault=0
fault_copies=1024
use_iommufd=0
shared=()

while [ $# -gt 0 ]; do
	case "$1" in
	--no-device) with_device=0 ;;
	--bdf) bdf=$2; shift ;;
	--fault) fault=1 ;;
	--fault-copies) fault_copies=$2; shift ;;
	--softiommu) softiommu=$2; shift ;;
	--qemu) qemu=$2; shift ;;
	--timeout) run_timeout=$2; shift ;;
	--accel) accel=$2; shift ;;
	--no-mmap) no_mmap=1 ;;
	--iommufd) use_iommufd=1 ;;
	--shared) shared=(--shared) ;;
	--iterations) iterations=$2; shift ;;
	--threads) threads=$2; shift ;;
	--channels) channels=$2; shift ;;
	--dma-timeout) dma_timeout=$2; shift ;;
	--trace) trace=$2; shift ;;
	--strace) use_strace=1 ;;
	--verbose) verbose=1 ;;
	--rebuild) rebuild=1 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "qemu-passthrough: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

say() { echo "qemu-passthrough: $*" >&2; }
die() { say "$*"; exit 2; }

case "$accel" in tcg|kvm) ;; *) die "--accel takes tcg or kvm" ;; esac
[[ $run_timeout =~ ^[0-9]+$ ]] || die "--timeout takes a number of seconds"
[[ $iterations =~ ^[0-9]+$ && $iterations -gt 0 ]] || die "--iterations takes a positive number"
[[ $threads =~ ^[0-9]+$ && $threads -gt 0 ]] || die "--threads takes a positive number"
[[ $channels == all || $channels =~ ^[0-9]+$ ]] || die "--channels takes a number or 'all'"
[[ $dma_timeout =~ ^[0-9]+$ ]] || die "--dma-timeout takes milliseconds"
[[ $fault_copies =~ ^[0-9]+$ && $fault_copies -gt 0 && $fault_copies -le 32768 ]] ||
	die "--fault-copies takes a number from 1 to 32768"
if [ $fault = 1 ]; then
	[ $with_device = 1 ] || die "--fault needs the device"
	# intel-iommu under KVM wants a split irqchip; the scenario is TCG's.
	[ "$accel" = tcg ] || die "--fault runs with --accel tcg"
fi
[[ $bdf =~ ^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]] ||
	die "--bdf takes DDDD:BB:DD.F"

# --- QEMU --------------------------------------------------------------------

if [ -z "$qemu" ]; then
	qemu=$(command -v qemu-system-x86_64 || true)
	if [ -z "$qemu" ]; then
		[ "$(id -u)" = 0 ] || die "qemu-system-x86_64 is missing; install qemu-system-x86"
		say "installing qemu-system-x86 from Debian"
		if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends qemu-system-x86 >&2; then
			apt-get update -qq >&2
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends qemu-system-x86 >&2
		fi
		qemu=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 did not install"
	fi
fi
[ -x "$qemu" ] || die "no QEMU at $qemu"
if [ "$accel" = kvm ]; then
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || die "--accel kvm: /dev/kvm is not usable"
	[ $with_device = 1 ] && no_mmap=1
fi

# --- the guest's packages ----------------------------------------------------

mkdir -p "$cache/apt/lists/partial" "$cache/apt/archives/partial" "$cache/debs"
list=$cache/apt/sources.list
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$list" <<EOF
deb [signed-by=$keyring] http://deb.debian.org/debian $suite main
deb [signed-by=$keyring] http://deb.debian.org/debian-security $suite-security main
EOF
apt_opts=(-o "Dir::Etc::SourceList=$list" -o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::State::Lists=$cache/apt/lists"
	-o "Dir::Cache::Archives=$cache/apt/archives"
	-o "APT::Get::List-Cleanup=0" -o "Debug::NoLocking=1" -qq)
apt_updated=0
apt_update() {
	[ $apt_updated = 1 ] && return 0
	if [ -z "$(find "$cache/apt/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null)" ]; then
		say "apt-get update ($suite, own lists)"
		apt-get "${apt_opts[@]}" update >&2
	fi
	apt_updated=1
}
# The version apt would take of a package, from our lists.
candidate() {
	apt-cache "${apt_opts[@]}" policy "$1" | sed -n 's/^ *Candidate: //p'
}

root=$cache/root
mkdir -p "$root"
# fetch PACKAGE [VERSION]: download the .deb (once) and unpack it into $root.
fetch() {
	local pkg=$1 ver=${2:-} spec=$1 deb stamp
	[ -n "$ver" ] && spec="$pkg=$ver"
	stamp=$cache/debs/$pkg${ver:+_$ver}.unpacked
	[ -e "$stamp" ] && return 0
	apt_update
	say "fetching $spec"
	# apt's download sandbox user cannot write into a root-owned directory;
	# the warning it prints about that is noise.
	(cd "$cache/debs" && apt-get "${apt_opts[@]}" download "$spec" 2>&1 >&2 |
		grep -v 'unsandboxed' >&2 || true)
	deb=$(ls -t "$cache/debs/${pkg}"_*.deb 2>/dev/null | head -n1)
	[ -n "$deb" ] || die "could not download $spec"
	dpkg-deb -x "$deb" "$root"
	touch "$stamp"
}

# The kernel release that linux-image-amd64 stands for (e.g. 6.1.0-57-amd64)
# and its package version: every other kernel package is taken at that
# version, so that dmatest.ko matches the kernel's symbol versions.
krel_file=$cache/kernel-release
if [ ! -s "$krel_file" ] || [ $rebuild = 1 ]; then
	apt_update
	image_pkg=$(apt-cache "${apt_opts[@]}" depends linux-image-amd64 |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n1)
	[ -n "$image_pkg" ] || die "cannot tell which kernel linux-image-amd64 stands for"
	kver=$(candidate "$image_pkg")
	[ -n "$kver" ] && [ "$kver" != "(none)" ] || die "no candidate for $image_pkg"
	echo "${image_pkg#linux-image-} $kver" >"$krel_file"
fi
read -r krel kver <"$krel_file"
kbranch=$(echo "$kver" | sed -n 's/^\([0-9]*\.[0-9]*\)\..*/\1/p')   # 6.1
kabi=${krel%-amd64}                                                # 6.1.0-57

fetch "linux-image-$krel" "$kver"
fetch busybox-static
vmlinuz=$root/boot/vmlinuz-$krel
kmods=$root/lib/modules/$krel
[ -f "$vmlinuz" ] || die "no kernel image at $vmlinuz"
busybox=$root/bin/busybox
[ -x "$busybox" ] || die "no busybox at $busybox"

# --- dmatest.ko --------------------------------------------------------------

build=$cache/dmatest-$krel
hdr=$root/usr/src/linux-headers-$krel
# The headers' Makefile includes the common tree by its installed, absolute
# path; point it into the cache, by the cache's real path (the cache may be
# shared through a symlink by several checkouts, and an earlier rewrite may
# name another one).
point_headers() {
	local real
	[ -f "$hdr/Makefile" ] || die "no kernel headers at $hdr"
	real=$(realpath "$root")
	sed -i "s#^include .*/usr/src/linux-headers-#include $real/usr/src/linux-headers-#" \
		"$hdr/Makefile"
}
if [ ! -f "$build/dmatest.ko" ] || [ $rebuild = 1 ]; then
	fetch "linux-headers-$krel" "$kver"
	fetch "linux-headers-$kabi-common" "$kver"
	fetch "linux-kbuild-$kbranch" "$kver"
	fetch "linux-source-$kbranch" "$kver"
	point_headers
	src_tar=$root/usr/src/linux-source-$kbranch.tar.xz
	[ -f "$src_tar" ] || die "no kernel source at $src_tar"
	rm -rf "$build" && mkdir -p "$build/src"
	say "extracting dmatest.c from linux-source-$kbranch"
	tar -xJf "$src_tar" -C "$build/src" \
		"linux-source-$kbranch/drivers/dma/dmatest.c" \
		"linux-source-$kbranch/Documentation/driver-api/dmaengine/dmatest.rst"
	cp "$build/src/linux-source-$kbranch/drivers/dma/dmatest.c" "$build/"
	echo 'obj-m := dmatest.o' >"$build/Kbuild"
	say "building dmatest.ko for $krel"
	make -s -C "$hdr" M="$build" modules >"$build/build.log" 2>&1 ||
		{ cat "$build/build.log" >&2; die "building dmatest.ko failed"; }
	[ -f "$build/dmatest.ko" ] || die "building dmatest.ko produced nothing"
fi

# --- siofault.ko --------------------------------------------------------------

# The fault scenario's guest module (tests/qemu/siofault.c), built like
# dmatest; its build directory is named for its source, so that a changed
# source is rebuilt and checkouts that share the cache do not clash.
siofault_src=$here/tests/qemu/siofault.c
siofault_key=$(sha256sum "$siofault_src" | cut -c1-12)
sbuild=$cache/siofault-$krel-$siofault_key
if [ ! -f "$sbuild/siofault.ko" ] || [ $rebuild = 1 ]; then
	fetch "linux-headers-$krel" "$kver"
	fetch "linux-headers-$kabi-common" "$kver"
	fetch "linux-kbuild-$kbranch" "$kver"
	point_headers
	rm -rf "$sbuild" && mkdir -p "$sbuild"
	cp "$siofault_src" "$sbuild/"
	echo 'obj-m := siofault.o' >"$sbuild/Kbuild"
	say "building siofault.ko for $krel"
	make -s -C "$hdr" M="$sbuild" modules >"$sbuild/build.log" 2>&1 ||
		{ cat "$sbuild/build.log" >&2; die "building siofault.ko failed"; }
	[ -f "$sbuild/siofault.ko" ] || die "building siofault.ko produced nothing"
fi

# --- the initramfs -----------------------------------------------------------

# modinfo_field FILE FIELD: a field of a module's .modinfo section.
modinfo_field() {
	tr '\0' '\n' <"$1" | sed -n "s/^$2=//p" | head -n1
}
# find_module NAME: the module's file in the unpacked kernel package.
find_module() {
	local n=$1 f
	for f in "$n" "${n//_/-}" "${n//-/_}"; do
		f=$(find "$kmods/kernel" \( -name "$f.ko" -o -name "$f.ko.xz" \
			-o -name "$f.ko.zst" \) -print -quit)
		[ -n "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

init_src=$here/tests/qemu/init
# Named for what goes into it (init, siofault's source, this script), so
# that checkouts sharing the cache each boot their own.
initrd_key=$(cat "$init_src" "$siofault_src" "$0" | sha256sum | cut -c1-12)
initrd=$cache/initramfs-$krel-$initrd_key.cpio.gz
if [ ! -f "$initrd" ] || [ $rebuild = 1 ]; then
	stage=$(mktemp -d "$cache/initramfs-stage.XXXXXX")
	mkdir -p "$stage"/{bin,dev,proc,sys,tmp,lib/modules}
	cp "$busybox" "$stage/bin/busybox"
	for applet in $("$busybox" --list); do
		[ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
	done
	cp "$init_src" "$stage/init"
	chmod 755 "$stage/init"

	# Depth-first over depends=, so that each module follows what it needs.
	order=()
	declare -A seen=()
	add_module() {
		local name=$1 file dep
		[ -n "${seen[$name]:-}" ] && return 0
		seen[$name]=1
		file=$(find_module "$name") || die "module $name is not in $krel"
		case "$file" in
		*.ko.xz) xz -dc "$file" >"$stage/lib/modules/$name.ko" ;;
		*.ko.zst) zstd -qdc "$file" >"$stage/lib/modules/$name.ko" ;;
		*) cp "$file" "$stage/lib/modules/$name.ko" ;;
		esac
		for dep in $(modinfo_field "$stage/lib/modules/$name.ko" depends | tr ',' ' '); do
			add_module "$dep"
		done
		order+=("$name")
	}
	add_module ioatdma
	cp "$build/dmatest.ko" "$stage/lib/modules/dmatest.ko"
	order+=(dmatest)
	for m in "${order[@]}"; do
		v=$(modinfo_field "$stage/lib/modules/$m.ko" vermagic)
		[ "${v%% *}" = "$krel" ] || die "module $m is built for '${v%% *}', not $krel"
	done
	printf '%s\n' "${order[@]}" >"$stage/lib/modules/load-order"
	# Not in load-order: init loads it only with siotest.fault=1.
	strip --strip-debug -o "$stage/lib/modules/siofault.ko" "$sbuild/siofault.ko" 2>/dev/null ||
		cp "$sbuild/siofault.ko" "$stage/lib/modules/siofault.ko"
	# The PCI IDs ioatdma binds, as sysfs spells them ("0x8086:0x2021"),
	# so that the guest can tell "no I/OAT device" from "probe failed".
	tr '\0' '\n' <"$stage/lib/modules/ioatdma.ko" |
		sed -n 's/^alias=pci:v0000\([0-9A-F]\{4\}\)d0000\([0-9A-F]\{4\}\)sv.*/0x\1:0x\2/p' |
		tr 'A-F' 'a-f' | sort -u >"$stage/lib/modules/ioatdma.ids"
	[ -s "$stage/lib/modules/ioatdma.ids" ] || die "ioatdma.ko names no PCI IDs"
	say "initramfs: busybox, init, modules: ${order[*]}"
	(cd "$stage" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) |
		gzip -9 >"$initrd.tmp.$$"
	mv "$initrd.tmp.$$" "$initrd"
	rm -rf "$stage"
fi

# --- the run -----------------------------------------------------------------

run=$cache/run
[ $fault = 1 ] && run=$cache/run-fault
mkdir -p "$run"
console=$run/console.log
stats=$run/iommu-stats
rm -f "$console" "$stats" "$run/strace.log" "$run/init-seen"

append="console=ttyS0 panic=-1"
[ $verbose = 1 ] || append="$append quiet"
append="$append siotest.iterations=$iterations siotest.threads=$threads"
append="$append siotest.channels=$channels siotest.timeout=$dma_timeout"
# dmatest gets what is left of the run, less the boot and a margin.
append="$append siotest.wait=$(( run_timeout > 120 ? run_timeout - 60 : run_timeout / 2 ))"
accel_opt=$accel
smp=1
if [ $fault = 1 ]; then
	# The guest's intel-iommu: its DMA API maps are what QEMU maps for the
	# device.  Caching mode makes the guest's driver invalidate after
	# every change (QEMU's vfio-pci requires it), and it makes Linux's
	# intel-iommu strict: an unmap is invalidated before dma_unmap_*
	# returns.  Two vCPUs in their own threads: the I/OAT model runs a
	# chain inside the doorbell write of one vCPU, and the guest unmaps
	# from the other.
	append="$append intel_iommu=on siotest.fault=1 siotest.fault_copies=$fault_copies"
	accel_opt=$accel,thread=multi
	smp=2
fi

qemu_args=(-name siotest,debug-threads=on -machine q35 -accel "$accel_opt" -smp "$smp" -m 512M
	-nodefaults -nographic -serial stdio -no-reboot
	-kernel "$vmlinuz" -initrd "$initrd" -append "$append")
[ -n "$trace" ] && qemu_args+=(-trace "$trace")
# Before the device: vfio-pci finds the IOMMU when it is realized.
[ $fault = 1 ] && qemu_args+=(-device intel-iommu,caching-mode=on,intremap=off)
if [ $with_device = 1 ]; then
	dev="vfio-pci,host=$bdf"
	[ $no_mmap = 1 ] && dev="$dev,x-no-mmap=on"
	if [ $use_iommufd = 1 ]; then
		qemu_args+=(-object iommufd,id=iommufd0)
		dev="$dev,iommufd=iommufd0"
	fi
	qemu_args+=(-device "$dev")
fi

cmd=("$qemu" "${qemu_args[@]}")
if [ $with_device = 1 ]; then
	[ -x "$softiommu" ] || die "no softiommu launcher at $softiommu (build it: scripts/test.sh)"
	cmd=("$softiommu" run ${shared[@]+"${shared[@]}"} -- "${cmd[@]}")
	# The interface proposed to the launcher for the IOMMU's counts.
	export SOFTIOMMU_STATS_FILE=$stats
	# QEMU maps all guest RAM for DMA.  The pins count against the locked
	# memory limit as the kernel's type1 IOMMU counts them, unless the
	# process has CAP_IPC_LOCK; raise the limit as far as it goes.
	ulimit -l unlimited 2>/dev/null || ulimit -l "$(ulimit -H -l)" 2>/dev/null || true
fi
# strace outside the launcher, so that the shim is not loaded into strace.
if [ $use_strace = 1 ]; then
	command -v strace >/dev/null || die "--strace: strace is not installed"
	cmd=(strace -f -o "$run/strace.log"
		-e trace=openat,ioctl,newfstatat,statx,readlink,readlinkat,mmap,pread64,pwrite64
		"${cmd[@]}")
fi
printf '%q ' "${cmd[@]}" >"$run/command"
echo >>"$run/command"

say "booting the guest ($accel, timeout ${run_timeout}s$([ $with_device = 1 ] && echo ", device $bdf" || echo ", no device")); console: $console"

# Copies the console to the log (and to stderr with --verbose) and notes
# the host time at which the guest's init first spoke.
watch_console() {
	local line
	while IFS= read -r line; do
		line=${line%$'\r'}
		printf '%s\n' "$line" >>"$console"
		[ $verbose = 1 ] && printf '%s\n' "$line" >&2
		if [[ $line == *"siotest: init started"* && ! -e $run/init-seen ]]; then
			date +%s.%N >"$run/init-seen"
		fi
	done
}

t0=$(date +%s.%N)
set +e
timeout --kill-after=10 "$run_timeout" "${cmd[@]}" </dev/null 2>&1 | watch_console
rc=${PIPESTATUS[0]}
set -e
t1=$(date +%s.%N)

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
run_s=$(elapsed "$t0" "$t1")
boot=unknown
[ -e "$run/init-seen" ] && boot="$(elapsed "$t0" "$(cat "$run/init-seen")")s"

# --- the line ----------------------------------------------------------------

field() { # the value of KEY=VALUE in a line
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n1
}
sio=$(grep -a '^SIOTEST ' "$console" | tail -n1 || true)

iommu="iommu: not reported"
if [ -s "$stats" ]; then
	# One line of KEY=VALUE pairs; the known keys first, in this order.
	s=$(head -n1 "$stats")
	iommu="iommu:"
	for k in maps unmaps translations faults; do
		v=$(field "$k" "$s")
		[ -n "$v" ] && iommu="$iommu $k=$v"
	done
	for kv in $s; do
		case "${kv%%=*}" in maps|unmaps|translations|faults) ;; *) iommu="$iommu $kv" ;; esac
	done
fi

devname=none
[ $with_device = 1 ] && devname=$bdf
if [ -z "$sio" ]; then
	why="the guest printed no result"
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then why="timed out after ${run_timeout}s"; fi
	# QEMU's own complaints, when it gave any (e.g. vfio-pci refusing the
	# device at realize): the first, which is usually the cause, and the
	# last, when it is another one.
	errs=$(grep -a 'qemu-system-x86_64: ' "$console" | grep -v ': warning: ' || true)
	first=$(printf '%s\n' "$errs" | head -n1)
	last=$(printf '%s\n' "$errs" | tail -n1)
	[ -n "$first" ] && why="$why; ${first#*qemu-system-x86_64: }"
	[ "$last" != "$first" ] && why="$why; then ${last#*qemu-system-x86_64: }"
	echo "qemu-passthrough: device=$devname accel=$accel result=no-report ($why, qemu exit $rc);" \
		"boot=$boot run=${run_s}s; $iommu; log $console"
	exit 2
fi

# The fault scenario's line: what siofault saw, what ioatdma's error
# handler read from the device, whether QEMU and the guest came through,
# whether dmatest passed on the channel afterwards, and the IOMMU's counts.
if [ $fault = 1 ]; then
	sf=$(grep -a '^SIOFAULT ' "$console" | tail -n1 || true)
	fres=$(field result "$sf"); fres=${fres:-none}
	copies=$(field copies "$sf"); size_kb=$(field size_kb "$sf")
	iova=$(field dst_iova "$sf"); [ -n "$iova" ] && iova=$(printf '0x%x' "$iova")
	before=$(field done_before_unmap "$sf"); done_n=$(field done "$sf")
	wf=$(field write_failed "$sf"); rf=$(field read_failed "$sf")
	ab=$(field aborted "$sf"); unmap_us=$(field unmap_us "$sf")
	chanerr=$(field chanerr "$sf"); chanerr=${chanerr:-0x0}
	chanerr_int=$(field chanerr_int "$sf"); chanerr_int=${chanerr_int:-0x0}
	names=
	(( chanerr & 0x100 )) && names="$names+READ_DATA_ERR"
	(( chanerr & 0x200 )) && names="$names+WRITE_DATA_ERR"
	(( chanerr & ~0x300 )) && names="$names+other"
	names=${names#+}; names=${names:-none}
	ifaults=0
	[ -s "$stats" ] && ifaults=$(field faults "$(head -n1 "$stats")")
	# QEMU exits 0 at the guest's power-off, and the shim writes the stats
	# file only when the process exits normally.
	if [ "$rc" = 0 ] && [ -s "$stats" ]; then qstate=alive
	elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then qstate=timeout
	elif [ "$rc" -gt 128 ]; then qstate="killed-by-signal-$((rc - 128))"
	else qstate="exit-$rc"; fi
	if grep -a -q -E 'Oops|BUG:|Kernel panic|Call Trace' "$console"; then gstate=oops
	elif grep -a -q 'reboot: Power down' "$console"; then gstate=poweroff
	else gstate=no-poweroff; fi
	dres=$(field result "$sio")
	tests=$(field tests "$sio"); failures=$(field failures "$sio")
	verdict=fail
	if [ "$fres" = fault ] && [ "$names" = READ_DATA_ERR -o "$names" = WRITE_DATA_ERR ] &&
		[ "${ifaults:-0}" -gt 0 ] && [ $qstate = alive ] && [ $gstate = poweroff ] &&
		[ "$dres" = pass ]; then
		verdict=pass
	fi
	echo "qemu-passthrough: fault: device=$bdf accel=$accel viommu=intel-iommu result=$verdict;" \
		"siofault=$fres unmapped=${size_kb:-?}KiB@${iova:-?} after=${before:-?}/${copies:-?} copies" \
		"(unmap ${unmap_us:-?}us); dma: done=${done_n:-?} write_failed=${wf:-?} read_failed=${rf:-?} aborted=${ab:-?};" \
		"chanerr=$chanerr ($names) chanerr_int=$chanerr_int;" \
		"then dmatest=$dres $((tests - failures))/$tests; qemu=$qstate guest=$gstate;" \
		"boot=$boot run=${run_s}s; $iommu"
	[ $verdict = pass ] && exit 0
	exit 1
fi

result=$(field result "$sio")
tp=$(field threads_passed "$sio"); tf=$(field threads_failed "$sio")
nt=$(field threads "$sio")
tests=$(field tests "$sio"); failures=$(field failures "$sio")
up=$(field uptime_init "$sio")
echo "qemu-passthrough: device=$devname accel=$accel result=$result" \
	"dmatest_threads=$tp/$nt passed, $tf failed;" \
	"iterations=$((tests - failures)) passed, $failures failed;" \
	"boot=$boot (guest uptime ${up}s) run=${run_s}s; $iommu"

if [ $with_device = 1 ]; then
	[ "$result" = pass ] && exit 0
else
	[ "$result" = no-channel ] && exit 0
fi
exit 1
