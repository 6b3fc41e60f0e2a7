#!/usr/bin/env bash
# Conformance: run the kernel's own selftest programs against softiommu.
#
#   --suite iommu (default): tools/testing/selftests/iommu/iommufd (or
#                            iommufd_fail_nth with --prog) of Linux 7.3;
#   --suite vfio:            the VFIO selftests of Linux 7.3
#                            (tools/testing/selftests/vfio: vfio_pci_device_test,
#                            vfio_iommufd_setup_test, vfio_dma_mapping_test, ...),
#                            every program, or one with --prog, each given the
#                            emulated device's BDF (--bdf, default the one
#                            `softiommu run` shows by default) in
#                            VFIO_SELFTESTS_BDF.
#
#  1. fetches Debian's linux-source-7.3 and linux-libc-dev 7.3
#     (scripts/fetch-kernel.sh, cached under .cache/kernel);
#  2. builds the programs with the kernel's own Makefiles (lib.mk), with
#     KHDR_INCLUDES pointing at the 7.3 uAPI headers of linux-libc-dev instead
#     of the system's older ones; the binaries are cached under
#     .cache/conformance;
#  3. reserves 2 MiB hugepages for the MAP_HUGETLB variants (best effort;
#     the previous reservation is restored at exit);
#  4. runs each program under "$SOFTIOMMU run --" (default build/softiommu;
#     "run --shared --" with --shared),
#     or directly with --direct (to test this script on a machine with a
#     real /dev/iommu, or none);
#  5. reads the kselftest harness's TAP output and prints a table per
#     program and fixture and a last line "N passed, M failed, K skipped".
#
# Every test case runs in a child process forked by the harness, which
# reports a crashing case as "not ok".  If the harness itself dies or the run
# times out, the cases that were running or had not run yet count as failed:
# the script knows every case to expect from the program's own list (-l),
# filtered as the harness filters.  A program that cannot even list its
# cases (the VFIO ones that open the device before the harness starts) is
# judged by its TAP plan, or counts as one failure when it prints none.
#
# Exit status: 0, or 1 if fewer than --floor cases passed, or 2 if the
# programs could not be built or started.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${CONFORMANCE_CACHE:-$here/.cache/conformance}
SOFTIOMMU=${SOFTIOMMU:-$here/build/softiommu}

usage() {
	cat <<EOF
Usage: scripts/conformance.sh [options] [harness filters]

  --direct            run the selftest without the softiommu launcher
  --shared            run it under "softiommu run --shared" (one /dev/iommu
                      for the whole process tree, docs/process-model.md)
  --floor N           exit 1 if fewer than N cases passed
  --filter 'OPTS'     harness filter options, e.g. --filter '-f iommufd -T map_cmd'
  -f/-F FIXTURE, -v/-V VARIANT, -t/-T TEST, -r FIXTURE.VARIANT.TEST
                      the same, one at a time (lower case: include, upper
                      case: exclude; the first matching option decides; -r
                      runs one case; with no including option, all cases
                      not excluded run)
  --timeout SECS      kill a run of the program after SECS seconds
                      (default 3600; with --isolate, 300 per case)
  --isolate           start the program once per case (-r NAME) so that a
                      crash of the harness loses only that case
  --suite NAME        iommu (default) or vfio
  --prog NAME         one program: iommufd (default) or iommufd_fail_nth for
                      the iommu suite; a VFIO selftest name for the vfio
                      suite (default: all of them)
  --bdf BDF           the device the VFIO selftests drive (default
                      0100:00:01.0, the default device of softiommu run)
  --hugepages N       2 MiB hugepages to reserve (default 300, 0: leave alone)
  --keep-hugepages    do not restore the previous reservation at exit
  --rebuild           rebuild the selftest program
  --build-only        build (and print the path of) the program, do not run
  --list              print the cases that would run, do not run
  --parse LOG         do not run; report on the output of an earlier run
  --verbose           also copy the program's output to stderr, list each
                      failed/skipped case
  -h, --help          this text

Environment: SOFTIOMMU (launcher, default build/softiommu), CC (default gcc),
CONFORMANCE_CACHE (default .cache/conformance), SOFTIOMMU_KERNEL_CACHE (see
scripts/fetch-kernel.sh).  The output of the last run is kept in
\$CONFORMANCE_CACHE/last-run.log, one line per case in last-results.txt.
EOF
}

