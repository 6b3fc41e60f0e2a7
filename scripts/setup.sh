#!/usr/bin/env bash
# Install what softiommu needs on a Debian 12 machine (idempotent).
# Only Debian packages, by name; apt-get update runs only if one is missing.
set -euo pipefail

packages=(cmake make gcc clang pkg-config libcmocka-dev liburcu-dev libcap-dev
          libclang-rt-14-dev xz-utils uuid-dev)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}" >&2
	sudo_cmd=""
	[ "$(id -u)" = 0 ] || sudo_cmd=sudo
	$sudo_cmd apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >&2
fi
