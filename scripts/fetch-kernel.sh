#!/usr/bin/env bash
# Fetch Debian's Linux 7.3 kernel packages (linux-source-7.3 and linux-libc-dev
# from trixie-backports) into a project-local cache, without touching the
# machine's apt configuration: apt-get runs with its own source list and its
# own list directory, downloads the .debs, and dpkg -x unpacks them.
#
# Usage: scripts/fetch-kernel.sh [--headers-only]
# Prints the directory that holds the unpacked trees; idempotent (cached).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${SOFTIOMMU_KERNEL_CACHE:-$here/.cache/kernel}
suite=trixie-backports
headers_only=0
[ "${1:-}" = "--headers-only" ] && headers_only=1

mkdir -p "$cache/lists/partial" "$cache/archives/partial" "$cache/debs"
list="$cache/sources.list"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb [signed-by=$keyring] http://deb.debian.org/debian $suite main" >"$list"

apt_opts=(-o "Dir::Etc::SourceList=$list" -o "Dir::Etc::SourceParts=/dev/null"
          -o "Dir::State::Lists=$cache/lists" -o "Dir::Cache::Archives=$cache/archives"
          -o "APT::Get::List-Cleanup=0" -o "Debug::NoLocking=1" -qq)

need_update=1
[ -n "$(find "$cache/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null)" ] && need_update=0
if [ $need_update = 1 ]; then
	apt-get "${apt_opts[@]}" update >&2
fi

fetch() { # package -> unpack into $cache/root
	local pkg=$1 stamp="$cache/debs/$1.unpacked"
	[ -e "$stamp" ] && return 0
	(cd "$cache/debs" && apt-get "${apt_opts[@]}" download "$pkg" >&2)
	local deb
	deb=$(ls -t "$cache/debs/${pkg}"_*.deb | head -n1)
	mkdir -p "$cache/root"
	dpkg -x "$deb" "$cache/root"
	touch "$stamp"
}

# linux-libc-dev of the backports suite is the 7.3 one; name it by version so
# that a newer upload cannot silently change what we compare against.
fetch linux-libc-dev
if [ $headers_only = 0 ]; then
	fetch linux-source-7.3
	src_tar=$(ls "$cache"/root/usr/src/linux-source-7.3.tar.* 2>/dev/null | head -n1)
	if [ -n "$src_tar" ] && [ ! -d "$cache/linux-source-7.3" ]; then
		tar -C "$cache" -xf "$src_tar" >&2
	fi
fi
echo "$cache"