die() { echo "conformance: $*" >&2; exit 2; }
note() { echo "conformance: $*" >&2; }

direct=0 shared=() floor="" timeout="" isolate=0 prog="" suite=iommu hugepages=300
bdf=0100:00:01.0
keep_hugepages=0 rebuild=0 build_only=0 list_only=0 parse_log="" verbose=0
filters=()   # harness filter options, in order: "-f" "name" ...

add_filter() { # option, argument
	case "$1" in
	-f | -F | -v | -V | -t | -T | -r) ;;
	*) die "unsupported harness filter option '$1' (the 7.3 harness knows -f -F -v -V -t -T -r)" ;;
	esac
	[ -n "${2:-}" ] || die "filter option $1 needs a name"
	filters+=("$1" "$2")
}

while [ $# -gt 0 ]; do
	case "$1" in
	--direct) direct=1 ;;
	--shared) shared=(--shared) ;;
	--floor) floor=${2:?--floor needs a number}; shift ;;
	--floor=*) floor=${1#*=} ;;
	--filter | --filter=*)
		if [ "$1" = --filter ]; then f=${2:?--filter needs options}; shift; else f=${1#*=}; fi
		read -r -a words <<<"$f"
		[ $((${#words[@]} % 2)) -eq 0 ] || die "--filter '$f': every option needs a name"
		for ((i = 0; i < ${#words[@]}; i += 2)); do
			add_filter "${words[i]}" "${words[i + 1]}"
		done ;;
	-f | -F | -v | -V | -t | -T | -r) add_filter "$1" "${2:-}"; shift ;;
	--timeout) timeout=${2:?--timeout needs seconds}; shift ;;
	--timeout=*) timeout=${1#*=} ;;
	--isolate) isolate=1 ;;
	--prog) prog=${2:?--prog needs a name}; shift ;;
	--prog=*) prog=${1#*=} ;;
	--suite) suite=${2:?--suite needs a name}; shift ;;
	--suite=*) suite=${1#*=} ;;
	--bdf) bdf=${2:?--bdf needs a BDF}; shift ;;
	--bdf=*) bdf=${1#*=} ;;
	--hugepages) hugepages=${2:?--hugepages needs a number}; shift ;;
	--hugepages=*) hugepages=${1#*=} ;;
	--keep-hugepages) keep_hugepages=1 ;;
	--rebuild) rebuild=1 ;;
	--build-only) build_only=1 ;;
	--list) list_only=1 ;;
	--parse) parse_log=${2:?--parse needs a log file}; shift ;;
	--parse=*) parse_log=${1#*=} ;;
	--verbose) verbose=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown option '$1'" ;;
	esac
	shift
done

vfio_progs=(vfio_pci_device_test vfio_iommufd_setup_test vfio_dma_mapping_test
	vfio_dma_mapping_mmio_test vfio_pci_driver_test vfio_pci_device_init_perf_test
	vfio_pci_sriov_uapi_test)
case "$suite" in
iommu)
	prog=${prog:-iommufd}
	case "$prog" in iommufd | iommufd_fail_nth) ;; *) die "--prog must be iommufd or iommufd_fail_nth" ;; esac
	progs=("$prog") sdir=iommu ;;
vfio)
	if [ -n "$prog" ]; then
		[[ " ${vfio_progs[*]} " == *" $prog "* ]] || die "--prog: no VFIO selftest '$prog' (${vfio_progs[*]})"
		progs=("$prog")
	else
		progs=("${vfio_progs[@]}")
	fi
	sdir=vfio ;;
*) die "--suite must be iommu or vfio" ;;
esac
for n in ${floor:+"$floor"} ${timeout:+"$timeout"} "$hugepages"; do
	[[ "$n" =~ ^[0-9]+$ ]] || die "'$n' is not a number"
done
[ -n "$timeout" ] || { [ $isolate = 1 ] && timeout=300 || timeout=3600; }

# --------------------------------------------------------------------------
# Build

