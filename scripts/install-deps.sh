#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build, test and run mnv2d, when missing.
# Runs apt-get only if something is missing; uses sudo when not root.
set -euo pipefail

PACKAGES=(
	gcc clang libclang-rt-14-dev meson ninja-build pkg-config
	check
	curl unzip ca-certificates
	libpng-dev libturbojpeg0-dev
	libevent-dev libprotobuf-c-dev protobuf-c-compiler libyaml-dev
	# the protocol documentation's Python example is run by the tests
	protobuf-compiler python3-protobuf
	# the service tests: systemd-analyze, systemd-socket-activate, systemd-sysusers/-tmpfiles
	# (no running systemd needed), setpriv, and man for the units' Documentation= check
	systemd util-linux man-db
	# scripts/run-tests.sh runs the daemon tests once under memcheck
	valgrind
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
