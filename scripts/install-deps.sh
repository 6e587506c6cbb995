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
	# the aarch64 cross build of the engine and its tests under qemu-user
	# (cross/aarch64-linux-gnu.ini); Check for arm64 comes from the arm64 multiarch, added
	# below, and brings the arm64 C library the tests run with
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
	check:arm64
)
# scripts/vm-test.sh: a QEMU guest with the distribution kernel, whose vivid module is a
# V4L2 camera that exports dmabufs (camera-loop --device, mnv2d's dmabuf path). Installed
# on their own: a kernel package's scripts can fail in some containers, and then only that
# test step is skipped, not the build.
VM_PACKAGES=(qemu-system-x86 linux-image-amd64 busybox-static cpio kmod)

missing_of() { # the packages named that are not installed
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			echo "$p"
	done
}
mapfile -t missing < <(missing_of "${PACKAGES[@]}")
mapfile -t vm_missing < <(missing_of "${VM_PACKAGES[@]}")
if [ ${#missing[@]} -eq 0 ] && [ ${#vm_missing[@]} -eq 0 ]; then
	echo "install-deps: all $((${#PACKAGES[@]} + ${#VM_PACKAGES[@]})) packages present"
	exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# arm64 packages (check:arm64) need the arm64 multiarch: added once, before the update
if [[ " ${missing[*]} " == *":arm64 "* ]] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
	$SUDO dpkg --add-architecture arm64
fi
$SUDO apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ${#vm_missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${vm_missing[*]} (for scripts/vm-test.sh)"
	$SUDO apt-get install -y -qq --no-install-recommends "${vm_missing[@]}" ||
		echo "install-deps: warning: ${vm_missing[*]} did not install; scripts/vm-test.sh" \
			"will skip" >&2
fi