ensure_libuuid() {
	local cc=${CC:-gcc}
	if printf '#include <uuid/uuid.h>\n' | "$cc" -E -x c - >/dev/null 2>&1; then
		return 0
	fi
	[ "$(id -u)" = 0 ] || die "uuid-dev is missing: run 'sudo apt-get install -y uuid-dev'"
	note "installing uuid-dev (needed by the VFIO selftests)"
	apt-get install -y uuid-dev >&2 || { apt-get update >&2 && apt-get install -y uuid-dev >&2; } ||
		die "could not install uuid-dev"
}

ensure_libcap() {
	local cc=${CC:-gcc}
	if printf '#include <sys/capability.h>\n' | "$cc" -E -x c - >/dev/null 2>&1; then
		return 0
	fi
	[ "$(id -u)" = 0 ] || die "libcap-dev is missing: run 'sudo apt-get install -y libcap-dev'"
	note "installing libcap-dev (needed by the selftest)"
	apt-get install -y libcap-dev >&2 || { apt-get update >&2 && apt-get install -y libcap-dev >&2; } ||
		die "could not install libcap-dev"
}

bindir="$cache/bin-$suite"

build() {
	local kcache ksrc khdr cc multiarch khdr_includes stamp want p targets=()
	kcache=$("$here/scripts/fetch-kernel.sh") || die "scripts/fetch-kernel.sh failed"
	ksrc="$kcache/linux-source-7.3"
	khdr="$kcache/root/usr/include"
	for p in "${progs[@]}"; do
		[ -f "$ksrc/tools/testing/selftests/$sdir/$p.c" ] || die "no selftest source $p.c in $ksrc"
		targets+=("$bindir/$p")
	done
	[ -f "$khdr/linux/iommufd.h" ] || die "no linux-libc-dev 7.3 headers in $khdr"
	ensure_libcap
	[ "$suite" = vfio ] && ensure_libuuid
	cc=${CC:-gcc}
	# lib.mk compiles with KHDR_INCLUDES (normally "-isystem usr/include" of a
	# "make headers" tree): use linux-libc-dev 7.3 instead, with its
	# architecture directory for asm/, so that the 7.3 uAPI wins over the
	# system's older linux-libc-dev.
	khdr_includes="-isystem $khdr"
	multiarch=$("$cc" -print-multiarch 2>/dev/null || true)
	[ -z "$multiarch" ] && command -v dpkg-architecture >/dev/null &&
		multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || true)
	if [ -n "$multiarch" ] && [ -d "$khdr/$multiarch/asm" ]; then
		khdr_includes+=" -isystem $khdr/$multiarch"
	fi
	mkdir -p "$bindir"
	stamp="$bindir/.flags"
	want="CC=$cc KHDR_INCLUDES=$khdr_includes SRC=$ksrc"
	if [ $rebuild = 1 ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
		rm -f "${targets[@]}"
	fi
	note "building ${progs[*]} (the kernel's tools/testing/selftests/$sdir/Makefile)"
	make -C "$ksrc/tools/testing/selftests/$sdir" --no-print-directory V=1 \
		OUTPUT="$bindir" CC="$cc" KHDR_INCLUDES="$khdr_includes" "${targets[@]}" >&2 ||
		die "building ${progs[*]} failed"
	echo "$want" >"$stamp"
	for p in "${targets[@]}"; do
		[ -x "$p" ] || die "build did not produce $p"
	done
}

# --------------------------------------------------------------------------
# The cases to expect: the program's list (-l), filtered as the harness
# filters (test_enabled() of kselftest_harness.h), in the harness's order.

expected_cases() {
	local listing
	local launcher=()
	# The VFIO programs open the device before they can list: list them
	# where they run.
	[ "$suite" = iommu ] || [ $direct = 1 ] || launcher=("$SOFTIOMMU" run "${shared[@]}" --)
	listing=$(timeout 60 "${launcher[@]}" "$bin" -l 2>&1 >/dev/null </dev/null) || true
	# A program that failed before listing printed no separator line.
	printf '%s\n' "$listing" | grep -q '^-----' || return 0
	printf '%s\n' "$listing" | awk -v filters="$(printf '%s\n' "${filters[@]}")" '
	function trim(s) { sub(/^ +/, "", s); sub(/ +$/, "", s); return s }
	function flush(   i, j, k, nvv) {
		if (fx == "") return
		nvv = nv ? nv : 1
		for (i = 1; i <= nvv; i++)
			for (j = 1; j <= nt; j++) {
				v = nv ? var[i] : ""
				name = fx "." (v != "" ? v "." : "") tst[j]
				if (enabled(fx, v, tst[j], name)) print name
			}
		fx = ""; nv = 0; nt = 0
	}
	function enabled(f, v, t, full,   i, o, a, pos) {
		pos = 0
		for (i = 1; i < nf; i += 2) {
			o = fo[i]; a = fo[i + 1]
			if (o ~ /^-[ftvr]$/) pos = 1
			if (o == "-t" && a == t) return 1
			if (o == "-T" && a == t) return 0
			if (o == "-f" && a == f) return 1
			if (o == "-F" && a == f) return 0
			if (o == "-v" && a == v) return 1
			if (o == "-V" && a == v) return 0
			if (o == "-r" && a == full) return 1
		}
		return !pos
	}
	BEGIN { nf = split(filters, fo, "\n"); if (fo[nf] == "") nf-- }
	/^# FIXTURE/ { next }
	/^-----/ { flush(); next }
	{
		line = $0
		if (substr(line, 1, 1) != " ") {   # first line of a fixture
			flush()
			fx = $1
			w = length(fx) > 20 ? length(fx) : 20
			rest = substr(line, w + 2)
		} else {
			rest = substr(line, 22)
		}
		if (substr(rest, 1, 1) == " ") { v = ""; t = trim(rest) }
		else { v = rest; sub(/ .*/, "", v); t = trim(substr(rest, length(v) + 1)) }
		if (v != "") var[++nv] = v
		if (t != "") tst[++nt] = t
	}
	END { flush() }'
}

# --------------------------------------------------------------------------
# Running

hp_file="" hp_restore=""
# shellcheck disable=SC2317  # called from the EXIT trap
restore_hugepages() {
	if [ -n "$hp_restore" ] && [ "$keep_hugepages" = 0 ]; then
		{ echo "$hp_restore" >"$hp_file"; } 2>/dev/null || true
	fi
}

reserve_hugepages() {
	local cur total
	[ "$hugepages" -gt 0 ] || return 0
	hp_file=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
	[ -w "$hp_file" ] || [ -e "$hp_file" ] || hp_file=/proc/sys/vm/nr_hugepages
	cur=$(cat "$hp_file" 2>/dev/null) || { note "no hugepage support; MAP_HUGETLB variants will fail"; return 0; }
	if [ "$cur" -lt "$hugepages" ]; then
		if { echo "$hugepages" >"$hp_file"; } 2>/dev/null; then
			hp_restore=$cur
			trap restore_hugepages EXIT
		fi
	fi
	total=$(cat "$hp_file" 2>/dev/null || echo 0)
	if [ "$total" -lt "$hugepages" ]; then
		note "only $total of $hugepages 2 MiB hugepages reserved; MAP_HUGETLB variants may fail"
	else
		note "$total 2 MiB hugepages reserved"
	fi
}

# Runs one command in a new session, with a time limit; afterwards kills any
# process left in that session (test cases the harness forked and then lost).
run_session() { # log, command...
	local log=$1 rc=0 sid left
	shift
	if [ $verbose = 1 ]; then
		setsid -w timeout -k 10 "$timeout" "$@" </dev/null > >(tee -a "$log" >&2) 2>&1 &
	else
		setsid -w timeout -k 10 "$timeout" "$@" </dev/null >>"$log" 2>&1 &
	fi
	# Without job control a background job is no process-group leader, so
	# setsid(1) calls setsid() itself: the session's ID is its PID.
	sid=$!
	wait "$sid" || rc=$?
	# bash >= 5.1: a plain wait also waits for the process substitution (tee)
	[ $verbose = 0 ] || wait 2>/dev/null || true
	left=$(pgrep -s "$sid" 2>/dev/null || true)
	# shellcheck disable=SC2086
	[ -z "$left" ] || kill -KILL $left 2>/dev/null || true
	return $rc
}

run_program() { # log, expected-cases file
	local log=$1 cases=$2 rc=0 launcher=() name
	[ $direct = 1 ] || launcher=("$SOFTIOMMU" run "${shared[@]}" --)
	: >"$log"
	if [ $isolate = 1 ]; then
		while IFS= read -r name; do
			rc=0
			run_session "$log" "${launcher[@]}" "$bin" -r "$name" || rc=$?
			[ $rc -lt 124 ] || echo "# conformance: $name: run ended with status $rc (timeout: 124/137)" >>"$log"
		done <"$cases"
	else
		run_session "$log" "${launcher[@]}" "$bin" "${filters[@]}" || rc=$?
		if [ $rc = 124 ] || [ $rc = 137 ]; then
			note "the run timed out after ${timeout}s"
		elif [ $rc -gt 128 ]; then
			note "the program died (status $rc)"
		fi
	fi
}

# --------------------------------------------------------------------------
# Parsing the TAP output of the kselftest harness:
#   1..N                                       plan
#   #  RUN           fixture[.variant].test ...  a case starts
#   ok N fixture[.variant].test                passed
#   ok N name # SKIP reason                    skipped
#   ok N name # XFAIL reason / # XPASS reason  expected failure / unexpected
#                                              pass: the harness counts both
#                                              as passed, so do we
#   not ok N name [#  reason]                  failed (also: crashed, timed out)
# Writes "STATUS<TAB>fixture<TAB>case<TAB>detail" lines, in expected order.

classify() { # expected-cases file, log [, prefix for the fixture column]
	awk -F'\n' -v prefix="${3:-}" -v casesfile="$1" '
	function fixture(n) { sub(/\..*/, "", n); return prefix n }
	function emit(st, n, d) { printf "%s\t%s\t%s\t%s\n", st, fixture(n), n, d }
	# The expected cases are read here, not as a first input file: an
	# empty one would make FNR == NR true for the log.
	BEGIN { while ((getline c < casesfile) > 0) if (c != "") { want[++ne] = c; iswant[c] = 1 } }
	/^1\.\.0 # SKIP/ { skipall = $0; sub(/^1\.\.0 # SKIP */, "", skipall); next }
	/^1\.\.[0-9]+/ { plan += substr($0, 4) + 0; next }
	/^# +RUN +[^ ]+ \.\.\.$/ { split($0, w, / +/); inflight = w[3]; started[w[3]] = 1; next }
	/^(not )?ok [0-9]+ [^ ]+/ {
		split($0, w, / +/)
		notok = (w[1] == "not")
		n = notok ? w[4] : w[3]
		rest = $0; sub(/^(not )?ok [0-9]+ [^ ]+ ?/, "", rest)
		if (notok) { st = "FAIL"; d = rest; sub(/^# */, "", d) }
		else if (rest ~ /^# SKIP/) { st = "SKIP"; d = rest; sub(/^# SKIP */, "", d) }
		else if (rest ~ /^# XFAIL/) { st = "XFAIL"; d = rest; sub(/^# XFAIL */, "", d) }
		else if (rest ~ /^# XPASS/) { st = "XPASS"; d = rest; sub(/^# XPASS */, "", d) }
		else { st = "PASS"; d = "" }
		if (!(n in res)) order[++nr] = n
		res[n] = st; det[n] = d
		if (n == inflight) inflight = ""
		next
	}
	END {
		if (ne == 0) {
			for (i = 1; i <= nr; i++) emit(res[order[i]], order[i], det[order[i]])
			missing = plan - nr
			if (missing > 0 && inflight != "") {
				emit("CRASH", inflight, "no result: the harness died or timed out while running it")
				missing--
			}
			for (i = 1; i <= missing; i++)
				emit("NOTRUN", "(not run)", "no result: the harness stopped before it")
			if (plan == 0 && nr == 0 && skipall != "")
				emit("SKIP", "(all)", skipall)
			else if (plan == 0 && nr == 0)
				emit("NOTRUN", "(harness)", "no TAP output at all")
			exit
		}
		for (i = 1; i <= ne; i++) {
			n = want[i]
			if (n in res) emit(res[n], n, det[n])
			else if (n in started) emit("CRASH", n, "no result: the harness died or timed out while running it")
			else emit("NOTRUN", n, "no result: the harness stopped before it")
		}
		for (i = 1; i <= nr; i++)
			if (!(order[i] in iswant)) emit(res[order[i]], order[i], det[order[i]] " (unexpected case)")
	}' "$2"
}

report() { # results file
	awk -F'\t' -v verbose="$verbose" '
	{
		f = $2
		if (!(f in seen)) { seen[f] = 1; fx[++n] = f }
		if ($1 == "PASS" || $1 == "XFAIL" || $1 == "XPASS") p[f]++
		else if ($1 == "SKIP") s[f]++
		else { x[f]++; if ($1 != "FAIL") lost++ }
		if (verbose && $1 != "PASS") detail[++nd] = sprintf("  %-6s %s%s", $1, $3, $4 != "" ? "  (" $4 ")" : "")
	}
	END {
		w = 7
		for (i = 1; i <= n; i++) if (length(fx[i]) > w) w = length(fx[i])
		hfmt = "%-" w "s %7s %7s %7s\n"; rfmt = "%-" w "s %7d %7d %7d\n"
		printf hfmt, "fixture", "passed", "failed", "skipped"
		for (i = 1; i <= n; i++) {
			f = fx[i]
			printf rfmt, f, p[f], x[f], s[f]
			tp += p[f]; tx += x[f]; ts += s[f]
		}
		printf rfmt, "total", tp, tx, ts
		if (lost) printf "(%d of the failed cases have no result: the harness died, timed out or stopped before them)\n", lost
		for (i = 1; i <= nd; i++) print detail[i]
	}' "$1"
}

totals() { # results file -> "passed failed skipped"
	awk -F'\t' '
	$1 == "PASS" || $1 == "XFAIL" || $1 == "XPASS" { p++; next }
	$1 == "SKIP" { s++; next }
	{ x++ }
	END { printf "%d %d %d\n", p, x, s }' "$1"
}

# --------------------------------------------------------------------------

mkdir -p "$cache"
if [ -n "$parse_log" ]; then
	[ -r "$parse_log" ] || die "cannot read $parse_log"
	[ ${#progs[@]} = 1 ] || die "--parse needs --prog"
fi
build
if [ $build_only = 1 ]; then
	for p in "${progs[@]}"; do echo "$bindir/$p"; done
	exit 0
fi
if [ -z "$parse_log" ] && [ $list_only = 0 ] && [ $direct = 0 ] &&
	{ [ ! -f "$SOFTIOMMU" ] || [ ! -x "$SOFTIOMMU" ]; }; then
	die "launcher $SOFTIOMMU not found: build softiommu, set SOFTIOMMU=..., or use --direct"
fi
[ "$suite" = vfio ] && export VFIO_SELFTESTS_BDF="$bdf"
[ -n "$parse_log" ] || [ $list_only = 1 ] || reserve_hugepages

results="$cache/last-results-$suite.txt"
: >"$results"
for p in "${progs[@]}"; do
	bin="$bindir/$p"
	cases="$cache/expected-cases-$p.txt"
	expected_cases >"$cases"
	ncases=$(grep -c . "$cases" || true)
	if [ $list_only = 1 ]; then
		cat "$cases"
		continue
	fi
	[ "$ncases" -gt 0 ] || note "$p: could not list the cases; relying on the TAP plan"
	log="$cache/last-run-$p.log"
	if [ -n "$parse_log" ]; then
		log=$parse_log
	else
		mode=$([ $direct = 1 ] && echo "directly" || echo "under $SOFTIOMMU run ${shared[*]}")
		note "running $ncases cases of $p $mode (log: $log)"
		run_program "$log" "$cases"
	fi
	if ! grep -q '^1\.\.[0-9]' "$log"; then
		note "$p printed no TAP plan; the log begins:"
		head -n 5 "$log" | sed 's/^/    /' >&2
	fi
	prefix=""
	[ "$suite" = iommu ] || prefix="$p: "
	classify "$cases" "$log" "$prefix" >>"$results"
done
[ $list_only = 0 ] || exit 0

report "$results"
read -r npass nfail nskip < <(totals "$results")

status=0
if [ -n "$floor" ] && [ "$npass" -lt "$floor" ]; then
	echo "FLOOR NOT MET: $npass passed, at least $floor required"
	status=1
fi
echo "$npass passed, $nfail failed, $nskip skipped"
exit $status
